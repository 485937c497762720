#include "media/ts_muxer.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <exception>
#include <limits>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/mathematics.h>
#include <libavutil/opt.h>
}

#include "media/codec.hpp"
#include "media/ffmpeg_ptr.hpp"
#include "media/id3.hpp"

namespace p2plive {
namespace {

constexpr std::size_t ts_packet_bytes = 188;
// avio hands the write callback its whole buffer when full, so a multiple of 188 keeps runs whole.
constexpr int avio_buffer_bytes = static_cast<int>(ts_packet_bytes) * 7;
// The DVB Service Description Table carries only a service name no player here needs. FFmpeg sends it on
// its own schedule, sometimes just before a keyframe's PAT, so dropping it is what lets every join point
// start with the PAT.
constexpr unsigned sdt_pid = 0x11;
// Without video there are no keyframes to join at; audio gets a join point this often instead.
constexpr std::int64_t audio_only_join_interval_us = 1'000'000;
// The mpegts muxer's own option: PAT/PMT again before the next PES it writes.
constexpr std::int64_t mpegts_flag_resend_headers = 0x01;

unsigned pid_of(const std::uint8_t* ts_packet) { return (ts_packet[1] & 0x1fu) << 8 | ts_packet[2]; }

class FfmpegTsMuxer final : public TsMuxer {
 public:
  FfmpegTsMuxer(BytesFn on_bytes, JoinPointFn on_join_point)
      : on_bytes_(std::move(on_bytes)), on_join_point_(std::move(on_join_point)) {}

  std::error_code open(const std::vector<StreamInfo>& streams, bool titles);
  std::error_code write(const EncodedPacket& packet) override;
  void set_title(std::string_view title) override {
    title_ = clean_title(title);
    title_due_ = title_stream_ >= 0;
  }
  void finish() override;

 private:
  struct StreamState {
    AVRational input_time_base{};
    MediaKind kind = MediaKind::video;
    Codec codec = Codec::h264;
    bool has_extradata = false;
    bool previous_was_keyframe = false;
    std::int64_t last_dts = std::numeric_limits<std::int64_t>::min();  // in the AVStream's time base
  };

  static int write_callback(void* opaque, std::uint8_t* buf, int size);
  void emit(const std::uint8_t* data, std::size_t size);
  std::error_code check(const EncodedPacket& packet) const;
  bool starts_join_point(const EncodedPacket& packet, const StreamState& state) const;
  void request_headers();
  std::error_code mux(const EncodedPacket& packet, std::int64_t pts, std::int64_t dts);
  std::error_code write_title(std::int64_t pts_90k);

  BytesFn on_bytes_;
  JoinPointFn on_join_point_;
  std::vector<StreamState> states_;
  bool has_video_ = false;
  std::int64_t last_audio_join_us_ = std::numeric_limits<std::int64_t>::min();
  int title_stream_ = -1;  // the timed ID3 stream, when there is one
  std::string title_;
  bool title_due_ = false;
  bool starts_join_point_now_ = false;
  std::int64_t last_title_dts_ = std::numeric_limits<std::int64_t>::min();
  std::vector<std::uint8_t> partial_packet_;  // only if avio ever split a TS packet
  bool callback_failed_ = false;
  bool finished_ = false;
  // Declared in this order so the format context is freed before the AVIOContext it writes to.
  ff::IoPtr io_;
  ff::OutputPtr format_;
  ff::PacketPtr packet_;
};

std::error_code FfmpegTsMuxer::open(const std::vector<StreamInfo>& streams, bool titles) {
  if (streams.empty()) return Errc::muxer_failed;

  auto* buffer = static_cast<unsigned char*>(av_malloc(avio_buffer_bytes));
  if (!buffer) return Errc::muxer_failed;
  io_.reset(avio_alloc_context(buffer, avio_buffer_bytes, 1, this, nullptr, &FfmpegTsMuxer::write_callback,
                               nullptr));
  if (!io_) {
    av_free(buffer);
    return Errc::muxer_failed;
  }

  AVFormatContext* format = nullptr;
  if (avformat_alloc_output_context2(&format, nullptr, "mpegts", nullptr) < 0 || !format)
    return Errc::muxer_failed;
  format_.reset(format);
  format_->pb = io_.get();
  // No muxing delay: PCR = DTS and nothing is held back for interleaving. The caller already delivers in
  // decode order, and the swarm adds its own buffering.
  format_->max_delay = 0;
  format_->flags |= AVFMT_FLAG_FLUSH_PACKETS;

  packet_.reset(av_packet_alloc());
  if (!packet_) return Errc::muxer_failed;

  for (const StreamInfo& info : streams) {
    if (info.timebase_num <= 0 || info.timebase_den <= 0) return Errc::muxer_failed;
    if (kind_of(info.codec) != info.kind) return Errc::codec_unsupported;
    // FFmpeg 5.1's mpegts muxer has no AV1 mapping; it would become an unplayable private stream.
    if (info.codec == Codec::av1) return Errc::codec_unsupported;
    if (info.extradata.size() > static_cast<std::size_t>(INT_MAX - AV_INPUT_BUFFER_PADDING_SIZE))
      return Errc::muxer_failed;

    AVStream* stream = avformat_new_stream(format_.get(), nullptr);
    if (!stream) return Errc::muxer_failed;
    AVCodecParameters* par = stream->codecpar;
    par->codec_type = info.kind == MediaKind::video ? AVMEDIA_TYPE_VIDEO : AVMEDIA_TYPE_AUDIO;
    par->codec_id = to_av_codec_id(info.codec);
    par->bit_rate = std::int64_t{info.bitrate_kbps} * 1000;
    if (!info.extradata.empty()) {
      const auto size = static_cast<int>(info.extradata.size());
      par->extradata = static_cast<std::uint8_t*>(av_mallocz(info.extradata.size() + AV_INPUT_BUFFER_PADDING_SIZE));
      if (!par->extradata) return Errc::muxer_failed;
      std::memcpy(par->extradata, info.extradata.data(), info.extradata.size());
      par->extradata_size = size;
    }
    if (info.kind == MediaKind::video) {
      par->width = info.width;
      par->height = info.height;
      has_video_ = true;
    } else {
      par->sample_rate = info.sample_rate;
      av_channel_layout_default(&par->ch_layout, info.channels > 0 ? info.channels : 2);
      par->frame_size = info.frame_size;
    }
    stream->time_base = AVRational{info.timebase_num, info.timebase_den};  // a hint; mpegts uses 1/90000

    StreamState state;
    state.input_time_base = stream->time_base;
    state.kind = info.kind;
    state.codec = info.codec;
    state.has_extradata = !info.extradata.empty();
    states_.push_back(state);
  }

  if (titles) {
    // Timed ID3, as HLS players, mpegts.js and FFmpeg know it: stream type 0x15 with the 'ID3 ' metadata
    // descriptor, in PES packets stamped with the media time they belong to.
    AVStream* stream = avformat_new_stream(format_.get(), nullptr);
    if (!stream) return Errc::muxer_failed;
    stream->codecpar->codec_type = AVMEDIA_TYPE_DATA;
    stream->codecpar->codec_id = AV_CODEC_ID_TIMED_ID3;
    stream->time_base = ff::mpeg_ts_time_base;
    title_stream_ = stream->index;
  }

  ff::Options options;
  options.set("pcr_period", "20");  // milliseconds; in practice a PCR on every video frame
  if (avformat_write_header(format_.get(), options.get()) < 0) return Errc::muxer_failed;
  // The header is empty for mpegts (the tables go out with the first packet); flush it regardless, so it
  // lands before the first join point.
  avio_flush(format_->pb);
  if (callback_failed_) return Errc::muxer_failed;
  return {};
}

int FfmpegTsMuxer::write_callback(void* opaque, std::uint8_t* buf, int size) {
  auto* self = static_cast<FfmpegTsMuxer*>(opaque);
  if (size <= 0) return 0;
  // An exception must not unwind through FFmpeg's C frames.
  try {
    self->emit(buf, static_cast<std::size_t>(size));
  } catch (...) {
    self->callback_failed_ = true;
    return AVERROR_EXTERNAL;
  }
  return size;
}

void FfmpegTsMuxer::emit(const std::uint8_t* data, std::size_t size) {
  if (!partial_packet_.empty()) {  // complete a TS packet split across two callbacks
    const std::size_t take = std::min(size, ts_packet_bytes - partial_packet_.size());
    partial_packet_.insert(partial_packet_.end(), data, data + take);
    data += take;
    size -= take;
    if (partial_packet_.size() < ts_packet_bytes) return;
    if (pid_of(partial_packet_.data()) != sdt_pid && on_bytes_) on_bytes_(partial_packet_);
    partial_packet_.clear();
  }
  // Hand over runs of whole packets, leaving out SDT packets.
  std::size_t run_start = 0;
  std::size_t offset = 0;
  for (; offset + ts_packet_bytes <= size; offset += ts_packet_bytes) {
    if (pid_of(data + offset) != sdt_pid) continue;
    if (offset > run_start && on_bytes_) on_bytes_({data + run_start, offset - run_start});
    run_start = offset + ts_packet_bytes;
  }
  if (offset > run_start && on_bytes_) on_bytes_({data + run_start, offset - run_start});
  partial_packet_.assign(data + offset, data + size);
}

std::error_code FfmpegTsMuxer::check(const EncodedPacket& packet) const {
  if (finished_ || callback_failed_) return Errc::muxer_failed;
  if (packet.stream_index < 0 || static_cast<std::size_t>(packet.stream_index) >= states_.size())
    return Errc::muxer_failed;
  if (packet.data.empty() ||
      packet.data.size() > static_cast<std::size_t>(INT_MAX - AV_INPUT_BUFFER_PADDING_SIZE))
    return Errc::muxer_failed;
  if (packet.pts < packet.dts) return Errc::muxer_failed;
  const StreamState& state = states_[static_cast<std::size_t>(packet.stream_index)];
  if (state.codec == Codec::aac && !state.has_extradata) {
    // Raw AAC needs the AudioSpecificConfig to be wrapped in ADTS; only ADTS frames can go without it.
    const bool adts = packet.data.size() >= 2 && packet.data[0] == 0xff && (packet.data[1] & 0xf0) == 0xf0;
    if (!adts) return Errc::muxer_failed;
  }
  return {};
}

bool FfmpegTsMuxer::starts_join_point(const EncodedPacket& packet, const StreamState& state) const {
  if (has_video_) return state.kind == MediaKind::video && packet.keyframe;
  const std::int64_t dts_us = av_rescale_q(packet.dts, state.input_time_base, ff::microseconds);
  return last_audio_join_us_ == std::numeric_limits<std::int64_t>::min() ||
         dts_us - last_audio_join_us_ >= audio_only_join_interval_us;
}

void FfmpegTsMuxer::request_headers() {
  std::int64_t flags = 0;
  if (av_opt_get_int(format_->priv_data, "mpegts_flags", 0, &flags) >= 0)
    av_opt_set_int(format_->priv_data, "mpegts_flags", flags | mpegts_flag_resend_headers, 0);
}

std::error_code FfmpegTsMuxer::write(const EncodedPacket& packet) {
  if (std::error_code error = check(packet)) return error;
  StreamState& state = states_[static_cast<std::size_t>(packet.stream_index)];
  AVStream* stream = format_->streams[packet.stream_index];

  const std::int64_t pts = av_rescale_q(packet.pts, state.input_time_base, stream->time_base);
  const std::int64_t dts = av_rescale_q(packet.dts, state.input_time_base, stream->time_base);
  // libavformat refuses a non-increasing DTS; two input stamps can also round to one 90 kHz tick.
  if (pts == AV_NOPTS_VALUE || dts == AV_NOPTS_VALUE || dts <= state.last_dts) return Errc::muxer_failed;
  state.last_dts = dts;

  if (starts_join_point(packet, state)) {
    // FFmpeg puts PAT/PMT before a video keyframe by itself, except after another keyframe, and never
    // before audio; ask for them explicitly then.
    if (state.kind != MediaKind::video || state.previous_was_keyframe) request_headers();
    avio_flush(format_->pb);  // every earlier byte goes out before the join point
    if (!partial_packet_.empty()) return Errc::muxer_failed;  // cannot happen with a 188-multiple buffer
    if (state.kind == MediaKind::audio)
      last_audio_join_us_ = av_rescale_q(packet.dts, state.input_time_base, ff::microseconds);
    if (on_join_point_) on_join_point_();
    starts_join_point_now_ = true;
  }
  if (state.kind == MediaKind::video) state.previous_was_keyframe = packet.keyframe;
  const bool join_point = starts_join_point_now_;
  starts_join_point_now_ = false;
  if (auto error = mux(packet, pts, dts)) return error;
  // After the packet, so that a join point still starts with its tables and keyframe.
  if (title_due_ || (join_point && title_stream_ >= 0 && !title_.empty()))
    return write_title(av_rescale_q(packet.pts, state.input_time_base, ff::mpeg_ts_time_base));
  return {};
}

std::error_code FfmpegTsMuxer::write_title(std::int64_t pts_90k) {
  title_due_ = false;
  const auto tag = id3_title_tag(title_);
  AVPacket* pkt = packet_.get();
  if (av_new_packet(pkt, static_cast<int>(tag.size())) < 0) return Errc::muxer_failed;
  std::memcpy(pkt->data, tag.data(), tag.size());
  pkt->stream_index = title_stream_;
  // The stream's stamps must grow: a second title at the same instant goes a tick later.
  pkt->pts = pkt->dts = std::max(pts_90k, last_title_dts_ + 1);
  last_title_dts_ = pkt->dts;
  int result = av_write_frame(format_.get(), pkt);
  av_packet_unref(pkt);
  avio_flush(format_->pb);
  if (result < 0 || callback_failed_ || format_->pb->error < 0) return Errc::muxer_failed;
  return {};
}

std::error_code FfmpegTsMuxer::mux(const EncodedPacket& packet, std::int64_t pts, std::int64_t dts) {
  AVPacket* pkt = packet_.get();
  // A padded copy: FFmpeg's bitstream readers may look past the end of the data.
  if (av_new_packet(pkt, static_cast<int>(packet.data.size())) < 0) return Errc::muxer_failed;
  std::memcpy(pkt->data, packet.data.data(), packet.data.size());
  pkt->stream_index = packet.stream_index;
  pkt->pts = pts;
  pkt->dts = dts;
  if (packet.keyframe) pkt->flags |= AV_PKT_FLAG_KEY;

  // Not interleaved: the caller's order is kept, and nothing waits for the other stream.
  int result = av_write_frame(format_.get(), pkt);
  av_packet_unref(pkt);
  // mpegts holds an audio frame back to group it with the next one; a flush sends it now.
  if (result >= 0) result = av_write_frame(format_.get(), nullptr);
  avio_flush(format_->pb);
  if (result < 0 || callback_failed_ || format_->pb->error < 0) return Errc::muxer_failed;
  return {};
}

void FfmpegTsMuxer::finish() {
  if (finished_) return;
  finished_ = true;
  if (callback_failed_) return;
  av_write_trailer(format_.get());
  avio_flush(format_->pb);
}

}  // namespace

Result<std::unique_ptr<TsMuxer>> TsMuxer::create(const std::vector<StreamInfo>& streams, BytesFn on_bytes,
                                                 JoinPointFn on_join_point, bool titles) {
  auto muxer = std::make_unique<FfmpegTsMuxer>(std::move(on_bytes), std::move(on_join_point));
  if (std::error_code error = muxer->open(streams, titles)) return error;
  return std::unique_ptr<TsMuxer>(std::move(muxer));
}

}  // namespace p2plive
