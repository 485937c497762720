// Home NATs in the simulator: which datagrams a peer's NAT lets in. Three classes, as the namespace tests
// build them (tests/integration/netns.py):
//   open       anyone's datagrams get in;
//   filtering  a port-restricted cone (a home router): only from a peer it has sent to lately (a pinhole),
//              and its port is the same whoever it sends to;
//   symmetric  a new port for every destination: only replies get in, and only from a peer that got its
//              datagram, which a filtering peer never does (it came from a port nobody was told of).
// A datagram from S to R gets in when R is open; when R filters and has sent to S lately, unless S is
// symmetric; when R is symmetric, has sent to S lately, and S is open. Peers are open until told.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "protocol/time.hpp"

namespace p2plive::sim {

enum class NatClass : std::uint8_t { open, filtering, symmetric };

class NatModel {
 public:
  explicit NatModel(Time pinhole_lifetime = 30s) : lifetime_(pinhole_lifetime) {}

  void set_class(std::size_t peer, NatClass c);
  NatClass class_of(std::size_t peer) const {
    return peer < classes_.size() ? classes_[peer] : NatClass::open;
  }
  // A datagram leaves `from` for `to`: from's NAT lets `to`'s datagrams in for a while.
  void sent(std::size_t from, std::size_t to, Time now);
  // Whether `to`'s NAT lets a datagram from `from` in now; counts the ones it drops.
  bool admits(std::size_t from, std::size_t to, Time now);
  std::uint64_t dropped() const { return dropped_; }

 private:
  static std::uint64_t key(std::size_t inside, std::size_t outside) {
    return static_cast<std::uint64_t>(inside) << 32 | static_cast<std::uint32_t>(outside);
  }
  bool has_pinhole(std::size_t inside, std::size_t outside, Time now) const;

  Time lifetime_;
  std::vector<NatClass> classes_;
  std::unordered_map<std::uint64_t, Time> pinholes_;  // (inside, outside) -> last sent; open peers keep none
  Time last_sweep_{0};
  std::uint64_t dropped_ = 0;
};

}  // namespace p2plive::sim
