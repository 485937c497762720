#include "p2plive/media_input.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <string>
#include <string_view>

extern "C" {
#include <libavdevice/avdevice.h>
#include <libavutil/mathematics.h>
}

#include "media/codec.hpp"
#include "media/ffmpeg_ptr.hpp"
#include "media/transcoder.hpp"

namespace p2plive {
namespace {

// FFmpeg 5.1's lavfi device leaks one peeked frame (~40 KB, once) when a graph with several outputs is
// closed before its end; LeakSanitizer reports it from libavdevice. Nothing here can reach that frame.
constexpr std::string_view lavfi_prefix = "lavfi:";
// Streams are released in DTS order; a stream that has nothing queued holds the others back this long at
// most, so a stalled audio source cannot stall the video.
constexpr std::int64_t max_interleave_wait_us = 500'000;
constexpr std::size_t max_queued_packets = 1024;
// A packet due further than this from the pacing clock means the input's timestamps jumped; start a new
// pacing epoch instead of sleeping (or bursting) for that long.
constexpr std::chrono::seconds max_pacing_skew{2};
// Some devices answer "try again" instead of blocking.
constexpr std::chrono::milliseconds retry_wait{10};
constexpr std::int64_t no_timestamp = std::numeric_limits<std::int64_t>::min();

// avdevice_register_all() fills FFmpeg's own device tables; it must run once per process for "lavfi".
void register_devices() {
  static std::once_flag once;
  std::call_once(once, [] { avdevice_register_all(); });
}

// One selected input stream and how it becomes one output stream.
struct Route {
  int input_index = -1;
  AVRational input_time_base{1, 1};
  std::unique_ptr<Transcoder> transcoder;  // null: the packets pass through untouched
  std::int64_t last_dts = no_timestamp;  // of the last packet passed on, with the loop offset
};

struct Queued {
  EncodedPacket packet;
  std::int64_t dts_us = 0;
};

class FfmpegMediaInput final : public MediaInput {
 public:
  explicit FfmpegMediaInput(MediaInputConfig config) : config_(std::move(config)) {}

  std::error_code open();
  const std::vector<StreamInfo>& streams() const override { return streams_; }
  std::optional<EncodedPacket> read() override;
  void interrupt() override;

 private:
  static int interrupt_callback(void* opaque);
  std::error_code add_route(int input_index, MediaKind kind);
  void pump();
  void route_packet(Route& route, AVPacket& packet);
  bool restart_from_beginning();
  void end_input();
  void enqueue(std::vector<EncodedPacket>& packets);
  std::optional<Queued> pop_ready();
  bool wait_until_due(std::int64_t dts_us);
  bool wait_for(std::chrono::steady_clock::duration duration);
  void log(LogLevel level, const std::string& text) const {
    if (config_.log) config_.log(level, text);
  }

  MediaInputConfig config_;
  ff::InputPtr input_;
  ff::PacketPtr packet_;
  std::vector<StreamInfo> streams_;
  std::vector<Route> routes_;                 // routes_[i] produces streams_[i]
  std::vector<std::deque<Queued>> queues_;    // per output stream, in that stream's decode order
  std::size_t queued_packets_ = 0;
  bool input_ended_ = false;
  std::size_t dropped_packets_ = 0;

  // Looping: timestamps of later passes are shifted by the length of the earlier ones.
  std::int64_t loop_offset_us_ = 0;
  std::int64_t pass_start_us_ = std::numeric_limits<std::int64_t>::max();
  std::int64_t pass_end_us_ = std::numeric_limits<std::int64_t>::min();

  // Real-time pacing: a packet is released when the clock has advanced as far as its DTS.
  bool pacing_started_ = false;
  std::chrono::steady_clock::time_point pacing_clock_start_;
  std::int64_t pacing_media_start_us_ = 0;

  std::atomic<bool> interrupted_{false};
  std::mutex wake_mutex_;
  std::condition_variable wake_;
};

int FfmpegMediaInput::interrupt_callback(void* opaque) {
  return static_cast<FfmpegMediaInput*>(opaque)->interrupted_.load() ? 1 : 0;
}

std::error_code FfmpegMediaInput::open() {
  std::string url = config_.url;
  std::string format_name = config_.format;
  if (url.starts_with(lavfi_prefix)) {
    url.erase(0, lavfi_prefix.size());
    format_name = "lavfi";
  }
  register_devices();
  const AVInputFormat* format = nullptr;
  if (!format_name.empty()) {
    format = av_find_input_format(format_name.c_str());
    if (!format) {
      log(LogLevel::error, "unknown input format '" + format_name + "'");
      return Errc::input_open_failed;
    }
  }

  packet_.reset(av_packet_alloc());
  AVFormatContext* context = avformat_alloc_context();
  if (!packet_ || !context) {
    avformat_free_context(context);
    return Errc::input_open_failed;
  }
  context->interrupt_callback = AVIOInterruptCB{&FfmpegMediaInput::interrupt_callback, this};
  // avformat_open_input frees the context itself when it fails.
  if (const int result = avformat_open_input(&context, url.c_str(), format, nullptr); result < 0) {
    log(LogLevel::error, "cannot open input '" + config_.url + "': " + ff::error_text(result));
    return Errc::input_open_failed;
  }
  input_.reset(context);
  if (const int result = avformat_find_stream_info(context, nullptr); result < 0) {
    log(LogLevel::error, "cannot read stream info from '" + config_.url + "': " + ff::error_text(result));
    return Errc::input_open_failed;
  }

  int video = av_find_best_stream(context, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (video >= 0 && (context->streams[video]->disposition & AV_DISPOSITION_ATTACHED_PIC)) video = -1;  // cover art
  const int audio = av_find_best_stream(context, AVMEDIA_TYPE_AUDIO, -1, video, nullptr, 0);
  if (video < 0 && audio < 0) return Errc::input_no_streams;
  if (video >= 0) {
    if (std::error_code error = add_route(video, MediaKind::video)) return error;
  }
  if (audio >= 0) {
    if (std::error_code error = add_route(audio, MediaKind::audio)) return error;
  }
  queues_.resize(streams_.size());
  return {};
}

std::error_code FfmpegMediaInput::add_route(int input_index, MediaKind kind) {
  const AVStream& stream = *input_->streams[input_index];
  const AVCodecParameters& par = *stream.codecpar;
  const int output_index = static_cast<int>(streams_.size());
  Route route;
  route.input_index = input_index;
  route.input_time_base = stream.time_base;

  // What MPEG-TS carries and every player decodes goes through untouched: a DJ's audio must arrive as the
  // encoder made it, so Opus is never re-encoded to AAC.
  const bool carried_as_is = kind == MediaKind::video
                                 ? par.codec_id == AV_CODEC_ID_H264
                                 : par.codec_id == AV_CODEC_ID_AAC || par.codec_id == AV_CODEC_ID_OPUS;
  StreamInfo info;
  if (carried_as_is) {
    info.kind = kind;
    info.codec = *from_av_codec_id(par.codec_id);
    if (par.extradata && par.extradata_size > 0) info.extradata.assign(par.extradata, par.extradata + par.extradata_size);
    info.timebase_num = stream.time_base.num;
    info.timebase_den = stream.time_base.den;
    info.width = par.width;
    info.height = par.height;
    info.sample_rate = par.sample_rate;
    info.channels = par.ch_layout.nb_channels;
    info.frame_size = par.frame_size;
    info.bitrate_kbps = static_cast<int>(par.bit_rate / 1000);
  } else {
    TranscoderConfig transcoder_config;
    transcoder_config.stream_index = output_index;
    transcoder_config.video_bitrate_kbps = config_.video_bitrate_kbps;
    transcoder_config.audio_bitrate_kbps = config_.audio_bitrate_kbps;
    transcoder_config.keyframe_interval_s = config_.keyframe_interval_s;
    transcoder_config.frame_rate = av_guess_frame_rate(input_.get(), input_->streams[input_index], nullptr);
    auto transcoder = kind == MediaKind::video ? Transcoder::video(stream, transcoder_config)
                                               : Transcoder::audio(stream, transcoder_config);
    if (!transcoder) {
      log(LogLevel::error, std::string("cannot transcode the ") + (kind == MediaKind::video ? "video" : "audio") +
                               " stream (" + avcodec_get_name(par.codec_id) + "): " + transcoder.error().message());
      return transcoder.error();
    }
    route.transcoder = std::move(transcoder).value();
    info = route.transcoder->info();
    log(LogLevel::info, std::string("encoding ") + avcodec_get_name(par.codec_id) + " to " + codec_name(info.codec));
  }
  streams_.push_back(std::move(info));
  routes_.push_back(std::move(route));
  return {};
}

std::optional<EncodedPacket> FfmpegMediaInput::read() {
  while (!interrupted_.load()) {
    if (auto ready = pop_ready()) {
      const std::int64_t dts_us = ready->dts_us;
      if (config_.realtime && !wait_until_due(dts_us)) return std::nullopt;
      return std::move(ready->packet);
    }
    if (input_ended_) return std::nullopt;  // pop_ready releases everything once the input has ended
    pump();
  }
  return std::nullopt;
}

void FfmpegMediaInput::interrupt() {
  interrupted_.store(true);
  // Taking the lock orders this store against a reader between its predicate check and its wait.
  { std::lock_guard<std::mutex> lock(wake_mutex_); }
  wake_.notify_all();
}

void FfmpegMediaInput::pump() {
  const int result = av_read_frame(input_.get(), packet_.get());
  if (result == AVERROR(EAGAIN)) {
    wait_for(retry_wait);
    return;
  }
  if (result < 0) {
    if (interrupted_.load()) {
      input_ended_ = true;
      return;
    }
    if (result == AVERROR_EOF && config_.loop && restart_from_beginning()) return;
    if (result != AVERROR_EOF) log(LogLevel::warning, "input ended: " + ff::error_text(result));
    end_input();
    return;
  }
  for (Route& route : routes_) {
    if (route.input_index == packet_->stream_index) {
      route_packet(route, *packet_);
      break;
    }
  }
  av_packet_unref(packet_.get());
}

void FfmpegMediaInput::route_packet(Route& route, AVPacket& packet) {
  if (packet.pts == AV_NOPTS_VALUE) packet.pts = packet.dts;
  if (packet.pts == AV_NOPTS_VALUE) {
    ++dropped_packets_;  // nothing to place it in time with
    return;
  }
  // The extent of this pass in the input's own timestamps, for the offset of the next pass.
  const std::int64_t first = packet.dts != AV_NOPTS_VALUE ? std::min(packet.dts, packet.pts) : packet.pts;
  const std::int64_t last = packet.dts != AV_NOPTS_VALUE ? std::max(packet.dts, packet.pts) : packet.pts;
  const std::int64_t end = last + std::max<std::int64_t>(packet.duration, 1);
  pass_start_us_ = std::min(pass_start_us_, av_rescale_q_rnd(first, route.input_time_base, ff::microseconds, AV_ROUND_DOWN));
  pass_end_us_ = std::max(pass_end_us_, av_rescale_q_rnd(end, route.input_time_base, ff::microseconds, AV_ROUND_UP));

  if (loop_offset_us_ != 0) {
    const std::int64_t offset = av_rescale_q_rnd(loop_offset_us_, ff::microseconds, route.input_time_base, AV_ROUND_UP);
    packet.pts += offset;
    if (packet.dts != AV_NOPTS_VALUE) packet.dts += offset;
  }
  if (packet.dts == AV_NOPTS_VALUE) {
    // Matroska and others leave the first DTS of a B-frame stream unknown; the true value lies just after
    // the previous one, never after the pts.
    packet.dts = route.last_dts == no_timestamp ? packet.pts : std::min(packet.pts, route.last_dts + 1);
  }

  std::vector<EncodedPacket> out;
  if (route.transcoder) {
    if (std::error_code error = route.transcoder->send(packet, out)) {
      log(LogLevel::error, "encoding failed: " + error.message());
      end_input();
      return;
    }
  } else {
    // Passed through as the demuxer gives it, except that the muxer needs an increasing DTS no later than
    // the pts: a guessed DTS that repeats is nudged forward, and what cannot be mended is dropped.
    if (route.last_dts != no_timestamp && packet.dts <= route.last_dts) packet.dts = route.last_dts + 1;
    if (packet.size <= 0 || packet.dts > packet.pts) {
      ++dropped_packets_;
      return;
    }
    route.last_dts = packet.dts;
    const int index = static_cast<int>(&route - routes_.data());
    EncodedPacket encoded;
    encoded.stream_index = index;
    encoded.data.assign(packet.data, packet.data + packet.size);
    encoded.pts = packet.pts;
    encoded.dts = packet.dts;
    encoded.keyframe = streams_[static_cast<std::size_t>(index)].kind == MediaKind::audio ||
                       (packet.flags & AV_PKT_FLAG_KEY) != 0;
    out.push_back(std::move(encoded));
  }
  enqueue(out);
}

bool FfmpegMediaInput::restart_from_beginning() {
  AVIOContext* io = input_->pb;
  if (!io || !(io->seekable & AVIO_SEEKABLE_NORMAL)) {
    log(LogLevel::info, "the input cannot seek, so it ends instead of looping");
    return false;
  }
  if (pass_end_us_ <= pass_start_us_) return false;  // nothing was read: looping would spin

  const std::int64_t start = input_->start_time != AV_NOPTS_VALUE ? input_->start_time : 0;
  if (avformat_seek_file(input_.get(), -1, std::numeric_limits<std::int64_t>::min(), start, start, 0) < 0 &&
      av_seek_frame(input_.get(), -1, start, AVSEEK_FLAG_BACKWARD) < 0) {
    log(LogLevel::warning, "cannot seek back to the start of the input; it ends instead of looping");
    return false;
  }
  for (Route& route : routes_) {
    if (!route.transcoder) continue;
    std::vector<EncodedPacket> out;
    if (std::error_code error = route.transcoder->restart(out)) {
      log(LogLevel::error, "encoding failed: " + error.message());
      return false;
    }
    enqueue(out);
  }
  loop_offset_us_ += pass_end_us_ - pass_start_us_;
  pass_start_us_ = std::numeric_limits<std::int64_t>::max();
  pass_end_us_ = std::numeric_limits<std::int64_t>::min();
  log(LogLevel::info, "looping the input");
  return true;
}

void FfmpegMediaInput::end_input() {
  for (Route& route : routes_) {
    if (!route.transcoder) continue;
    std::vector<EncodedPacket> out;
    if (std::error_code error = route.transcoder->finish(out))
      log(LogLevel::error, "encoding failed at the end of the input: " + error.message());
    enqueue(out);
  }
  if (dropped_packets_ > 0)
    log(LogLevel::debug, "dropped " + std::to_string(dropped_packets_) + " input packets with unusable timestamps");
  input_ended_ = true;
}

void FfmpegMediaInput::enqueue(std::vector<EncodedPacket>& packets) {
  for (EncodedPacket& packet : packets) {
    const auto index = static_cast<std::size_t>(packet.stream_index);
    const StreamInfo& info = streams_[index];
    const std::int64_t dts_us = av_rescale_q(packet.dts, AVRational{info.timebase_num, info.timebase_den}, ff::microseconds);
    queues_[index].push_back(Queued{std::move(packet), dts_us});
    ++queued_packets_;
  }
}

std::optional<Queued> FfmpegMediaInput::pop_ready() {
  std::deque<Queued>* earliest = nullptr;
  bool every_stream_waiting = true;
  std::int64_t newest_us = std::numeric_limits<std::int64_t>::min();
  for (auto& queue : queues_) {
    if (queue.empty()) {
      every_stream_waiting = false;
      continue;
    }
    newest_us = std::max(newest_us, queue.back().dts_us);
    if (!earliest || queue.front().dts_us < earliest->front().dts_us) earliest = &queue;
  }
  if (!earliest) return std::nullopt;
  // The earliest packet is safe to release once every stream has shown its next DTS; otherwise wait for
  // the missing stream, but only so long.
  const bool ready = every_stream_waiting || input_ended_ || queued_packets_ >= max_queued_packets ||
                     newest_us - earliest->front().dts_us > max_interleave_wait_us;
  if (!ready) return std::nullopt;
  Queued queued = std::move(earliest->front());
  earliest->pop_front();
  --queued_packets_;
  return queued;
}

bool FfmpegMediaInput::wait_until_due(std::int64_t dts_us) {
  const auto now = std::chrono::steady_clock::now();
  if (pacing_started_) {
    const auto due = pacing_clock_start_ + std::chrono::microseconds(dts_us - pacing_media_start_us_);
    if (due - now <= max_pacing_skew && now - due <= max_pacing_skew) {
      std::unique_lock<std::mutex> lock(wake_mutex_);
      wake_.wait_until(lock, due, [this] { return interrupted_.load(); });
      return !interrupted_.load();
    }
  }
  // The first packet, or a jump in the timestamps: this packet goes now and starts the clock.
  pacing_started_ = true;
  pacing_clock_start_ = now;
  pacing_media_start_us_ = dts_us;
  return !interrupted_.load();
}

bool FfmpegMediaInput::wait_for(std::chrono::steady_clock::duration duration) {
  std::unique_lock<std::mutex> lock(wake_mutex_);
  wake_.wait_for(lock, duration, [this] { return interrupted_.load(); });
  return !interrupted_.load();
}

}  // namespace

Result<std::unique_ptr<MediaInput>> MediaInput::open(MediaInputConfig config) {
  auto input = std::make_unique<FfmpegMediaInput>(std::move(config));
  if (std::error_code error = input->open()) return error;
  return std::unique_ptr<MediaInput>(std::move(input));
}

}  // namespace p2plive
