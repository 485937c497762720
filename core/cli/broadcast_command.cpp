// broadcast: stream any FFmpeg input to the swarm, without OBS.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>

#include "commands.hpp"
#include "console.hpp"
#include "input_pump.hpp"
#include "output_file.hpp"
#include "p2plive/broadcaster.hpp"
#include "p2plive/link.hpp"
#include "p2plive/media_input.hpp"
#include "title_file.hpp"

namespace p2plive::cli {
namespace {

struct BroadcastOptions {
  std::string key_file, input, format, listen = "0.0.0.0:7000", stats, record, now_playing;
  std::vector<std::string> trackers;
  bool loop = false, verbose = false, no_port_mapping = false, no_dht = false;
  std::vector<std::string> dht_bootstrap;
  double duration_s = 0, upload_cap_kbps = 0;
  int video_kbps = 2000;
  double keyint_s = 1.0;
};

// The link viewers use to reach this node: the address the home router forwards to us, when it mapped
// the port; else the listen address, where a wildcard becomes loopback (the streamer then makes the
// public link with `p2plive link --peer PUBLIC_IP:PORT`).
Link link_for(const SecretKey& key, const Broadcaster& broadcaster,
              const std::vector<std::string>& trackers) {
  Endpoint at = broadcaster.local_endpoint();
  if (const auto r = broadcaster.reachability(); r.external) at = *r.external;
  if (at.is_unspecified()) at = Endpoint::loopback(at.port);
  return Link{key.public_key(), {at}, trackers};
}

// Waits for the router's answer (a few seconds at most: UPnP discovery, then NAT-PMP), so that the link
// names the external address, then prints the link on stdout and what the router said on stderr. It runs
// beside the input pump: the stream starts at once.
void announce_link(const SecretKey& key, const Broadcaster& broadcaster,
                   const std::vector<std::string>& trackers, const std::atomic<bool>& stopping) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  while (broadcaster.reachability().state == Reachability::State::probing && !stopping &&
         std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::printf("%s\n", link_for(key, broadcaster, trackers).to_string().c_str());
  std::fflush(stdout);
  const auto r = broadcaster.reachability();
  if (r.state != Reachability::State::local) std::fprintf(stderr, "p2plive: %s\n", describe(r).c_str());
}

int run_broadcast(const BroadcastOptions& o) {
  auto key = SecretKey::load(o.key_file);
  if (!key) return fail("key " + o.key_file, key.error());
  auto listen = Endpoint::parse(o.listen);
  if (!listen) return fail("--listen " + o.listen, listen.error());

  MediaInputConfig in;
  in.url = o.input;
  in.format = o.format;
  in.loop = o.loop;
  in.video_bitrate_kbps = o.video_kbps;
  in.keyframe_interval_s = o.keyint_s;
  // While opening, keep FFmpeg's reason for a failure so the one error line can say it.
  auto reason = std::make_shared<std::string>();
  auto opened = std::make_shared<std::atomic<bool>>(false);
  in.log = [reason, opened, print = stderr_log(o.verbose)](LogLevel level, std::string_view message) {
    if (level == LogLevel::error && !*opened) *reason = message;
    else print(level, message);
  };
  auto input = MediaInput::open(in);
  *opened = true;
  if (!input) return fail("input " + o.input, reason->empty() ? input.error().message() : *reason + "; " + input.error().message());

  std::shared_ptr<OutputFile> record;
  if (!o.record.empty()) {
    auto file = OutputFile::open(o.record);
    if (!file) return fail("--record " + o.record, file.error());
    record = *file;
  }

  if (!o.now_playing.empty()) {
    std::error_code ec;
    if (std::filesystem::is_directory(o.now_playing, ec))
      return fail("--now-playing " + o.now_playing,
                  "is a folder; give the text file your DJ software writes the title to");
    if (!std::filesystem::exists(o.now_playing, ec))
      std::fprintf(stderr, "p2plive: --now-playing %s does not exist yet; titles start when it appears\n",
                   o.now_playing.c_str());
  }

  block_stop_signals();
  BroadcasterConfig config{.key = *key};
  config.listen = *listen;
  config.trackers = o.trackers;
  config.stats_path = o.stats;
  config.upload_cap_bps = o.upload_cap_kbps * 1000;
  config.port_mapping = !o.no_port_mapping;
  config.dht = !o.no_dht;
  config.dht_bootstrap = o.dht_bootstrap;
  config.log = stderr_log(o.verbose);
  config.titles = !o.now_playing.empty();
  if (record) config.on_published = [record](std::span<const std::uint8_t> bytes, bool) { record->write(bytes); };
  auto broadcaster = Broadcaster::start(config, (*input)->streams());
  if (!broadcaster) return fail("broadcast on " + o.listen, broadcaster.error());

  std::optional<TitleFile> titles;
  if (config.titles)
    titles.emplace(o.now_playing,
                   [b = broadcaster->get()](std::string title) { b->set_now_playing(std::move(title)); });
  std::atomic<bool> pumped{false};
  std::thread announcer([&] { announce_link(*key, **broadcaster, o.trackers, pumped); });
  pump_until_stopped(**input, **broadcaster, o.duration_s);
  pumped = true;
  announcer.join();
  titles.reset();
  (*broadcaster)->stop();
  return 0;
}

}  // namespace

Command add_broadcast(CLI::App& app) {
  auto* cmd = app.add_subcommand("broadcast", "Broadcast any FFmpeg input (file, lavfi:GRAPH, pipe:0, srt://...)");
  auto o = std::make_shared<BroadcastOptions>();
  cmd->add_option("--key", o->key_file, "Broadcaster key file (from p2plive keygen)")->required();
  cmd->add_option("--input", o->input, "FFmpeg input URL; lavfi:GRAPH for a filter graph")->required();
  cmd->add_option("--format", o->format, "Force the input format (e.g. mpegts, flv)");
  cmd->add_option("--listen", o->listen, "UDP HOST:PORT to listen on")->capture_default_str();
  cmd->add_option("--tracker", o->trackers, "Tracker URL (repeatable)");
  cmd->add_option("--stats", o->stats, "Append one JSON stats line a second to FILE");
  cmd->add_option("--record", o->record, "Also write the published MPEG-TS to FILE");
  cmd->add_option(
      "--now-playing", o->now_playing,
      "Text file whose first line is the track now playing (as DJ software writes it); it travels "
      "in the stream as timed ID3");
  cmd->add_flag("--loop", o->loop, "Loop a file input");
  cmd->add_flag("--no-port-mapping", o->no_port_mapping,
                "Do not ask the router to forward the port (UPnP, NAT-PMP)");
  cmd->add_flag("--no-dht", o->no_dht, "Do not use the Mainline DHT");
  cmd->add_option("--dht-bootstrap", o->dht_bootstrap,
                  "DHT node HOST:PORT to join through (repeatable; replaces BitTorrent's public routers)");
  cmd->add_option("--upload-cap", o->upload_cap_kbps, "Upload at most this many kbit/s (0: no cap)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--duration", o->duration_s, "Stop after this many seconds");
  cmd->add_option("--video-bitrate", o->video_kbps, "Video bitrate in kbit/s when encoding")->capture_default_str();
  cmd->add_option("--keyint", o->keyint_s, "Keyframe interval in seconds when encoding")->capture_default_str();
  cmd->add_flag("--verbose", o->verbose, "Also print informational messages");
  return [o] { return run_broadcast(*o); };
}

}  // namespace p2plive::cli
