// A UDP endpoint as plain bytes, so the sans-IO protocol needs no socket headers.
#pragma once

#include <array>
#include <compare>
#include <cstring>
#include <cstdint>
#include <string>
#include <string_view>

#include "p2plive/error.hpp"

namespace p2plive {

struct Endpoint {
  std::array<std::uint8_t, 16> address{};  // IPv4 is stored as the v4-mapped IPv6 address
  std::uint16_t port = 0;

  static Endpoint v4(std::uint32_t host_order_address, std::uint16_t port);
  static Endpoint loopback(std::uint16_t port) { return v4(0x7f000001u, port); }
  // "1.2.3.4:5", "[::1]:5" or "localhost:5". Names other than localhost are not resolved here.
  static Result<Endpoint> parse(std::string_view text);

  bool is_v4() const;
  // 0.0.0.0 or [::]: a listen address that names no host viewers could reach.
  bool is_unspecified() const;
  std::string to_string() const;
  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
  // Equality is on every hot path of the protocol (peer lookups): compare as two words and a port.
  friend bool operator==(const Endpoint& a, const Endpoint& b) {
    std::uint64_t x[2], y[2];
    std::memcpy(x, a.address.data(), 16);
    std::memcpy(y, b.address.data(), 16);
    return a.port == b.port && x[0] == y[0] && x[1] == y[1];
  }
};

struct EndpointHash {
  std::size_t operator()(const Endpoint& e) const noexcept;
};

}  // namespace p2plive
