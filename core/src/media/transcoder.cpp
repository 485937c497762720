#include "media/transcoder.hpp"

#include <algorithm>
#include <cmath>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/mathematics.h>
#include <libavutil/opt.h>
#include <libavutil/pixfmt.h>
#include <libavutil/samplefmt.h>
}

namespace p2plive {

// ---------------------------------------------------------------------------------------------------------
// Shared decode → encode plumbing

std::error_code Transcoder::open_decoder(const AVStream& input) {
  const AVCodec* codec = avcodec_find_decoder(input.codecpar->codec_id);
  if (!codec) return Errc::codec_unsupported;
  decoder_.reset(avcodec_alloc_context3(codec));
  decoded_.reset(av_frame_alloc());
  encoded_.reset(av_packet_alloc());
  if (!decoder_ || !decoded_ || !encoded_) return Errc::encoder_failed;
  if (avcodec_parameters_to_context(decoder_.get(), input.codecpar) < 0) return Errc::codec_unsupported;
  decoder_->pkt_timebase = input.time_base;
  // Frame threading would hold back one frame per thread; slices keep decoding at zero delay.
  decoder_->thread_type = FF_THREAD_SLICE;
  if (avcodec_open2(decoder_.get(), codec, nullptr) < 0) return Errc::codec_unsupported;
  return {};
}

std::error_code Transcoder::send(const AVPacket& packet, std::vector<EncodedPacket>& out) {
  return decode(&packet, out);
}

std::error_code Transcoder::restart(std::vector<EncodedPacket>& out) {
  std::error_code error = decode(nullptr, out);
  avcodec_flush_buffers(decoder_.get());
  return error;
}

std::error_code Transcoder::finish(std::vector<EncodedPacket>& out) {
  if (std::error_code error = decode(nullptr, out)) return error;
  if (std::error_code error = on_end_of_input(out)) return error;
  return encode(nullptr, out);
}

std::error_code Transcoder::decode(const AVPacket* packet, std::vector<EncodedPacket>& out) {
  if (avcodec_send_packet(decoder_.get(), packet) == AVERROR(EAGAIN)) {
    // Frames still wait in the decoder (a broken one ended the last pass): take them, then retry.
    if (std::error_code error = receive_frames(out)) return error;
    avcodec_send_packet(decoder_.get(), packet);
  }
  // Any other refusal (corrupt data, a second drain) skips the packet; the stream goes on.
  return receive_frames(out);
}

std::error_code Transcoder::receive_frames(std::vector<EncodedPacket>& out) {
  for (;;) {
    const int result = avcodec_receive_frame(decoder_.get(), decoded_.get());
    if (result < 0) return {};  // EAGAIN (needs input), EOF (drained) or a broken frame
    std::error_code error = on_decoded(*decoded_, out);
    av_frame_unref(decoded_.get());
    if (error) return error;
  }
}

std::error_code Transcoder::encode(const AVFrame* frame, std::vector<EncodedPacket>& out) {
  const int sent = avcodec_send_frame(encoder_.get(), frame);
  if (sent < 0 && sent != AVERROR_EOF) return Errc::encoder_failed;
  for (;;) {
    const int result = avcodec_receive_packet(encoder_.get(), encoded_.get());
    if (result == AVERROR(EAGAIN) || result == AVERROR_EOF) return {};
    if (result < 0) return Errc::encoder_failed;
    EncodedPacket packet;
    packet.stream_index = stream_index_;
    packet.data.assign(encoded_->data, encoded_->data + encoded_->size);
    packet.pts = encoded_->pts;
    packet.dts = encoded_->dts != AV_NOPTS_VALUE ? encoded_->dts : encoded_->pts;
    packet.keyframe = info_.kind == MediaKind::audio || (encoded_->flags & AV_PKT_FLAG_KEY) != 0;
    av_packet_unref(encoded_.get());
    if (!packet.data.empty()) out.push_back(std::move(packet));
  }
}

namespace {

// ---------------------------------------------------------------------------------------------------------
// Video: any decodable video → yuv420p → libx264

class VideoTranscoder final : public Transcoder {
 public:
  std::error_code open(const AVStream& input, const TranscoderConfig& config);

 private:
  std::error_code on_decoded(AVFrame& frame, std::vector<EncodedPacket>& out) override;
  std::error_code on_end_of_input(std::vector<EncodedPacket>&) override { return {}; }

  ff::SwsPtr scaler_;
  ff::FramePtr scaled_;
  std::int64_t frame_ticks_ = 1;  // one nominal frame in the stream time base
  std::int64_t last_pts_ = AV_NOPTS_VALUE;
};

std::error_code VideoTranscoder::open(const AVStream& input, const TranscoderConfig& config) {
  stream_index_ = config.stream_index;
  if (std::error_code error = open_decoder(input)) return error;

  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (!codec) return Errc::encoder_failed;
  encoder_.reset(avcodec_alloc_context3(codec));
  scaled_.reset(av_frame_alloc());
  if (!encoder_ || !scaled_) return Errc::encoder_failed;

  // yuv420p needs even dimensions.
  const int width = decoder_->width & ~1;
  const int height = decoder_->height & ~1;
  if (width <= 0 || height <= 0) return Errc::codec_unsupported;

  AVRational frame_rate = config.frame_rate;
  if (frame_rate.num <= 0 || frame_rate.den <= 0) frame_rate = AVRational{30, 1};
  const double fps = av_q2d(frame_rate);
  const double keyframe_interval_s = config.keyframe_interval_s > 0 ? config.keyframe_interval_s : 1.0;
  const std::int64_t bitrate_bps = std::int64_t{config.video_bitrate_kbps > 0 ? config.video_bitrate_kbps : 2000} * 1000;

  AVCodecContext& enc = *encoder_;
  enc.width = width;
  enc.height = height;
  enc.sample_aspect_ratio = decoder_->sample_aspect_ratio;
  enc.pix_fmt = AV_PIX_FMT_YUV420P;
  // The input's own time base keeps variable frame rates exact; the frame rate only steers rate control.
  enc.time_base = input.time_base;
  enc.framerate = frame_rate;
  enc.gop_size = std::max(1, static_cast<int>(std::lround(keyframe_interval_s * fps)));
  enc.max_b_frames = 0;  // B-frames would add reorder delay
  enc.bit_rate = bitrate_bps;
  enc.rc_max_rate = bitrate_bps;
  enc.rc_buffer_size = static_cast<int>(std::min<std::int64_t>(bitrate_bps, INT32_MAX));  // about one second
  // Global header so the stream has Annex B SPS/PPS extradata, while repeat-headers also puts them in front
  // of every keyframe: a viewer that joins at any keyframe can decode.
  enc.flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  av_opt_set(enc.priv_data, "preset", "veryfast", 0);
  av_opt_set(enc.priv_data, "tune", "zerolatency", 0);
  av_opt_set(enc.priv_data, "x264-params", "repeat-headers=1:scenecut=0", 0);
  if (avcodec_open2(encoder_.get(), codec, nullptr) < 0) return Errc::encoder_failed;

  frame_ticks_ = std::max<std::int64_t>(1, av_rescale_q(1, av_inv_q(frame_rate), input.time_base));

  info_.kind = MediaKind::video;
  info_.codec = Codec::h264;
  if (enc.extradata && enc.extradata_size > 0) info_.extradata.assign(enc.extradata, enc.extradata + enc.extradata_size);
  info_.timebase_num = enc.time_base.num;
  info_.timebase_den = enc.time_base.den;
  info_.width = width;
  info_.height = height;
  info_.bitrate_kbps = static_cast<int>(bitrate_bps / 1000);
  return {};
}

std::error_code VideoTranscoder::on_decoded(AVFrame& frame, std::vector<EncodedPacket>& out) {
  std::int64_t pts = frame.best_effort_timestamp;
  if (pts == AV_NOPTS_VALUE) pts = last_pts_ == AV_NOPTS_VALUE ? 0 : last_pts_ + frame_ticks_;
  if (last_pts_ != AV_NOPTS_VALUE && pts <= last_pts_) return {};  // a repeated or backward frame
  last_pts_ = pts;

  AVFrame* picture = &frame;
  if (frame.format != AV_PIX_FMT_YUV420P || frame.width != encoder_->width || frame.height != encoder_->height) {
    scaler_.reset(sws_getCachedContext(scaler_.release(), frame.width, frame.height,
                                       static_cast<AVPixelFormat>(frame.format), encoder_->width,
                                       encoder_->height, AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr, nullptr,
                                       nullptr));
    if (!scaler_) return {};  // a format swscale cannot read: skip the frame
    if (!scaled_->data[0]) {
      scaled_->format = AV_PIX_FMT_YUV420P;
      scaled_->width = encoder_->width;
      scaled_->height = encoder_->height;
      if (av_frame_get_buffer(scaled_.get(), 0) < 0) return Errc::encoder_failed;
    }
    // The encoder may still reference the last picture.
    if (av_frame_make_writable(scaled_.get()) < 0) return Errc::encoder_failed;
    sws_scale(scaler_.get(), frame.data, frame.linesize, 0, frame.height, scaled_->data, scaled_->linesize);
    picture = scaled_.get();
  }
  picture->pts = pts;
  // Keyframes follow our interval, not the input's (a raw decoder marks every frame as I).
  picture->pict_type = AV_PICTURE_TYPE_NONE;
  return encode(picture, out);
}

// ---------------------------------------------------------------------------------------------------------
// Audio: any decodable audio → 48 kHz stereo float planar → AAC

constexpr int aac_sample_rate_hz = 48000;
constexpr int aac_channels = 2;
// A jump in the input's timestamps larger than this is a gap (e.g. a loop restart), not jitter.
constexpr std::int64_t resync_threshold_samples = aac_sample_rate_hz / 10;

class AudioTranscoder final : public Transcoder {
 public:
  AudioTranscoder() = default;
  ~AudioTranscoder() override { av_channel_layout_uninit(&resampler_layout_); }
  std::error_code open(const AVStream& input, const TranscoderConfig& config);

 private:
  std::error_code on_decoded(AVFrame& frame, std::vector<EncodedPacket>& out) override;
  std::error_code on_end_of_input(std::vector<EncodedPacket>& out) override;
  std::error_code configure_resampler(const AVFrame& frame);
  std::error_code resample_into_fifo(const AVFrame* frame);
  std::error_code pad_to_whole_frame();
  std::error_code encode_from_fifo(int samples, std::vector<EncodedPacket>& out);
  std::error_code encode_whole_frames(std::vector<EncodedPacket>& out);

  ff::SwrPtr resampler_;
  AVChannelLayout resampler_layout_{};
  int resampler_format_ = -1;
  int resampler_rate_hz_ = 0;
  ff::FifoPtr fifo_;
  ff::FramePtr resampled_;
  int frame_size_ = 1024;
  bool anchored_ = false;
  std::int64_t next_pts_ = 0;  // pts of the first sample in the FIFO, in 1/48000 s
};

std::error_code AudioTranscoder::open(const AVStream& input, const TranscoderConfig& config) {
  stream_index_ = config.stream_index;
  if (std::error_code error = open_decoder(input)) return error;

  const AVCodec* codec = avcodec_find_encoder_by_name("aac");
  if (!codec) return Errc::encoder_failed;
  encoder_.reset(avcodec_alloc_context3(codec));
  resampled_.reset(av_frame_alloc());
  if (!encoder_ || !resampled_) return Errc::encoder_failed;

  const std::int64_t bitrate_bps = std::int64_t{config.audio_bitrate_kbps > 0 ? config.audio_bitrate_kbps : 128} * 1000;
  AVCodecContext& enc = *encoder_;
  enc.sample_fmt = AV_SAMPLE_FMT_FLTP;
  enc.sample_rate = aac_sample_rate_hz;
  av_channel_layout_default(&enc.ch_layout, aac_channels);
  enc.bit_rate = bitrate_bps;
  enc.time_base = AVRational{1, aac_sample_rate_hz};
  enc.flags |= AV_CODEC_FLAG_GLOBAL_HEADER;  // extradata = AudioSpecificConfig; the TS muxer writes ADTS
  if (avcodec_open2(encoder_.get(), codec, nullptr) < 0) return Errc::encoder_failed;
  if (enc.frame_size > 0) frame_size_ = enc.frame_size;

  fifo_.reset(av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, aac_channels, frame_size_ * 2));
  if (!fifo_) return Errc::encoder_failed;

  info_.kind = MediaKind::audio;
  info_.codec = Codec::aac;
  if (enc.extradata && enc.extradata_size > 0) info_.extradata.assign(enc.extradata, enc.extradata + enc.extradata_size);
  info_.timebase_num = 1;
  info_.timebase_den = aac_sample_rate_hz;
  info_.sample_rate = aac_sample_rate_hz;
  info_.channels = aac_channels;
  info_.frame_size = frame_size_;
  info_.bitrate_kbps = static_cast<int>(bitrate_bps / 1000);
  return {};
}

std::error_code AudioTranscoder::configure_resampler(const AVFrame& frame) {
  AVChannelLayout in_layout{};
  if (frame.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || frame.ch_layout.nb_channels <= 0)
    av_channel_layout_default(&in_layout, std::max(1, frame.ch_layout.nb_channels));
  else if (av_channel_layout_copy(&in_layout, &frame.ch_layout) < 0)
    return Errc::encoder_failed;

  const bool same = resampler_ && frame.format == resampler_format_ && frame.sample_rate == resampler_rate_hz_ &&
                    av_channel_layout_compare(&in_layout, &resampler_layout_) == 0;
  if (same) {
    av_channel_layout_uninit(&in_layout);
    return {};
  }

  SwrContext* swr = nullptr;
  const int result = swr_alloc_set_opts2(&swr, &encoder_->ch_layout, AV_SAMPLE_FMT_FLTP, aac_sample_rate_hz,
                                         &in_layout, static_cast<AVSampleFormat>(frame.format),
                                         frame.sample_rate, 0, nullptr);
  resampler_.reset(swr);
  av_channel_layout_uninit(&resampler_layout_);
  resampler_layout_ = in_layout;  // takes ownership
  resampler_format_ = frame.format;
  resampler_rate_hz_ = frame.sample_rate;
  if (result < 0 || swr_init(resampler_.get()) < 0) {
    resampler_.reset();
    return Errc::encoder_failed;
  }
  return {};
}

std::error_code AudioTranscoder::on_decoded(AVFrame& frame, std::vector<EncodedPacket>& out) {
  if (frame.sample_rate <= 0 || frame.nb_samples <= 0) return {};
  if (configure_resampler(frame)) return {};  // an input layout swresample cannot take: skip the frame

  // Encoder timestamps count samples, anchored to the input's clock at the start and after gaps.
  if (frame.best_effort_timestamp != AV_NOPTS_VALUE) {
    const std::int64_t input_pts = av_rescale_q(frame.best_effort_timestamp, decoder_->pkt_timebase,
                                                AVRational{1, aac_sample_rate_hz});
    const std::int64_t expected_pts = next_pts_ + av_audio_fifo_size(fifo_.get());
    if (!anchored_) {
      next_pts_ = input_pts;
    } else if (input_pts - expected_pts > resync_threshold_samples) {
      if (std::error_code error = pad_to_whole_frame()) return error;
      if (std::error_code error = encode_whole_frames(out)) return error;
      next_pts_ = input_pts;
    }
  }
  anchored_ = true;

  if (std::error_code error = resample_into_fifo(&frame)) return error;
  return encode_whole_frames(out);
}

std::error_code AudioTranscoder::resample_into_fifo(const AVFrame* frame) {
  if (!resampler_) return {};
  const int in_samples = frame ? frame->nb_samples : 0;
  const int capacity = swr_get_out_samples(resampler_.get(), in_samples);
  if (capacity <= 0) return {};
  if (resampled_->nb_samples < capacity) {
    av_frame_unref(resampled_.get());
    resampled_->format = AV_SAMPLE_FMT_FLTP;
    resampled_->nb_samples = capacity;
    if (av_channel_layout_copy(&resampled_->ch_layout, &encoder_->ch_layout) < 0 ||
        av_frame_get_buffer(resampled_.get(), 0) < 0)
      return Errc::encoder_failed;
  }
  const int converted = swr_convert(resampler_.get(), resampled_->data, capacity,
                                    frame ? const_cast<const std::uint8_t**>(frame->extended_data) : nullptr,
                                    in_samples);
  if (converted <= 0) return {};
  if (av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(resampled_->data), converted) < converted)
    return Errc::encoder_failed;
  return {};
}

std::error_code AudioTranscoder::pad_to_whole_frame() {
  const int queued = av_audio_fifo_size(fifo_.get());
  if (queued % frame_size_ == 0) return {};
  const int silence = frame_size_ - queued % frame_size_;
  ff::FramePtr padding(av_frame_alloc());
  if (!padding) return Errc::encoder_failed;
  padding->format = AV_SAMPLE_FMT_FLTP;
  padding->nb_samples = silence;
  if (av_channel_layout_copy(&padding->ch_layout, &encoder_->ch_layout) < 0 ||
      av_frame_get_buffer(padding.get(), 0) < 0)
    return Errc::encoder_failed;
  av_samples_set_silence(padding->data, 0, silence, aac_channels, AV_SAMPLE_FMT_FLTP);
  if (av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(padding->data), silence) < silence)
    return Errc::encoder_failed;
  return {};
}

std::error_code AudioTranscoder::encode_from_fifo(int samples, std::vector<EncodedPacket>& out) {
  ff::FramePtr frame(av_frame_alloc());
  if (!frame) return Errc::encoder_failed;
  frame->format = AV_SAMPLE_FMT_FLTP;
  frame->nb_samples = samples;
  frame->sample_rate = aac_sample_rate_hz;
  if (av_channel_layout_copy(&frame->ch_layout, &encoder_->ch_layout) < 0 ||
      av_frame_get_buffer(frame.get(), 0) < 0)
    return Errc::encoder_failed;
  if (av_audio_fifo_read(fifo_.get(), reinterpret_cast<void**>(frame->data), samples) < samples)
    return Errc::encoder_failed;
  frame->pts = next_pts_;
  next_pts_ += samples;
  return encode(frame.get(), out);
}

std::error_code AudioTranscoder::encode_whole_frames(std::vector<EncodedPacket>& out) {
  while (av_audio_fifo_size(fifo_.get()) >= frame_size_) {
    if (std::error_code error = encode_from_fifo(frame_size_, out)) return error;
  }
  return {};
}

std::error_code AudioTranscoder::on_end_of_input(std::vector<EncodedPacket>& out) {
  if (std::error_code error = resample_into_fifo(nullptr)) return error;  // what swresample still holds
  if (std::error_code error = encode_whole_frames(out)) return error;
  const int rest = av_audio_fifo_size(fifo_.get());
  if (rest == 0) return {};
  if (!(encoder_->codec->capabilities & AV_CODEC_CAP_SMALL_LAST_FRAME)) {
    if (std::error_code error = pad_to_whole_frame()) return error;
    return encode_whole_frames(out);
  }
  return encode_from_fifo(rest, out);
}

}  // namespace

Result<std::unique_ptr<Transcoder>> Transcoder::video(const AVStream& input, const TranscoderConfig& config) {
  auto transcoder = std::make_unique<VideoTranscoder>();
  if (std::error_code error = transcoder->open(input, config)) return error;
  return std::unique_ptr<Transcoder>(std::move(transcoder));
}

Result<std::unique_ptr<Transcoder>> Transcoder::audio(const AVStream& input, const TranscoderConfig& config) {
  auto transcoder = std::make_unique<AudioTranscoder>();
  if (std::error_code error = transcoder->open(input, config)) return error;
  return std::unique_ptr<Transcoder>(std::move(transcoder));
}

}  // namespace p2plive
