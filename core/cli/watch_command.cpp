// watch and relay: join a swarm from a link. Watching writes the verified stream; relaying only forwards.
#include <cstdio>

#include "commands.hpp"
#include "console.hpp"
#include "output_file.hpp"
#include "p2plive/viewer.hpp"

namespace p2plive::cli {
namespace {

struct WatchOptions {
  std::string link, listen = "0.0.0.0:0", out, stats;
  double duration_s = 0;
  bool verbose = false;
};

int run_watch(const WatchOptions& o, bool relay) {
  auto link = Link::parse(o.link);
  if (!link) return fail("link", link.error());
  auto listen = Endpoint::parse(o.listen);
  if (!listen) return fail("--listen " + o.listen, listen.error());

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
  config.log = stderr_log(o.verbose);
  if (out) config.sink = [out](std::span<const std::uint8_t> bytes, bool) { out->write(bytes); };
  auto viewer = Viewer::start(config);
  if (!viewer) return fail(std::string(relay ? "relay" : "watch") + " on " + o.listen, viewer.error());

  std::optional<std::chrono::milliseconds> duration;
  if (o.duration_s > 0) duration = std::chrono::milliseconds(static_cast<long long>(o.duration_s * 1000));
  wait_until_stopped(duration);
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
  if (!relay) cmd->add_option("--out", o->out, "Write the verified MPEG-TS to FILE (- for stdout)");
  cmd->add_option("--duration", o->duration_s, "Stop after this many seconds");
  cmd->add_flag("--verbose", o->verbose, "Also print informational messages");
  return [o, relay] { return run_watch(*o, relay); };
}

}  // namespace p2plive::cli
