// OBS encoders and packets -> the core's StreamInfo and EncodedPacket. Pure mapping, no state.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <obs.h>

#include "p2plive/media.hpp"

namespace p2plive::plugin {

// Streams go out as [video, audio] (audio track 0; other tracks are not sent yet), or [audio] alone from the
// sound-only output.

std::optional<Codec> codec_from_obs(const char* obs_codec);

struct StreamsOrError {
  std::vector<StreamInfo> streams;  // [video, audio], or [audio] for an output without video
  std::string error;                // localised, for obs_output_set_last_error
  bool ok() const { return error.empty(); }
};

// Reads the output's video encoder (unless the output carries no video) and audio encoder 0. Call after
// obs_output_initialize_encoders(), when the encoders' extradata (SPS/PPS, AudioSpecificConfig) exists.
StreamsOrError describe_streams(obs_output_t* output);

// Copies an OBS packet, rescaling its timestamps to the stream's timebase if they differ. nullopt for
// packets we don't send (audio tracks other than 0, video on a sound-only output).
std::optional<EncodedPacket> to_encoded_packet(const encoder_packet& packet, const std::vector<StreamInfo>& streams);

// value * from_num / from_den in units of to_num / to_den, rounded to nearest.
// "h264 1280x720, aac 48000 Hz", or "opus 48000 Hz, sound only": for the log.
std::string describe_for_log(const std::vector<StreamInfo>& streams);

std::int64_t rescale(std::int64_t value, int from_num, int from_den, int to_num, int to_den);

}  // namespace p2plive::plugin
