// The dock's own settings, kept beside the key in the plugin's config folder (dock.json). They feed the
// P2P output beside the main stream, and "Use as main stream" copies them into OBS's streaming service.
#pragma once

#include <string>

namespace p2plive::plugin {

struct DockConfig {
  int listen_port = 7000;            // UDP, on every address
  std::string server;                // trackers and HOST:PORT peers, whitespace separated
  long long upload_cap_kbps = 0;     // 0: no cap
  bool port_mapping = true;          // ask the home router to forward the port (UPnP IGD, NAT-PMP)
  bool dht = true;                   // announce the stream on the Mainline DHT (key-only links find it)
  bool sound_only = false;           // Start sends the audio alone (p2p_live_audio_output)
  std::string now_playing_source;    // a text source whose text is the track title; "": no titles
  bool shown_once = false;           // the first start shows the dock, later starts keep the user's layout

  std::string listen() const { return "0.0.0.0:" + std::to_string(listen_port); }
};

DockConfig load_dock_config();
void save_dock_config(const DockConfig& config);

}  // namespace p2plive::plugin
