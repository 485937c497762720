// Reads any FFmpeg input (a file, "lavfi:<filtergraph>", pipe:0, srt://...) as encoded packets, paced in
// real time. Inputs that are already h264/aac pass through untouched; raw or other codecs are encoded with
// libx264 (zerolatency) and AAC.
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
