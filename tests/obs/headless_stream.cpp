// headless_stream: real libobs, no UI. Renders a color source (OpenGL under X/Xvfb) and a sine tone, encodes
// them with OBS's own x264 and AAC encoders, and streams through the p2p-live module's service and output.
//
//   headless_stream --plugin BUILD/plugin/p2p-live.so --key-file KEY --listen 127.0.0.1:7000 --seconds 15
//
// stdout carries only protocol lines for the test script:
//   LISTENING <listen>   once the output has started (then LINK <viewer link>); STARTED for other outputs
//   STATS <json>         every --stats-every seconds while streaming: the output's get_stats
//   TITLE <text>         when --titles puts the next title into the "Now playing" text source
//   STOPPED code=<obs stop code> bytes=<uploaded> frames=<video frames> stop_ms=<stop to signal>   per stop
// Everything libobs logs goes to stderr (or --log FILE). Exit 0 on success, 1 with "error: ..." otherwise.
//
// --output p2p_live_audio_output streams the sound alone through the module's sound-only output.
// --output ffmpeg_muxer --out FILE.mp4 checks the libobs setup with OBS's own file output instead.
// --cycles N starts and stops the same output N times (stop, then start again, must work); --stop force or
// alternate uses obs_output_force_stop for all or every second stop.
#include <X11/Xlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <obs-module.h>
#include <obs-nix-platform.h>
#include <obs.h>
#include <util/platform.h>

#include "test_sources.hpp"

#if defined(__SANITIZE_ADDRESS__)
// Sanitizer builds: libobs unloads every module in obs_shutdown(), after which LeakSanitizer can neither
// symbolize the modules' allocations nor see memory that their globals still reference, and reports the
// third-party modules' exit-time leftovers as anonymous leaks. Keeping modules mapped (this definition
// interposes libobs's dlclose; CMake exports it) leaves real leaks, ours included, reported with names.
extern "C" int dlclose(void*) { return 0; }
#endif

namespace {

constexpr const char* obs_plugin_dir_default = "/usr/lib/x86_64-linux-gnu/obs-plugins";
constexpr const char* obs_data_dir_default = "/usr/share/obs/obs-plugins";
constexpr std::uint32_t width = test_width, height = test_height, fps = test_fps;
constexpr std::uint32_t sample_rate = test_sample_rate;

struct Options {
  std::string plugin;             // our p2p-live.so
  std::string plugin_data;        // its data folder (holds locale/)
  std::string key_file;
  std::string listen = "127.0.0.1:7000";
  std::string server;
  std::string output = "p2p_live_output";
  std::string out_file;           // for --output ffmpeg_muxer
  std::string audio_encoder = "ffmpeg_aac";
  int audio_bitrate_kbps = 128;
  std::string record_file;  // the audio encoder's packets, as the stream gets them (packet_dump)
  std::string log_file;
  std::string obs_plugin_dir = obs_plugin_dir_default;
  std::string obs_data_dir = obs_data_dir_default;
  double seconds = 10;
  double stats_every_s = 0;  // > 0: a STATS line with the output's get_stats JSON this often
  bool marks = false;        // p2plive_test_marks (A/V sync marks) instead of the colour and the sine tone
  std::vector<std::string> titles;  // --titles "A|B|...": a Text (FreeType 2) source shows each in turn
  double title_every_s = 4;
  int cycles = 1;
  std::string stop_mode = "normal";  // normal: obs_output_stop; force: obs_output_force_stop; alternate
};

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  std::fflush(stderr);
  std::exit(1);
}

void usage_and_exit() {
  std::fprintf(
      stderr,
      "usage: headless_stream --plugin P2P_LIVE_SO [--plugin-data DIR] --key-file FILE [--listen HOST:PORT]\n"
      "                       [--server TEXT] [--seconds N] [--cycles N] [--stop normal|force|alternate]\n"
      "                       [--log FILE] [--audio-encoder ffmpeg_aac|ffmpeg_opus] [--audio-bitrate KBPS]\n"
      "                       [--record FILE] [--marks] [--stats-every SECONDS]\n"
      "                       [--titles 'A|B|...' [--title-every SECONDS]]\n"
      "                       [--output ID [--out FILE]] [--obs-plugins DIR] [--obs-data DIR]\n");
  std::exit(2);
}

std::vector<std::string> split_titles(const std::string& text) {
  std::vector<std::string> titles;
  std::istringstream in(text);
  for (std::string title; std::getline(in, title, '|');) titles.push_back(title);
  return titles;
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--plugin") options.plugin = value();
    else if (arg == "--plugin-data") options.plugin_data = value();
    else if (arg == "--key-file") options.key_file = value();
    else if (arg == "--listen") options.listen = value();
    else if (arg == "--server") options.server = value();
    else if (arg == "--seconds") options.seconds = std::stod(value());
    else if (arg == "--cycles") options.cycles = std::stoi(value());
    else if (arg == "--stop") options.stop_mode = value();
    else if (arg == "--output") options.output = value();
    else if (arg == "--out") options.out_file = value();
    else if (arg == "--log") options.log_file = value();
    else if (arg == "--audio-encoder")
      options.audio_encoder = value();
    else if (arg == "--audio-bitrate")
      options.audio_bitrate_kbps = std::stoi(value());
    else if (arg == "--record")
      options.record_file = value();
    else if (arg == "--stats-every")
      options.stats_every_s = std::stod(value());
    else if (arg == "--marks")
      options.marks = true;
    else if (arg == "--titles")
      options.titles = split_titles(value());
    else if (arg == "--title-every")
      options.title_every_s = std::stod(value());
    else if (arg == "--obs-plugins") options.obs_plugin_dir = value();
    else if (arg == "--obs-data") options.obs_data_dir = value();
    else if (arg == "--help" || arg == "-h") usage_and_exit();
    else fail("unknown argument " + std::string(arg));
  }
  if (options.plugin_data.empty()) options.plugin_data = P2PLIVE_SOURCE_DATA_DIR;
  if (options.cycles < 1 || options.seconds <= 0) fail("--cycles and --seconds must be positive");
  if (options.stop_mode != "normal" && options.stop_mode != "force" && options.stop_mode != "alternate") {
    fail("--stop is normal, force or alternate");
  }
  const bool ours = options.output == "p2p_live_output" || options.output == "p2p_live_audio_output";
  if (ours && (options.plugin.empty() || options.key_file.empty())) fail("--plugin and --key-file are required");
  if (!ours && options.out_file.empty()) fail("--output " + options.output + " needs --out FILE");
  return options;
}

std::string read_key(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("cannot read the key file " + path);
  std::string line;
  std::getline(in, line);
  return line;
}

// ---- libobs log -> stderr or a file ---------------------------------------------------------------------

FILE* log_stream = stderr;

void log_to_stream(int level, const char* format, va_list args, void*) {
  if (level > LOG_INFO) return;  // no debug lines
  const char* tag = level <= LOG_ERROR ? "error" : level <= LOG_WARNING ? "warning" : "info";
  std::fprintf(log_stream, "[obs %s] ", tag);
  std::vfprintf(log_stream, format, args);
  std::fputc('\n', log_stream);
  std::fflush(log_stream);
}

// ---- output signals -------------------------------------------------------------------------------------

// An output that writes every audio packet the encoder hands it, each as a 4-byte little-endian length and
// the bytes: the encoder's own output, to compare a viewer's file with. (OBS 29.0's recording output fails on
// Opus.) The settings' "path" names the file.
struct PacketDump {
  obs_output_t* output;
  std::FILE* file;
};

void register_packet_dump_output() {
  static obs_output_info info = {};
  info.id = "packet_dump";
  info.flags = OBS_OUTPUT_AUDIO | OBS_OUTPUT_ENCODED;
  info.get_name = [](void*) { return "audio packet dump"; };
  info.create = [](obs_data_t* settings, obs_output_t* output) -> void* {
    obs_data_set_default_string(settings, "path", "");
    auto* file = std::fopen(obs_data_get_string(settings, "path"), "wb");
    return file ? new PacketDump{output, file} : nullptr;
  };
  info.destroy = [](void* data) {
    auto* dump = static_cast<PacketDump*>(data);
    std::fclose(dump->file);
    delete dump;
  };
  info.start = [](void* data) {
    auto* output = static_cast<PacketDump*>(data)->output;
    if (!obs_output_can_begin_data_capture(output, 0) || !obs_output_initialize_encoders(output, 0))
      return false;
    return obs_output_begin_data_capture(output, 0);
  };
  info.stop = [](void* data, std::uint64_t) {
    obs_output_end_data_capture(static_cast<PacketDump*>(data)->output);
  };
  info.encoded_packet = [](void* data, encoder_packet* packet) {
    auto* file = static_cast<PacketDump*>(data)->file;
    if (!packet || packet->type != OBS_ENCODER_AUDIO) return;
    const auto size = static_cast<std::uint32_t>(packet->size);
    const unsigned char length[4] = {static_cast<unsigned char>(size), static_cast<unsigned char>(size >> 8),
                                     static_cast<unsigned char>(size >> 16),
                                     static_cast<unsigned char>(size >> 24)};
    std::fwrite(length, 1, 4, file);
    std::fwrite(packet->data, 1, packet->size, file);
    std::fflush(file);
  };
  obs_register_output(&info);
}

struct OutputEvents {
  std::mutex mutex;
  std::condition_variable changed;
  int starts = 0;
  int stops = 0;
  long long last_code = 0;
  std::string last_error;

  static void on_start(void* data, calldata_t*) {
    auto* self = static_cast<OutputEvents*>(data);
    std::lock_guard lock(self->mutex);
    ++self->starts;
    self->changed.notify_all();
  }
  static void on_stop(void* data, calldata_t* params) {
    auto* self = static_cast<OutputEvents*>(data);
    std::lock_guard lock(self->mutex);
    ++self->stops;
    self->last_code = calldata_int(params, "code");
    const char* error = calldata_string(params, "last_error");
    self->last_error = error ? error : "";
    self->changed.notify_all();
  }
};

// The Text (FreeType 2) source that --titles changes: what a DJ's now-playing tool writes into.
constexpr const char* title_source_name = "Now playing";

void show_title(obs_source_t* text, const std::string& title) {
  obs_data_t* settings = obs_data_create();
  obs_data_set_string(settings, "text", title.c_str());
  obs_source_update(text, settings);
  obs_data_release(settings);
}

// Waits out --seconds of streaming, printing "STATS <json>" from the output's get_stats every --stats-every
// seconds (a long benchmark's record of the broadcaster), and showing the next --titles every
// --title-every seconds (a TITLE line says when). False if the output stopped by itself.
bool stream_until_due(obs_output_t* output, OutputEvents& events, int cycle, const Options& options,
                      obs_source_t* titles) {
  using clock = std::chrono::steady_clock;
  auto after = [](double s) {
    return std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(s));
  };
  const auto start = clock::now();
  const auto until = start + after(options.seconds);
  auto next_stats =
      options.stats_every_s > 0 ? start + after(options.stats_every_s) : clock::time_point::max();
  auto next_title = titles ? start + after(options.title_every_s) : clock::time_point::max();
  std::size_t shown = 1;  // the first title is on from the start
  while (true) {
    {
      std::unique_lock lock(events.mutex);
      const auto wake = std::min({next_stats, next_title, until});
      if (events.changed.wait_until(lock, wake, [&] { return events.stops > cycle; })) return false;
    }
    const auto now = clock::now();
    if (now >= until) return true;
    if (now >= next_title) {
      next_title += after(options.title_every_s);
      if (shown < options.titles.size()) {
        show_title(titles, options.titles[shown]);
        std::printf("TITLE %s\n", options.titles[shown++].c_str());
        std::fflush(stdout);
      }
    }
    if (now >= next_stats) {
      next_stats += after(options.stats_every_s);
      calldata_t params = {};
      proc_handler_call(obs_output_get_proc_handler(output), "get_stats", &params);
      const char* json = calldata_string(&params, "json");
      std::printf("STATS %s\n", json ? json : "{}");
      std::fflush(stdout);
      calldata_free(&params);
    }
  }
}

// ---- libobs setup ---------------------------------------------------------------------------------------

void load_module(const std::string& binary, const std::string& data) {
  obs_module_t* module = nullptr;
  const int code = obs_open_module(&module, binary.c_str(), data.c_str());
  if (code != MODULE_SUCCESS) fail("obs_open_module(" + binary + ") failed with code " + std::to_string(code));
  if (!obs_init_module(module)) fail("obs_init_module(" + binary + ") failed");
}

struct Scene {
  obs_source_t* color = nullptr;
  obs_source_t* sine = nullptr;
};

Scene make_scene(bool marks) {
  Scene scene;
  if (marks) {
    // Picture and sound from one source, as from a capture card; output channel 0 carries both.
    scene.color = obs_source_create("p2plive_test_marks", "marks", nullptr, nullptr);
    if (!scene.color) fail("cannot create the marks source");
    obs_set_output_source(0, scene.color);
    return scene;
  }
  obs_data_t* color_settings = obs_data_create();
  obs_data_set_int(color_settings, "color", 0xFF3366CC);  // ABGR
  obs_data_set_int(color_settings, "width", width);
  obs_data_set_int(color_settings, "height", height);
  scene.color = obs_source_create("color_source", "color", color_settings, nullptr);
  obs_data_release(color_settings);
  if (!scene.color) fail("cannot create color_source (is image-source.so loaded?)");
  scene.sine = obs_source_create("p2plive_test_sine", "sine", nullptr, nullptr);
  if (!scene.sine) fail("cannot create the sine source");
  obs_set_output_source(0, scene.color);
  obs_set_output_source(1, scene.sine);
  return scene;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  if (!options.log_file.empty()) {
    log_stream = std::fopen(options.log_file.c_str(), "a");
    if (!log_stream) fail("cannot open the log file " + options.log_file);
  }
  base_set_log_handler(log_to_stream, nullptr);

  // libobs-opengl on Linux talks EGL to an X display: Xvfb in tests.
  XInitThreads();
  Display* display = XOpenDisplay(nullptr);
  if (!display) {
    const char* name = std::getenv("DISPLAY");
    fail(std::string("cannot open the X display '") + (name ? name : "") + "'; run under Xvfb (xvfb-run -a ...)");
  }
  obs_set_nix_platform(OBS_NIX_PLATFORM_X11_EGL);
  obs_set_nix_platform_display(display);

  if (!obs_startup("en-US", nullptr, nullptr)) fail("obs_startup failed");

  obs_video_info video = {};
  video.graphics_module = "libobs-opengl";
  video.fps_num = fps;
  video.fps_den = 1;
  video.base_width = video.output_width = width;
  video.base_height = video.output_height = height;
  video.output_format = VIDEO_FORMAT_NV12;
  video.adapter = 0;
  video.gpu_conversion = true;
  video.colorspace = VIDEO_CS_709;
  video.range = VIDEO_RANGE_PARTIAL;
  video.scale_type = OBS_SCALE_BICUBIC;
  if (const int code = obs_reset_video(&video); code != OBS_VIDEO_SUCCESS) {
    fail("obs_reset_video failed with code " + std::to_string(code) + " (no OpenGL/EGL on this display?)");
  }
  obs_audio_info audio = {sample_rate, SPEAKERS_STEREO};
  if (!obs_reset_audio(&audio)) fail("obs_reset_audio failed");

  for (const char* name : {"image-source", "obs-x264", "obs-ffmpeg"}) {
    load_module(options.obs_plugin_dir + "/" + name + ".so", options.obs_data_dir + "/" + name);
  }
  if (!options.titles.empty()) {
    load_module(options.obs_plugin_dir + "/text-freetype2.so", options.obs_data_dir + "/text-freetype2");
  }
  if (!options.plugin.empty()) load_module(options.plugin, options.plugin_data);
  obs_post_load_modules();
  register_test_sources();
  register_packet_dump_output();

  Scene scene = make_scene(options.marks);
  obs_source_t* titles = nullptr;
  if (!options.titles.empty()) {
    obs_data_t* text_settings = obs_data_create();
    obs_data_set_string(text_settings, "text", options.titles.front().c_str());
    titles = obs_source_create("text_ft2_source", title_source_name, text_settings, nullptr);
    obs_data_release(text_settings);
    if (!titles) fail("cannot create a text_ft2_source (is text-freetype2.so there?)");
  }

  obs_data_t* video_settings = obs_data_create();
  obs_data_set_string(video_settings, "rate_control", "CBR");
  obs_data_set_int(video_settings, "bitrate", 1000);
  obs_data_set_int(video_settings, "keyint_sec", 1);
  obs_data_set_string(video_settings, "preset", "veryfast");
  obs_data_t* audio_settings = obs_data_create();
  obs_data_set_string(audio_settings, "rate_control", "CBR");
  obs_data_set_int(audio_settings, "bitrate", options.audio_bitrate_kbps);

  obs_service_t* service = nullptr;
  const bool sound_only = options.output == "p2p_live_audio_output";
  if (options.output == "p2p_live_output" || sound_only) {
    obs_data_t* service_settings = obs_data_create();
    const std::string key = read_key(options.key_file);
    obs_data_set_string(service_settings, "key", key.c_str());
    obs_data_set_string(service_settings, "listen", options.listen.c_str());
    obs_data_set_string(service_settings, "server", options.server.c_str());
    if (!options.titles.empty())
      obs_data_set_string(service_settings, "now_playing_source", title_source_name);
    service = obs_service_create("p2p_live_service", "p2p live", service_settings, nullptr);
    obs_data_release(service_settings);
    if (!service) fail("cannot create p2p_live_service (did the p2p-live module load?)");
    // As OBS's frontend does before it updates the streaming encoders.
    obs_service_apply_encoder_settings(service, video_settings, audio_settings);
  }

  obs_encoder_t* video_encoder = obs_video_encoder_create("obs_x264", "x264", video_settings, nullptr);
  obs_encoder_t* audio_encoder =
      obs_audio_encoder_create(options.audio_encoder.c_str(), "audio", audio_settings, 0, nullptr);
  obs_data_release(video_settings);
  obs_data_release(audio_settings);
  if (!video_encoder) fail("cannot create the obs_x264 encoder");
  if (!audio_encoder) fail("cannot create the " + options.audio_encoder + " encoder");
  obs_encoder_set_video(video_encoder, obs_get_video());
  obs_encoder_set_audio(audio_encoder, obs_get_audio());

  obs_data_t* output_settings = obs_data_create();
  if (!options.out_file.empty()) obs_data_set_string(output_settings, "path", options.out_file.c_str());
  obs_output_t* output = obs_output_create(options.output.c_str(), "headless", output_settings, nullptr);
  obs_data_release(output_settings);
  if (!output) fail("cannot create the output " + options.output);
  if (!sound_only) obs_output_set_video_encoder(output, video_encoder);
  obs_output_set_audio_encoder(output, audio_encoder, 0);
  if (service) obs_output_set_service(output, service);
  // The audio encoder's own packets, dumped beside the stream: what a viewer gets must equal them.
  obs_output_t* recording = nullptr;
  if (!options.record_file.empty()) {
    obs_data_t* record_settings = obs_data_create();
    obs_data_set_string(record_settings, "path", options.record_file.c_str());
    recording = obs_output_create("packet_dump", "recording", record_settings, nullptr);
    obs_data_release(record_settings);
    if (!recording) fail("cannot create the recording output");
    obs_output_set_audio_encoder(recording, audio_encoder, 0);
  }

  OutputEvents events;
  signal_handler_t* signals = obs_output_get_signal_handler(output);
  signal_handler_connect(signals, "start", OutputEvents::on_start, &events);
  signal_handler_connect(signals, "stop", OutputEvents::on_stop, &events);

  int exit_code = 0;
  for (int cycle = 0; cycle < options.cycles && exit_code == 0; ++cycle) {
    if (!obs_output_start(output)) {
      const char* error = obs_output_get_last_error(output);
      std::fprintf(stderr, "error: the output did not start: %s\n", error && *error ? error : "(no message)");
      exit_code = 1;
      break;
    }
    {
      std::unique_lock lock(events.mutex);
      if (!events.changed.wait_for(lock, std::chrono::seconds(10), [&] { return events.starts > cycle; })) {
        std::fprintf(stderr, "error: the output did not signal start within 10 s\n");
        exit_code = 1;
        break;
      }
    }
    if (recording && !obs_output_start(recording)) fail("the recording did not start");
    if (!service) std::printf("STARTED\n");
    if (service) {
      std::printf("LISTENING %s\n", options.listen.c_str());
      calldata_t params = {};
      proc_handler_call(obs_output_get_proc_handler(output), "get_viewer_link", &params);
      const char* link = calldata_string(&params, "link");
      std::printf("LINK %s\n", link ? link : "");
      calldata_free(&params);
    }
    std::fflush(stdout);

    // Stream; an early stop signal is a failure.
    if (!stream_until_due(output, events, cycle, options, titles)) {
      std::fprintf(stderr, "error: the output stopped by itself (code %lld): %s\n", events.last_code,
                   events.last_error.c_str());
      exit_code = 1;
      break;
    }
    if (recording) obs_output_stop(recording);
    const bool force = options.stop_mode == "force" || (options.stop_mode == "alternate" && cycle % 2 == 1);
    const auto stop_requested = std::chrono::steady_clock::now();
    if (force) {
      obs_output_force_stop(output);
    } else {
      obs_output_stop(output);
    }
    {
      std::unique_lock lock(events.mutex);
      if (!events.changed.wait_for(lock, std::chrono::seconds(15), [&] { return events.stops > cycle; })) {
        std::fprintf(stderr, "error: the output did not signal stop within 15 s\n");
        exit_code = 1;
        break;
      }
      if (events.last_code != OBS_OUTPUT_SUCCESS) {
        std::fprintf(stderr, "error: the output stopped with code %lld: %s\n", events.last_code,
                     events.last_error.c_str());
        exit_code = 1;
      }
    }
    const auto stop_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                               stop_requested);
    std::printf("STOPPED code=%lld bytes=%llu frames=%d stop_ms=%lld%s\n", events.last_code,
                static_cast<unsigned long long>(obs_output_get_total_bytes(output)),
                obs_output_get_total_frames(output), static_cast<long long>(stop_ms.count()), force ? " forced" : "");
    std::fflush(stdout);
    // The next start waits inside libobs until the previous stop has fully ended.
  }

  signal_handler_disconnect(signals, "start", OutputEvents::on_start, &events);
  signal_handler_disconnect(signals, "stop", OutputEvents::on_stop, &events);
  obs_output_release(output);
  obs_output_release(recording);
  obs_service_release(service);
  obs_encoder_release(video_encoder);
  obs_encoder_release(audio_encoder);
  obs_set_output_source(0, nullptr);
  obs_set_output_source(1, nullptr);
  obs_source_release(scene.color);
  obs_source_release(scene.sine);
  obs_source_release(titles);
  obs_shutdown();
  XCloseDisplay(display);
  if (log_stream != stderr) std::fclose(log_stream);
  return exit_code;
}
