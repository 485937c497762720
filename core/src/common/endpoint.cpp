#include "p2plive/endpoint.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace p2plive {

Endpoint Endpoint::v4(std::uint32_t host_order_address, std::uint16_t port) {
  Endpoint e;
  e.address[10] = 0xff;
  e.address[11] = 0xff;
  e.address[12] = static_cast<std::uint8_t>(host_order_address >> 24);
  e.address[13] = static_cast<std::uint8_t>(host_order_address >> 16);
  e.address[14] = static_cast<std::uint8_t>(host_order_address >> 8);
  e.address[15] = static_cast<std::uint8_t>(host_order_address);
  e.port = port;
  return e;
}

bool Endpoint::is_v4() const {
  static constexpr std::uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(address.data(), prefix, sizeof prefix) == 0;
}

Result<Endpoint> Endpoint::parse(std::string_view text) {
  std::string_view host, port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return Errc::endpoint_bad_format;
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return Errc::endpoint_bad_format;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535)
    return Errc::endpoint_bad_port;

  Endpoint e;
  e.port = static_cast<std::uint16_t>(port);
  const std::string host_z(host);
  in_addr v4{};
  if (host == "localhost") return loopback(e.port);
  if (inet_pton(AF_INET, host_z.c_str(), &v4) == 1) return Endpoint::v4(ntohl(v4.s_addr), e.port);
  if (inet_pton(AF_INET6, host_z.c_str(), e.address.data()) == 1) return e;
  return Errc::endpoint_bad_format;
}

bool Endpoint::is_unspecified() const { return address == v4(0, 0).address || address == Endpoint{}.address; }

std::string Endpoint::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (is_v4()) {
    inet_ntop(AF_INET, address.data() + 12, text, sizeof text);
    return std::string(text) + ":" + std::to_string(port);
  }
  inet_ntop(AF_INET6, address.data(), text, sizeof text);
  return "[" + std::string(text) + "]:" + std::to_string(port);
}

std::size_t EndpointHash::operator()(const Endpoint& e) const noexcept {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (auto b : e.address) h = (h ^ b) * 1099511628211ull;
  h = (h ^ e.port) * 1099511628211ull;
  return static_cast<std::size_t>(h);
}

}  // namespace p2plive
