#include "reachability/port_mapper.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>

namespace p2plive {
namespace {

constexpr std::chrono::milliseconds upnp_discovery_wait{1500};
constexpr std::chrono::milliseconds nat_pmp_wait{2000};
// A permanent mapping (lifetime 0) is checked this often, in case the router rebooted and forgot it.
constexpr std::chrono::seconds permanent_check{1200};
// Other external ports to try when ours is taken by another host behind the same router.
constexpr int other_ports_to_try = 4;

// Whether this host has an IPv4 default route (/proc/net/route): without one no home router stands in
// the way, and both protocols would only fail to send (miniupnpc then prints to stderr).
bool has_default_route() {
  std::ifstream routes("/proc/net/route");
  std::string interface, destination, rest;
  std::getline(routes, rest);  // the header
  while (routes >> interface >> destination && std::getline(routes, rest))
    if (destination == "00000000") return true;
  return false;
}

std::vector<RouterFinder> default_finders(const Endpoint& bound) {
  if (!has_default_route())
    return {[](std::string& why) {
      why = "this computer has no default route, so no router to ask";
      return std::unique_ptr<RouterPort>{};
    }};
  // PCP before NAT-PMP: routers that speak both prefer PCP, its successor; one that speaks only NAT-PMP
  // answers PCP at once with "unsupported version". P2PLIVE_PORT_MAPPING=upnp,pcp,natpmp (any of them, in
  // any order) picks what to try, for a router that misbehaves with one protocol, and for tests.
  std::vector<RouterFinder> all;
  const char* chosen = std::getenv("P2PLIVE_PORT_MAPPING");
  const std::string methods = chosen && *chosen ? chosen : "upnp,pcp,natpmp";
  std::size_t at = 0;
  while (at <= methods.size()) {
    const std::size_t end = std::min(methods.find(',', at), methods.size());
    const std::string method = methods.substr(at, end - at);
    at = end + 1;
    if (method == "upnp")
      all.push_back([bound](std::string& why) { return find_upnp_router(bound, upnp_discovery_wait, why); });
    else if (method == "pcp")
      all.push_back([](std::string& why) { return find_pcp_router(nat_pmp_wait, why); });
    else if (method == "natpmp")
      all.push_back([](std::string& why) { return find_nat_pmp_router(nat_pmp_wait, why); });
  }
  return all;
}

std::uint32_t v4_host_order(const Endpoint& e) {
  return std::uint32_t{e.address[12]} << 24 | std::uint32_t{e.address[13]} << 16 |
         std::uint32_t{e.address[14]} << 8 | e.address[15];
}

// 127/8 or ::1.
bool is_loopback(const Endpoint& e) {
  if (e.is_v4()) return (v4_host_order(e) >> 24) == 127;
  return e == Endpoint{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, e.port};
}

}  // namespace

bool is_private_address(const Endpoint& e) {
  if (e.is_v4()) {
    const std::uint32_t a = v4_host_order(e);
    auto in = [a](std::uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
    return in(0x0a000000u, 8) || in(0xac100000u, 12) || in(0xc0a80000u, 16) || in(0x64400000u, 10) ||
           in(0xa9fe0000u, 16) || is_loopback(e) || in(0x00000000u, 8);
  }
  const bool unique_local = (e.address[0] & 0xfe) == 0xfc;
  const bool link_local = e.address[0] == 0xfe && (e.address[1] & 0xc0) == 0x80;
  return unique_local || link_local || is_loopback(e);
}

Reachability::State reachability_before_mapping(const Endpoint& bound) {
  if (is_loopback(bound)) return Reachability::State::local;
  if (!bound.is_unspecified() && !is_private_address(bound)) return Reachability::State::public_ip;
  return Reachability::State::probing;
}

PortMapper::PortMapper(Endpoint bound, PortMapperOptions options, ChangeFn on_change)
    : bound_(bound), options_(std::move(options)), on_change_(std::move(on_change)) {
  if (options_.finders.empty()) options_.finders = default_finders(bound_);
  current_.state = Reachability::State::probing;
  current_.detail = "asking the router to forward UDP port " + std::to_string(bound_.port);
  thread_ = std::thread([this] { run(); });
}

PortMapper::~PortMapper() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Reachability PortMapper::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

// Only changes are reported: a renewal that gets the same grant says nothing.
void PortMapper::publish(Reachability next) {
  {
    std::lock_guard lock(mutex_);
    if (next.state == current_.state && next.method == current_.method &&
        next.external == current_.external && next.detail == current_.detail)
      return;
    current_ = next;
  }
  if (on_change_) on_change_(next);
}

bool PortMapper::wait_for(std::chrono::seconds how_long) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, how_long, [this] { return stopping_; });
}

// Maps our port on `router`, publishes the outcome, and returns whether a mapping holds now.
bool PortMapper::map_on(RouterPort& router, std::uint16_t external_port) {
  MapAttempt attempt = router.map(bound_.port, external_port, options_.lifetime);
  // Another host behind the same router holds our port: any free one will do, the link carries it.
  if (attempt.port_taken) {
    std::minstd_rand pick{std::random_device{}()};
    for (int i = 0; i < other_ports_to_try && attempt.port_taken; ++i) {
      const auto other = static_cast<std::uint16_t>(20000 + pick() % 40000);
      attempt = router.map(bound_.port, other, options_.lifetime);
    }
  }
  if (!attempt.grant) {
    publish({Reachability::State::not_mapped, "", std::nullopt, attempt.why});
    return false;
  }
  grant_ = attempt.grant;
  if (is_private_address(grant_->external)) {
    // A router behind another NAT (a carrier's, or a second box at home) maps a port nobody outside sees.
    router.unmap(bound_.port, *grant_);
    grant_.reset();
    publish({Reachability::State::not_mapped, "", std::nullopt,
             std::string("the router's own address ") + attempt.grant->external.to_string() +
                 " is private: another NAT lies beyond it"});
    return false;
  }
  publish({Reachability::State::mapped, router.method(), grant_->external, ""});
  return true;
}

void PortMapper::run() {
  while (true) {
    std::unique_ptr<RouterPort> router;
    std::string why;
    for (auto& find : options_.finders) {
      std::string reason;
      router = find(reason);
      if (router) break;
      why += (why.empty() ? "" : "; ") + reason;
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    if (router && map_on(*router, bound_.port)) {
      // Renew at half the lifetime granted, on the same external port, while the router keeps it.
      while (true) {
        const auto lifetime = grant_->lifetime.count() > 0 ? grant_->lifetime / 2 : permanent_check;
        if (!wait_for(std::max(lifetime, std::chrono::seconds{1}))) {
          router->unmap(bound_.port, *grant_);
          return;
        }
        if (!map_on(*router, grant_->external.port)) break;
      }
      grant_.reset();
      // The router forgot us or went away: look for it again after a short pause.
      if (!wait_for(std::chrono::seconds{5})) return;
      continue;
    }
    if (!router) publish({Reachability::State::not_mapped, "", std::nullopt, why});
    if (!wait_for(options_.retry_after)) return;
  }
}

}  // namespace p2plive
