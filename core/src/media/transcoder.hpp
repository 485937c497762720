// Decodes an input stream that the swarm cannot carry as it is, and encodes it to h264 (libx264, zerolatency)
// or AAC (48 kHz stereo). Used by MediaInput for raw and foreign-codec inputs; OBS packets never come here.
#pragma once

#include <memory>
#include <system_error>
#include <vector>

#include "media/ffmpeg_ptr.hpp"
#include "p2plive/error.hpp"
#include "p2plive/media.hpp"

namespace p2plive {

struct TranscoderConfig {
  int stream_index = 0;             // the EncodedPacket::stream_index to stamp on the output
  int video_bitrate_kbps = 2000;
  int audio_bitrate_kbps = 128;
  double keyframe_interval_s = 1.0;
  AVRational frame_rate{30, 1};     // the input's nominal rate (for the keyframe interval and rate control)
};

class Transcoder {
 public:
  static Result<std::unique_ptr<Transcoder>> video(const AVStream& input, const TranscoderConfig& config);
  static Result<std::unique_ptr<Transcoder>> audio(const AVStream& input, const TranscoderConfig& config);

  virtual ~Transcoder() = default;
  Transcoder(const Transcoder&) = delete;
  Transcoder& operator=(const Transcoder&) = delete;

  // The encoded stream: codec, time base, extradata, dimensions or sample format.
  const StreamInfo& info() const { return info_; }

  // Decodes one demuxed packet (timestamps in the input stream's time base) and appends what the encoder
  // gives back. Corrupt input is skipped; only encoder failures are errors.
  std::error_code send(const AVPacket& packet, std::vector<EncodedPacket>& out);
  // Empties the decoder and makes it ready for more input, e.g. after a seek; the encoder keeps running.
  std::error_code restart(std::vector<EncodedPacket>& out);
  // Empties the decoder and then the encoder, at the end of the input.
  std::error_code finish(std::vector<EncodedPacket>& out);

 protected:
  Transcoder() = default;
  std::error_code open_decoder(const AVStream& input);
  // Takes one decoded frame (owned by the caller) through conversion and encoding.
  virtual std::error_code on_decoded(AVFrame& frame, std::vector<EncodedPacket>& out) = 0;
  // Pushes out whatever conversion holds back, before the encoder is flushed.
  virtual std::error_code on_end_of_input(std::vector<EncodedPacket>& out) = 0;
  // Sends a frame to the encoder (nullptr flushes it) and collects the packets it returns.
  std::error_code encode(const AVFrame* frame, std::vector<EncodedPacket>& out);

  StreamInfo info_;
  int stream_index_ = 0;
  ff::CodecPtr decoder_;
  ff::CodecPtr encoder_;

 private:
  std::error_code decode(const AVPacket* packet, std::vector<EncodedPacket>& out);
  std::error_code receive_frames(std::vector<EncodedPacket>& out);

  ff::FramePtr decoded_;
  ff::PacketPtr encoded_;
};

}  // namespace p2plive
