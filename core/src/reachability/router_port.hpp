// A home router that maps ports on request. Three protocols speak to one: UPnP IGD (miniupnpc), PCP (ours,
// pcp_wire.hpp) and NAT-PMP (libnatpmp). Every call blocks, for at most a few seconds, so only the port
// mapper's thread makes them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "p2plive/endpoint.hpp"

namespace p2plive {

struct PortGrant {
  Endpoint external;                // the router's address and the port it opened for us
  std::chrono::seconds lifetime{};  // 0: until removed
};

struct MapAttempt {
  std::optional<PortGrant> grant;
  std::string why;          // when there is no grant: the router's answer, in words
  bool port_taken = false;  // the external port is mapped to someone else: try another one
};

class RouterPort {
 public:
  virtual ~RouterPort() = default;
  virtual const char* method() const = 0;  // "UPnP", "PCP" or "NAT-PMP"
  // Asks for UDP `external_port` on the router to reach `internal_port` here. Asking again renews.
  virtual MapAttempt map(std::uint16_t internal_port, std::uint16_t external_port,
                         std::chrono::seconds lifetime) = 0;
  virtual void unmap(std::uint16_t internal_port, const PortGrant& grant) = 0;
};

// Each looks for its kind of router, for at most `wait`, or says why it found none. `bound` is the
// socket's address: a specific one picks the interface to look on.
std::unique_ptr<RouterPort> find_upnp_router(const Endpoint& bound, std::chrono::milliseconds wait,
                                             std::string& why);
std::unique_ptr<RouterPort> find_nat_pmp_router(std::chrono::milliseconds wait, std::string& why);
std::unique_ptr<RouterPort> find_pcp_router(std::chrono::milliseconds wait, std::string& why);

}  // namespace p2plive
