// The "P2P Live" streaming service: where the stream key, the listen address and the optional trackers or
// bootstrap peers live. A profile whose service.json names p2p_live_service streams with Start Streaming.
#pragma once

namespace p2plive::plugin {

inline constexpr const char* service_id = "p2p_live_service";
inline constexpr const char* output_id = "p2p_live_output";
inline constexpr const char* audio_output_id = "p2p_live_audio_output";  // sound alone (a DJ's set)
inline constexpr const char* protocol_name = "P2PLIVE";  // OBS 29.1+ matches services to outputs by it

// Service settings keys.
// The secret key text, as `p2plive keygen` writes it. Empty: the plugin's own key (key-store.hpp), so the
// secret stays out of OBS's service.json.
inline constexpr const char* setting_key = "key";
inline constexpr const char* setting_server = "server";  // trackers or HOST:PORT peers, whitespace separated
inline constexpr const char* setting_listen = "listen";  // HOST:PORT for the UDP socket
inline constexpr const char* setting_upload_cap_kbps = "upload_cap_kbps";  // 0: no cap
inline constexpr const char* setting_port_mapping = "port_mapping";  // ask the router to forward the port
inline constexpr const char* setting_dht = "dht";  // announce the stream on the Mainline DHT
// The name of an OBS text source whose text is the track now playing (timed ID3 in the stream); "": none.
inline constexpr const char* setting_now_playing_source = "now_playing_source";
inline constexpr const char* default_listen = "0.0.0.0:7000";

void register_p2p_service();

}  // namespace p2plive::plugin
