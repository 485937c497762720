// Encoder settings for a live swarm. Viewers can only start at a keyframe, so a join waits up to one
// keyframe interval: we want at most 2 s. x264's lookahead and B-frames add delay before a frame leaves
// the encoder, which `tune=zerolatency` removes.
//
// Two cases: settings we may change (the service's apply_encoder_settings, encoders the dock makes) are
// fixed and each change is reported; encoders that another output already runs are only reviewed, and
// what is poor for P2P is reported. Reports go to the log and to a notice board that the dock shows.
#pragma once

#include <string>
#include <vector>

#include <obs.h>

namespace p2plive::plugin {

inline constexpr long long max_keyint_sec = 2;      // viewers join at keyframes
inline constexpr long long default_keyint_sec = 1;  // used when the encoder's is automatic or too long

// Fixes `video` in place; returns one localised line per change.
std::vector<std::string> apply_live_video_settings(obs_data_t* video);
// Returns one localised line per setting of a running encoder that is poor for P2P.
std::vector<std::string> review_video_encoder(obs_encoder_t* encoder);

// Notices for the streamer: posted from any thread (apply_encoder_settings runs on OBS's UI thread or
// its output start), taken by the dock's timer. Bounded; the oldest go first.
void post_notices(const std::vector<std::string>& notices);
std::vector<std::string> take_notices();

}  // namespace p2plive::plugin
