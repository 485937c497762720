// What an attacker on the same host can do to UDP on loopback, as root: send datagrams with any source
// address (a raw socket that writes its own IP header), and see every datagram others exchange (a packet
// socket on lo).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "p2plive/endpoint.hpp"

namespace p2plive::attack {

class RawSender {
 public:
  RawSender();
  ~RawSender();
  bool ok() const { return fd_ >= 0; }
  // One IPv4 UDP datagram from `from` (forged) to `to`.
  bool send(const Endpoint& from, const Endpoint& to, std::span<const std::uint8_t> payload);

 private:
  int fd_ = -1;
  std::vector<std::uint8_t> packet_;
};

struct Captured {
  Endpoint from, to;
  std::vector<std::uint8_t> payload;
};

class Sniffer {
 public:
  Sniffer();  // every IPv4 packet on lo
  ~Sniffer();
  bool ok() const { return fd_ >= 0; }
  // The next UDP datagram seen on lo, waiting at most `timeout_ms`.
  std::optional<Captured> next(int timeout_ms);

 private:
  int fd_ = -1;
  std::vector<std::uint8_t> buffer_ = std::vector<std::uint8_t>(65536);
};

}  // namespace p2plive::attack
