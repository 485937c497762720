// demo: the whole thing on one machine. A broadcast of a generated test pattern (with a burnt-in clock, so
// the delay can be seen) and tone, a few local viewers that relay to each other, the first one serving the
// web page and the stream to local players, and a line of live stats a second.
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <unistd.h>

#include "commands.hpp"
#include "console.hpp"
#include "input_pump.hpp"
#include "player_launcher.hpp"
#include "status_line.hpp"
#include "p2plive/broadcaster.hpp"
#include "p2plive/media_input.hpp"
#include "p2plive/viewer.hpp"

namespace p2plive::cli {
namespace {

constexpr const char* clock_font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";  // fonts-dejavu-core

// The test pattern and a beeping tone. drawtext writes the time of day with milliseconds on each frame:
// the frame's timestamp plus the local time when the input opened, which is when the paced stream starts.
// Put the page beside a clock (it shows this computer's) to see how far behind live the picture is.
std::string test_source() {
  std::string video = "testsrc2=size=640x360:rate=30";
  if (std::filesystem::exists(clock_font)) {
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    const double since_midnight = local.tm_hour * 3600.0 + local.tm_min * 60.0 + local.tm_sec + static_cast<double>(ts.tv_nsec) / 1e9;
    char offset[32];
    std::snprintf(offset, sizeof offset, "%.3f", since_midnight);
    video += std::string(",drawtext=fontfile=") + clock_font + ":text='%{pts\\:hms\\:" + offset +
             "}':x=(w-tw)/2:y=h-th-24:fontsize=44:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=8";
  }
  return "lavfi:" + video + "[out0];sine=frequency=440:beep_factor=4:sample_rate=48000[out1]";
}

struct DemoOptions {
  int viewers = 4;
  double duration_s = 0;
  std::string input, http = default_http;
  bool http_given = false, play = false;
};

int run_demo(const DemoOptions& o) {
  auto http = Endpoint::parse(o.http);
  if (!http) return fail("--http " + o.http, http.error());
  if (!std::filesystem::exists(clock_font) && o.input.empty())
    std::fprintf(stderr, "p2plive: note: %s is missing (apt install fonts-dejavu-core), so the picture has no clock\n",
                 clock_font);

  MediaInputConfig in;
  in.url = o.input.empty() ? test_source() : o.input;
  in.video_bitrate_kbps = 1500;
  in.keyframe_interval_s = 1.0;
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

  std::vector<std::unique_ptr<Viewer>> viewers;
  for (int i = 0; i < o.viewers; ++i) {
    ViewerConfig vc{.link = link};
    vc.listen = Endpoint::loopback(0);
    vc.log = stderr_log(false);
    if (i == 0) {
      vc.http = *http;  // the first viewer is "you": it serves the page and the stream
      vc.http_any_port_if_busy = !o.http_given;
    }
    auto viewer = Viewer::start(vc);
    if (!viewer && viewer.error() == std::errc::address_in_use)
      return fail("--http " + o.http, "the TCP port is already in use; pick another with --http HOST:PORT");
    if (!viewer) return fail("demo viewer", viewer.error());
    viewers.push_back(std::move(viewer).value());
  }

  const auto base = http_url(*viewers[0]->http_endpoint());
  std::printf("p2plive demo: a test pattern with a clock and a tone, broadcast to %d local viewers\n", o.viewers);
  std::printf("page:   %s/\n", base.c_str());
  std::printf("stream: %s/stream.ts   (vlc, mpv or ffplay)\n", base.c_str());
  std::printf("link:   %s\n", link.to_string().c_str());
  std::printf("watch it from another terminal: p2plive watch '%s' --play\n",
              link.to_string().c_str());
  std::printf("Ctrl-C stops the demo.\n");
  std::fflush(stdout);

  std::optional<PlayerProcess> player;
  if (o.play) {
    player = PlayerProcess::start(base + "/stream.ts");
    if (!player)
      std::fprintf(stderr, "p2plive: --play: no media player found (looked for %s on PATH); open %s/ in a browser\n",
                   player_names, base.c_str());
  }

  // Once a second: the broadcaster's upload and your viewer's status, redrawn in place on a terminal.
  const bool tty = isatty(STDOUT_FILENO);
  auto report = [&] {
    const auto b = (*broadcaster)->stats();
    std::uint64_t playing = 0;
    for (const auto& v : viewers) playing += v->status().started ? 1 : 0;
    std::printf("%sbroadcaster: %llu peers, up %.0f kB | viewers playing: %llu/%zu | you: %s%s", tty ? "\r\033[K" : "",
                static_cast<unsigned long long>(b.peers), static_cast<double>(b.uploaded_bytes) / 1000.0,
                static_cast<unsigned long long>(playing), viewers.size(), format_status(viewers[0]->status()).c_str(),
                tty ? "" : "\n");
    std::fflush(stdout);
  };
  pump_until_stopped(**input, **broadcaster, o.duration_s, report);
  if (tty) std::printf("\n");
  player.reset();
  for (auto& v : viewers) v->stop();
  (*broadcaster)->stop();
  return 0;
}

}  // namespace

Command add_demo(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "Broadcast a test pattern to local viewers, with a web page and live stats");
  auto o = std::make_shared<DemoOptions>();
  cmd->add_option("--viewers", o->viewers, "Number of local viewers")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--duration", o->duration_s, "Stop after this many seconds (default: until Ctrl-C)");
  cmd->add_option("--input", o->input, "FFmpeg input instead of the test pattern");
  cmd->add_option_function<std::string>(
      "--http", [o](const std::string& v) { o->http = v, o->http_given = true; },
      std::string("TCP HOST:PORT for the page and the stream (default ") + default_http + ", or a free port)");
  cmd->add_flag("--play", o->play, std::string("Also open the stream in ") + player_names);
  return [o] { return run_demo(*o); };
}

}  // namespace p2plive::cli
