// Encoded media as the core receives it: from OBS's encoders or from an FFmpeg input. No re-encoding.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

namespace p2plive {

enum class MediaKind { video, audio };
enum class Codec { h264, hevc, av1, aac, opus };

const char* codec_name(Codec codec);

struct StreamInfo {
  MediaKind kind = MediaKind::video;
  Codec codec = Codec::h264;
  std::vector<std::uint8_t> extradata;  // as the encoder or demuxer gives it: SPS/PPS (Annex B or avcC), AudioSpecificConfig
  int timebase_num = 1;                 // packet timestamps are in timebase_num / timebase_den seconds
  int timebase_den = 1000;
  int width = 0, height = 0;                  // video
  int sample_rate = 0, channels = 0;          // audio
  int frame_size = 0;                         // audio samples per packet, if known
  int bitrate_kbps = 0;
};

struct EncodedPacket {
  int stream_index = 0;  // index into the StreamInfo list given at start
  std::vector<std::uint8_t> data;
  std::int64_t pts = 0;
  std::int64_t dts = 0;
  bool keyframe = false;
};

// Receives MPEG-TS bytes chunk by chunk, in order; `join_point` marks a chunk that starts at a keyframe.
using MediaSink = std::function<void(std::span<const std::uint8_t> ts_bytes, bool join_point)>;

}  // namespace p2plive
