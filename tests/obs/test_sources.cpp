// The sources headless_stream feeds libobs with, registered by the program itself:
//   p2plive_test_sine   a steady 440 Hz tone (audio only);
//   p2plive_test_marks  picture and sound together, as a capture card delivers them: a dark frame and a quiet
//                       tone, except that every `mark_period_s` a white flash and a loud 1 kHz burst start at
//                       the very same timestamp. A viewer's file then shows A/V sync as the distance between
//                       each flash and its burst (tests/bench/obs_set_bench.py measures it with FFmpeg).
#include "test_sources.hpp"

#include <obs-module.h>
#include <util/platform.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

namespace {

constexpr std::uint32_t block = test_sample_rate / 100;  // 10 ms of audio per obs_source_output_audio
constexpr std::uint64_t ns_per_s = 1000000000ull;

// One thread that emits audio blocks (and, for the marks source, video frames) paced by a clock that starts
// at creation: every timestamp is start + samples (or frames) / rate, so audio and video never drift apart
// at the source.
class TestSource {
 public:
  TestSource(obs_source_t* source, bool marks) : source_(source), marks_(marks) {
    if (marks_) {
      dark_.assign(static_cast<std::size_t>(test_width) * test_height, 16);  // Y' black, limited range
      white_.assign(dark_.size(), 235);
    }
    thread_ = std::thread([this] { run(); });
  }
  ~TestSource() {
    stop_ = true;
    thread_.join();
  }

 private:
  // The sample's value: a quiet tone always (so that no two encoded packets are alike), and for marks a loud
  // burst at the start of every period.
  float sample(std::uint64_t n) const {
    const double t = static_cast<double>(n) / test_sample_rate;
    if (!marks_) return static_cast<float>(0.2 * std::sin(2.0 * M_PI * 440.0 * t));
    const std::uint64_t in_period = n % (static_cast<std::uint64_t>(mark_period_s) * test_sample_rate);
    const bool burst = in_period < static_cast<std::uint64_t>(mark_length_s * test_sample_rate);
    return static_cast<float>(burst ? 0.5 * std::sin(2.0 * M_PI * 1000.0 * t)
                                    : 0.005 * std::sin(2.0 * M_PI * 441.7 * t));
  }

  void send_audio(std::uint64_t first_sample) {
    for (std::uint32_t i = 0; i < block; ++i) left_[i] = right_[i] = sample(first_sample + i);
    obs_source_audio audio = {};
    audio.data[0] = reinterpret_cast<const std::uint8_t*>(left_.data());
    audio.data[1] = reinterpret_cast<const std::uint8_t*>(right_.data());
    audio.frames = block;
    audio.speakers = SPEAKERS_STEREO;
    audio.format = AUDIO_FORMAT_FLOAT_PLANAR;
    audio.samples_per_sec = test_sample_rate;
    audio.timestamp = start_ns_ + first_sample * ns_per_s / test_sample_rate;
    obs_source_output_audio(source_, &audio);
  }

  void send_frame(std::uint64_t n) {
    const std::uint64_t in_period = n % (static_cast<std::uint64_t>(mark_period_s) * test_fps);
    const bool flash = in_period < static_cast<std::uint64_t>(mark_length_s * test_fps + 0.5);
    obs_source_frame frame = {};
    frame.data[0] = flash ? white_.data() : dark_.data();
    frame.linesize[0] = test_width;
    frame.width = test_width;
    frame.height = test_height;
    frame.format = VIDEO_FORMAT_Y800;
    frame.timestamp = start_ns_ + n * ns_per_s / test_fps;
    video_format_get_parameters_for_format(VIDEO_CS_709, VIDEO_RANGE_PARTIAL, VIDEO_FORMAT_Y800,
                                           frame.color_matrix, frame.color_range_min, frame.color_range_max);
    obs_source_output_video(source_, &frame);
  }

  void run() {
    left_.resize(block);
    right_.resize(block);
    start_ns_ = os_gettime_ns();
    std::uint64_t samples = 0, frames = 0;
    while (!stop_) {
      const std::uint64_t audio_due = start_ns_ + samples * ns_per_s / test_sample_rate;
      const std::uint64_t video_due = start_ns_ + frames * ns_per_s / test_fps;
      const bool video_next = marks_ && video_due < audio_due;
      const std::uint64_t due = video_next ? video_due : audio_due;
      const std::uint64_t now = os_gettime_ns();
      if (due > now) std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));
      if (video_next) {
        send_frame(frames++);
      } else {
        send_audio(samples);
        samples += block;
      }
    }
  }

  obs_source_t* source_;
  const bool marks_;
  std::uint64_t start_ns_ = 0;
  std::vector<float> left_, right_;
  std::vector<std::uint8_t> dark_, white_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

void register_test_sources() {
  obs_source_info sine = {};
  sine.id = "p2plive_test_sine";
  sine.type = OBS_SOURCE_TYPE_INPUT;
  sine.output_flags = OBS_SOURCE_AUDIO;
  sine.get_name = [](void*) { return "Sine (test)"; };
  sine.create = [](obs_data_t*, obs_source_t* source) -> void* { return new TestSource(source, false); };
  sine.destroy = [](void* data) { delete static_cast<TestSource*>(data); };
  obs_register_source(&sine);

  obs_source_info marks = sine;
  marks.id = "p2plive_test_marks";
  marks.output_flags = OBS_SOURCE_ASYNC_VIDEO | OBS_SOURCE_AUDIO;
  marks.get_name = [](void*) { return "A/V sync marks (test)"; };
  marks.create = [](obs_data_t*, obs_source_t* source) -> void* { return new TestSource(source, true); };
  obs_register_source(&marks);
}
