#include "reachability/pcp_wire.hpp"

#include <algorithm>

namespace p2plive::pcp {
namespace {

constexpr std::size_t header_size = 24;
constexpr std::size_t map_size = 36;

void put16(std::vector<std::uint8_t>& out, std::size_t at, std::uint16_t v) {
  out[at] = static_cast<std::uint8_t>(v >> 8);
  out[at + 1] = static_cast<std::uint8_t>(v);
}

void put32(std::vector<std::uint8_t>& out, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

std::uint16_t get16(std::span<const std::uint8_t> in, std::size_t at) {
  return static_cast<std::uint16_t>(in[at] << 8 | in[at + 1]);
}

std::uint32_t get32(std::span<const std::uint8_t> in, std::size_t at) {
  return std::uint32_t{in[at]} << 24 | std::uint32_t{in[at + 1]} << 16 | std::uint32_t{in[at + 2]} << 8 |
         in[at + 3];
}

// Endpoint keeps every address as 16 bytes, IPv4 mapped into ::ffff:0:0/96 as PCP wants it.
void put_address(std::vector<std::uint8_t>& out, std::size_t at, const Endpoint& e) {
  std::copy(e.address.begin(), e.address.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
}

std::vector<std::uint8_t> header(std::uint8_t opcode, std::uint32_t lifetime_s, const Endpoint& client,
                                 std::size_t body) {
  std::vector<std::uint8_t> out(header_size + body, 0);
  out[0] = version;
  out[1] = opcode;  // R = 0: a request
  put32(out, 4, lifetime_s);
  put_address(out, 8, client);
  return out;
}

}  // namespace

std::vector<std::uint8_t> encode_announce(const Endpoint& client) {
  return header(opcode_announce, 0, client, 0);
}

std::vector<std::uint8_t> encode_map(const MapRequest& request) {
  std::vector<std::uint8_t> out = header(opcode_map, request.lifetime_s, request.client, map_size);
  std::copy(request.nonce.begin(), request.nonce.end(), out.begin() + header_size);
  out[header_size + 12] = protocol_udp;
  put16(out, header_size + 16, request.client.port);
  put16(out, header_size + 18, request.external_port);
  // Suggested external address: "no preference" in the client's family (::ffff:0.0.0.0 for IPv4).
  if (request.client.is_v4()) {
    out[header_size + 30] = 0xff;
    out[header_size + 31] = 0xff;
  }
  return out;
}

std::optional<Response> decode_response(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < header_size || bytes.size() > 1100 || bytes[0] != version || (bytes[1] & 0x80) == 0)
    return std::nullopt;
  Response r;
  r.opcode = bytes[1] & 0x7f;
  r.result = bytes[3];
  r.lifetime_s = get32(bytes, 4);
  r.epoch_s = get32(bytes, 8);
  if (r.opcode == opcode_map) {
    if (bytes.size() < header_size + map_size) return std::nullopt;
    const auto body = bytes.subspan(header_size);
    std::copy_n(body.begin(), r.nonce.size(), r.nonce.begin());
    r.protocol = body[12];
    r.internal_port = get16(body, 16);
    std::copy_n(body.begin() + 20, r.external.address.size(), r.external.address.begin());
    r.external.port = get16(body, 18);
  }
  return r;
}

std::string result_name(std::uint8_t result) {
  static constexpr const char* names[] = {
      "SUCCESS",          "UNSUPP_VERSION",        "NOT_AUTHORIZED",   "MALFORMED_REQUEST",
      "UNSUPP_OPCODE",    "UNSUPP_OPTION",         "MALFORMED_OPTION", "NETWORK_FAILURE",
      "NO_RESOURCES",     "UNSUPP_PROTOCOL",       "USER_EX_QUOTA",    "CANNOT_PROVIDE_EXTERNAL",
      "ADDRESS_MISMATCH", "EXCESSIVE_REMOTE_PEERS"};
  if (result < std::size(names)) return names[result];
  return "result " + std::to_string(result);
}

}  // namespace p2plive::pcp
