// demo: the whole thing on one machine. A broadcast of a generated test pattern and tone, a few local
// viewers that relay to each other, and a line of live stats a second.
#include <cstdio>

#include "commands.hpp"
#include "console.hpp"
#include "input_pump.hpp"
#include "p2plive/broadcaster.hpp"
#include "p2plive/media_input.hpp"
#include "p2plive/viewer.hpp"


namespace p2plive::cli {
namespace {

constexpr const char* default_source =
    "lavfi:testsrc2=size=640x360:rate=30[out0];sine=frequency=440:beep_factor=4:sample_rate=48000[out1]";

struct DemoOptions {
  int viewers = 4;
  double duration_s = 0;
  std::string input = default_source;
};

int run_demo(const DemoOptions& o) {
  MediaInputConfig in;
  in.url = o.input;
  in.video_bitrate_kbps = 1500;
  in.log = stderr_log(false);
  auto input = MediaInput::open(in);
  if (!input) return fail("demo input", input.error());

  block_stop_signals();
  BroadcasterConfig bc{.key = SecretKey::generate()};
  bc.listen = Endpoint::loopback(0);
  bc.log = stderr_log(false);
  auto broadcaster = Broadcaster::start(bc, (*input)->streams());
  if (!broadcaster) return fail("demo broadcaster", broadcaster.error());

  const Link link{bc.key.public_key(), {(*broadcaster)->local_endpoint()}, {}};
  std::printf("p2plive demo: broadcasting a test pattern to %d local viewers\n", o.viewers);
  std::printf("link: %s\n", link.to_string().c_str());
  std::printf("watch it too: p2plive watch '%s' --out demo.ts\n", link.to_string().c_str());

  std::vector<std::unique_ptr<Viewer>> viewers;
  for (int i = 0; i < o.viewers; ++i) {
    ViewerConfig vc{.link = link};
    vc.listen = Endpoint::loopback(0);
    vc.log = stderr_log(false);
    auto viewer = Viewer::start(vc);
    if (!viewer) return fail("demo viewer", viewer.error());
    viewers.push_back(std::move(viewer).value());
  }

  auto report = [&] {
    const auto b = (*broadcaster)->stats();
    std::printf("broadcaster: %llu peers, %.0f kB up |", static_cast<unsigned long long>(b.peers),
                static_cast<double>(b.uploaded_bytes) / 1000.0);
    for (std::size_t i = 0; i < viewers.size(); ++i) {
      const auto s = viewers[i]->stats();
      std::printf(" v%zu: %llu chunks, delay p50 %.0f ms", i + 1, static_cast<unsigned long long>(s.chunks_played),
                  s.delay_ms_p50);
    }
    std::printf("\n");
    std::fflush(stdout);
  };
  pump_until_stopped(**input, **broadcaster, o.duration_s, report);
  for (auto& v : viewers) v->stop();
  (*broadcaster)->stop();
  return 0;
}

}  // namespace

Command add_demo(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "Broadcast a test pattern to local viewers, with live stats");
  auto o = std::make_shared<DemoOptions>();
  cmd->add_option("--viewers", o->viewers, "Number of local viewers")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--duration", o->duration_s, "Stop after this many seconds (default: until Ctrl-C)");
  cmd->add_option("--input", o->input, "FFmpeg input instead of the test pattern");
  return [o] { return run_demo(*o); };
}

}  // namespace p2plive::cli
