#include "p2plive/reachability.hpp"

namespace p2plive {

std::string reachability_field(const Reachability& r) {
  switch (r.state) {
    case Reachability::State::off:
      return "off";
    case Reachability::State::local:
      return "local";
    case Reachability::State::public_ip:
      return "public";
    case Reachability::State::probing:
      return "probing";
    case Reachability::State::mapped:
      return r.method == "NAT-PMP" ? "nat-pmp" : r.method == "PCP" ? "pcp" : "upnp";
    case Reachability::State::not_mapped:
      return "not_mapped";
  }
  return "off";
}

std::string describe(const Reachability& r) {
  switch (r.state) {
    case Reachability::State::off:
      return "port mapping is off: viewers elsewhere need your public address and a forwarded port";
    case Reachability::State::local:
      return "listening on loopback: reachable from this computer only";
    case Reachability::State::public_ip:
      return "listening on a public address: no router to ask";
    case Reachability::State::probing:
      return r.detail;
    case Reachability::State::mapped:
      return "reachable at " + r.external->to_string() + " (" + r.method + ")";
    case Reachability::State::not_mapped:
      return "not reachable from the internet: " + r.detail +
             ". Turn on UPnP, PCP or NAT-PMP on your router, forward the UDP port to this computer, "
             "or put a tracker in the link";
  }
  return {};
}

}  // namespace p2plive
