// PCP (RFC 6887) MAP and ANNOUNCE messages, as bytes: the successor of NAT-PMP, spoken on the same port
// (5351) by the same routers (miniupnpd, most current firmware). Pure functions, so that the router
// code stays a thin socket loop and the decoder can be fuzzed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "p2plive/endpoint.hpp"

namespace p2plive::pcp {

inline constexpr std::uint16_t server_port = 5351;
inline constexpr std::uint8_t version = 2;
inline constexpr std::uint8_t opcode_announce = 0;
inline constexpr std::uint8_t opcode_map = 1;
inline constexpr std::uint8_t protocol_udp = 17;

using Nonce = std::array<std::uint8_t, 12>;

struct MapRequest {
  Endpoint client;                  // our address as the router sees it (the socket's), and the internal port
  std::uint16_t external_port = 0;  // suggested; 0: any
  std::uint32_t lifetime_s = 0;     // 0 deletes the mapping
  Nonce nonce{};                    // the same for every request about one mapping
};

std::vector<std::uint8_t> encode_announce(const Endpoint& client);
std::vector<std::uint8_t> encode_map(const MapRequest& request);

struct Response {
  std::uint8_t opcode = 0;
  std::uint8_t result = 0;  // 0: success
  std::uint32_t lifetime_s = 0;
  std::uint32_t epoch_s = 0;
  // MAP only:
  Nonce nonce{};
  std::uint8_t protocol = 0;
  std::uint16_t internal_port = 0;
  Endpoint external{};  // the address and port the router assigned
};

// nullopt for anything that is not a PCP response (too short, another version, a request). A NAT-PMP-only
// router answers a PCP request with a version-0 "unsupported version", which is nullopt too.
std::optional<Response> decode_response(std::span<const std::uint8_t> bytes);

// The RFC's name for a result code, for messages.
std::string result_name(std::uint8_t result);
inline constexpr std::uint8_t result_cannot_provide_external = 11;  // the port asked for is taken

}  // namespace p2plive::pcp
