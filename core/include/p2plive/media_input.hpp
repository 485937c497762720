// Reads any FFmpeg input (a file, "lavfi:<filtergraph>", pipe:0, srt://...) as encoded packets, paced in
// real time. Inputs that are already h264/aac pass through untouched; raw or other codecs are encoded with
// libx264 (zerolatency) and AAC.
//
// The best video and the best audio stream are used (either may be missing); streams() lists video first.
// Passed-through streams keep the demuxer's time base and framing (MP4 gives avcC extradata and
// length-prefixed NAL units; TsMuxer takes both). Encoded video is Annex B with SPS/PPS in the extradata
// and before every keyframe, in the input stream's time base; encoded audio is 48 kHz stereo AAC in
// 1/48000 with an AudioSpecificConfig. Packets come in decode order per stream and interleaved by DTS
// across streams; with loop, later passes are shifted so timestamps keep increasing.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "p2plive/error.hpp"
#include "p2plive/log.hpp"
#include "p2plive/media.hpp"

namespace p2plive {

struct MediaInputConfig {
  std::string url;               // "lavfi:testsrc2=size=640x360:rate=30[out0];sine[out1]" uses libavfilter
  std::string format;            // force a demuxer ("" = probe)
  bool loop = false;             // restart files at the end
  bool realtime = true;          // pace packets by their timestamps
  int video_bitrate_kbps = 2000; // when encoding
  int audio_bitrate_kbps = 128;
  double keyframe_interval_s = 1.0;
  LogSink log;
};

class MediaInput {
 public:
  static Result<std::unique_ptr<MediaInput>> open(MediaInputConfig config);
  virtual ~MediaInput() = default;
  virtual const std::vector<StreamInfo>& streams() const = 0;
  // Blocks until the next packet is due. nullopt at the end of the input (or after interrupt()).
  virtual std::optional<EncodedPacket> read() = 0;
  // Makes a blocked read() return soon; safe from any thread.
  virtual void interrupt() = 0;
};

}  // namespace p2plive

namespace p2plive {

// FFmpeg logs to stderr for the whole process. Programs (not the OBS plugin, which shares the process with
// OBS) choose how much of it they want: warnings and errors by default.
void set_ffmpeg_log_level(LogLevel level);

}  // namespace p2plive
