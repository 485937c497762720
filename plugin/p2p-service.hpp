// The "P2P Live" streaming service: where the stream key, the listen address and the optional trackers or
// bootstrap peers live. A profile whose service.json names p2p_live_service streams with Start Streaming.
#pragma once

namespace p2plive::plugin {

inline constexpr const char* service_id = "p2p_live_service";
inline constexpr const char* output_id = "p2p_live_output";
inline constexpr const char* protocol_name = "P2PLIVE";  // OBS 29.1+ matches services to outputs by it

// Service settings keys.
inline constexpr const char* setting_key = "key";        // the secret key text, as `p2plive keygen` writes it
inline constexpr const char* setting_server = "server";  // trackers or HOST:PORT peers, whitespace separated
inline constexpr const char* setting_listen = "listen";  // HOST:PORT for the UDP socket
inline constexpr const char* default_listen = "0.0.0.0:7000";

// Encoder settings we enforce for a live swarm.
inline constexpr long long max_keyint_sec = 2;      // viewers join at keyframes
inline constexpr long long default_keyint_sec = 1;  // used when the encoder's is automatic or too long

void register_p2p_service();

}  // namespace p2plive::plugin
