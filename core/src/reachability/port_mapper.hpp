// Keeps the swarm's UDP port mapped on the home router for as long as the node runs: finds the router
// (UPnP IGD first, then NAT-PMP), asks for the same port outside, renews the mapping at half its
// lifetime, looks again when the router forgets it or reboots, and removes it on exit. All of that
// blocks, so it runs on a thread of its own and reports each change through a callback.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "p2plive/reachability.hpp"
#include "reachability/router_port.hpp"

namespace p2plive {

using RouterFinder = std::function<std::unique_ptr<RouterPort>(std::string& why)>;

struct PortMapperOptions {
  std::vector<RouterFinder> finders;      // tried in order; empty: UPnP, then NAT-PMP
  std::chrono::seconds lifetime{3600};    // asked of the router; renewed at half of what it grants
  std::chrono::seconds retry_after{300};  // when no router mapped the port
};

class PortMapper {
 public:
  using ChangeFn = std::function<void(const Reachability&)>;

  // Starts at once. `on_change` runs on the mapper's thread, after every change of state.
  PortMapper(Endpoint bound, PortMapperOptions options, ChangeFn on_change);
  // Removes the mapping and joins: as long as one exchange with the router, a few seconds at worst.
  ~PortMapper();
  PortMapper(const PortMapper&) = delete;
  PortMapper& operator=(const PortMapper&) = delete;

  Reachability current() const;

 private:
  void run();
  bool map_on(RouterPort& router, std::uint16_t external_port);
  void publish(Reachability next);
  bool wait_for(std::chrono::seconds how_long);  // false once stopping

  const Endpoint bound_;
  PortMapperOptions options_;
  ChangeFn on_change_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  Reachability current_;
  std::optional<PortGrant> grant_;
  std::thread thread_;
};

// Where a socket bound to `bound` stands before anyone asks a router: loopback, a public address, or
// behind a router (probing).
Reachability::State reachability_before_mapping(const Endpoint& bound);
// 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier-grade NAT), 169.254/16, 127/8, 0/8, and IPv6 ULA and
// link-local: an address strangers on the internet cannot reach.
bool is_private_address(const Endpoint& e);

}  // namespace p2plive
