// P2P beside whatever OBS streams or records (the idea of obs-multi-rtmp): our own p2p_live_output on the
// encoders that already run, so nothing is encoded twice. OBS refcounts an encoder's users, so the main
// stream may stop and start while we keep sending. When nothing runs, we make encoders from the profile's
// stream settings, with the keyframe interval and latency a swarm needs. Sound only takes the audio
// encoder alone.
//
// UI thread only (the dock owns it).
#pragma once

#include <string>
#include <vector>

#include <obs.h>

namespace p2plive::plugin {

struct SideOutputConfig {
  std::string listen;  // HOST:PORT
  std::string server;  // trackers and peers
  long long upload_cap_kbps = 0;
  bool port_mapping = true;
  bool dht = true;
  bool sound_only = false;         // p2p_live_audio_output: the audio encoder alone, no picture (a DJ's set)
  std::string now_playing_source;  // a text source whose text is the track title
};

class SideOutput {
 public:
  SideOutput() = default;
  ~SideOutput() { release(); }
  SideOutput(const SideOutput&) = delete;
  SideOutput& operator=(const SideOutput&) = delete;

  // Returns "" once the output starts, else a localised reason. `notices` gets what the streamer should
  // know about the encoders (changed for P2P, or poor for P2P).
  std::string start(const SideOutputConfig& config, std::vector<std::string>& notices);
  void stop();
  bool active() const { return output_ && obs_output_active(output_); }
  obs_output_t* output() const { return output_; }
  // The shared video encoder's settings are poor for P2P (we may not change an encoder others use).
  bool encoder_poor() const { return encoder_poor_; }
  // Stops (forced) and lets go of everything; OBS must have no output of ours left when it shuts down.
  void release();

 private:
  std::string attach_encoders(bool sound_only, std::vector<std::string>& notices);
  std::string create_encoders(bool sound_only, std::vector<std::string>& notices);

  obs_service_t* service_ = nullptr;
  obs_output_t* output_ = nullptr;
  obs_encoder_t* video_ = nullptr;  // a reference of ours, shared or made
  obs_encoder_t* audio_ = nullptr;
  bool encoder_poor_ = false;
};

}  // namespace p2plive::plugin
