// watch and relay: join a swarm from a link. Watching serves the verified stream to local players over
// HTTP (and --out, --play); relaying only forwards.
#include <cstdio>
#include <unistd.h>

#include "commands.hpp"
#include "console.hpp"
#include "output_file.hpp"
#include "player_launcher.hpp"
#include "status_line.hpp"
#include "p2plive/viewer.hpp"

namespace p2plive::cli {
namespace {

struct WatchOptions {
  std::string link, listen = "0.0.0.0:0", out, stats, http = default_http, allow_origin;
  double duration_s = 0, upload_cap_kbps = 0;
  bool verbose = false, play = false, quiet = false, http_given = false, no_upload = false;
  bool no_port_mapping = false;
  bool no_dht = false;
  std::vector<std::string> dht_bootstrap;
};

std::string join_peers(const Link& link) {
  std::string out;
  for (const auto& p : link.peers) out += (out.empty() ? "" : ", ") + p.to_string();
  return out;
}

int run_watch(const WatchOptions& o, bool relay) {
  auto link = Link::parse(o.link);
  if (!link) return fail("link", link.error());
  auto listen = Endpoint::parse(o.listen);
  if (!listen) return fail("--listen " + o.listen, listen.error());
  std::optional<Endpoint> http;
  if (!relay && o.http != "off") {
    auto parsed = Endpoint::parse(o.http);
    if (!parsed) return fail("--http " + o.http, parsed.error());
    http = *parsed;
  }
  if (o.play && !http) return fail("--play", "needs the HTTP server; drop --http off");

  std::shared_ptr<OutputFile> out;
  if (!o.out.empty()) {
    auto file = OutputFile::open(o.out);
    if (!file) return fail("--out " + o.out, file.error());
    out = *file;
  }

  block_stop_signals();
  ViewerConfig config{.link = *link};
  config.listen = *listen;
  config.relay = relay;
  config.stats_path = o.stats;
  config.upload_cap_bps = o.upload_cap_kbps * 1000;
  config.no_upload = o.no_upload;
  config.port_mapping = !o.no_port_mapping;
  config.dht = !o.no_dht;
  config.dht_bootstrap = o.dht_bootstrap;
  config.log = stderr_log(o.verbose);
  config.http = http;
  config.http_any_port_if_busy = !o.http_given;
  config.http_allow_origin = o.allow_origin;
  if (out) config.sink = [out](std::span<const std::uint8_t> bytes, bool) { out->write(bytes); };
  auto viewer = Viewer::start(config);
  if (!viewer) {
    if (viewer.error() == std::errc::address_in_use)
      return fail("--http " + o.http, "the TCP port is already in use; pick another with --http HOST:PORT (or --http off)");
    if (viewer.error().category() != error_category())
      return fail("--http " + o.http, viewer.error().message() + "; check --http HOST:PORT");
    return fail(std::string(relay ? "relay" : "watch") + " on " + o.listen, viewer.error());
  }

  std::optional<PlayerProcess> player;
  if (auto at = (*viewer)->http_endpoint()) {
    const auto base = http_url(*at);
    if (!o.quiet) {
      std::fprintf(stderr, "p2plive: watching at %s/ (web page)  %s/stream.ts (VLC, mpv, ffplay)  %s/live.m3u8 (HLS)\n",
                   base.c_str(), base.c_str(), base.c_str());
    }
    if (o.play) {
      player = PlayerProcess::start(base + "/stream.ts");
      if (!player) {
        (*viewer)->stop();
        return fail("--play", std::string("no media player found (looked for ") + player_names +
                                  " on PATH); install one (apt install mpv), or open " + base + "/ in a browser");
      }
      if (!o.quiet) std::fprintf(stderr, "p2plive: playing in %s\n", player->name().c_str());
    }
  }

  std::optional<std::chrono::milliseconds> duration;
  if (o.duration_s > 0) duration = std::chrono::milliseconds(static_cast<long long>(o.duration_s * 1000));
  std::atomic<bool> player_closed{false};
  {
    StatusReporter status(!o.quiet && isatty(STDERR_FILENO), join_peers(*link));
    std::string shown_title;
    wait_until_stopped(duration, &player_closed, [&] {
      const auto now = (*viewer)->status();
      status.update(now);
      if (player && now.stats.now_playing != shown_title) {
        shown_title = now.stats.now_playing;
        player->show_title(shown_title);
      }
      if (player && player->exited()) player_closed = true;  // closing the player ends the watch
    });
  }
  player.reset();
  (*viewer)->stop();
  return 0;
}

}  // namespace

Command add_watch(CLI::App& app, bool relay) {
  auto* cmd = relay ? app.add_subcommand("relay", "Join a swarm to add upload capacity, without playing")
                    : app.add_subcommand("watch", "Watch a stream from its link");
  auto o = std::make_shared<WatchOptions>();
  cmd->add_option("link", o->link, "The viewer link (p2plive:1:...)")->required();
  cmd->add_option("--listen", o->listen, "UDP HOST:PORT to listen on")->capture_default_str();
  cmd->add_option("--stats", o->stats, "Append one JSON stats line a second to FILE");
  if (!relay) {
    cmd->add_option("--out", o->out, "Write the verified MPEG-TS to FILE (- for stdout)");
    cmd->add_option_function<std::string>(
           "--http", [o](const std::string& v) { o->http = v, o->http_given = true; },
           std::string("Serve the stream, HLS, stats and a web player on TCP HOST:PORT, or off (default ") +
               default_http + ", or a free port if that is taken)");
    cmd->add_option("--allow-origin", o->allow_origin,
                    "Let pages of this web origin (https://example.org, or * for any) read the stream and stats; none by default")
        ->check([](const std::string& v) {
          const bool ok = v == "*" || ((v.starts_with("http://") || v.starts_with("https://")) &&
                          v.find_first_of(" \r\n\t,") == std::string::npos);
          return ok ? std::string() : std::string("an origin such as https://example.org");
        });
    cmd->add_flag("--play", o->play, std::string("Open the stream in ") + player_names + ", the first one found");
    cmd->add_flag("--quiet", o->quiet, "No status line or addresses, only warnings and errors");
  }
  cmd->add_option("--upload-cap", o->upload_cap_kbps, "Upload at most this many kbit/s (0: no cap)")
      ->check(CLI::NonNegativeNumber);
  if (!relay) cmd->add_flag("--no-upload", o->no_upload, "Forward nothing to other viewers");
  cmd->add_flag("--no-port-mapping", o->no_port_mapping,
                "Do not ask the router to forward the port (UPnP, NAT-PMP)");
  cmd->add_flag("--no-dht", o->no_dht, "Do not use the Mainline DHT");
  cmd->add_option("--dht-bootstrap", o->dht_bootstrap,
                  "DHT node HOST:PORT to join through (repeatable; replaces BitTorrent's public routers)");
  cmd->add_option("--duration", o->duration_s, "Stop after this many seconds");
  cmd->add_flag("--verbose", o->verbose, "Also print informational messages");
  return [o, relay] { return run_watch(*o, relay); };
}

}  // namespace p2plive::cli
