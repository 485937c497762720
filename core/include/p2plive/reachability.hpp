// Whether strangers on the internet can reach this node, as far as the node knows: what its home router
// said when asked to map the swarm's UDP port (UPnP IGD or NAT-PMP), and the external address it gave.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "p2plive/endpoint.hpp"

namespace p2plive {

struct Reachability {
  enum class State {
    off,         // port mapping turned off (--no-port-mapping)
    local,       // bound to a loopback address: nothing outside this machine can reach it anyway
    public_ip,   // bound to a public address: no router in the way to ask
    probing,     // asking the router
    mapped,      // the router forwards `external` to us
    not_mapped,  // no router answered, or it refused; `detail` says which
  };
  State state = State::off;
  std::string method;                // "UPnP", "PCP" or "NAT-PMP" when mapped
  std::optional<Endpoint> external;  // the address to put in links, when known
  std::string detail;                // in words, for the terminal and the dock
};

// "off", "local", "public", "probing", "upnp", "pcp", "nat-pmp" or "not_mapped": the stats field
// `reachability`.
std::string reachability_field(const Reachability& r);
// One line for a person: "reachable at 198.51.100.7:7000 (UPnP)" or "not reachable from the internet: ...".
std::string describe(const Reachability& r);

}  // namespace p2plive
