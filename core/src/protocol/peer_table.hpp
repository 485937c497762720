// Everyone a node knows of: peers it has heard from, and candidates it has only been told about.
// Bounded: when full, the candidate (or peer) heard from least recently makes room, never a parent or child.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <unordered_map>
#include <vector>

#include "p2plive/endpoint.hpp"
#include "protocol/time.hpp"
#include "protocol/wire.hpp"

namespace p2plive {

struct Peer {
  Endpoint endpoint;
  bool heard = false;                // it has sent us something valid
  bool said_hello = false;           // it has introduced itself, so we may answer its requests
  Time last_heard{0};
  Time last_subscribe_attempt{-3600s};
  wire::Role role = wire::Role::viewer;
  bool is_parent = false;
  bool is_child = false;
  bool forwards = true;  // it said it takes children of its own
  std::uint8_t depth = wire::unknown_depth;
  std::uint8_t free_slots = 0;
  std::uint64_t have_base = 0;
  std::vector<bool> have_bits;
  std::optional<std::uint64_t> newest_have;  // the newest chunk its last buffer map listed
  std::uint32_t forged_chunks = 0;
  std::uint32_t unanswered_requests = 0;  // requests since it last sent us a fragment
  Time avoid_until{0};                    // a parent that went silent is not chosen again before this

  bool has_chunk(std::uint64_t seq) const {
    return seq >= have_base && seq - have_base < have_bits.size() && have_bits[seq - have_base];
  }
};

class PeerTable {
 public:
  explicit PeerTable(std::size_t max_peers) : max_peers_(max_peers) {}

  Peer* find(const Endpoint& endpoint);
  // Finds or adds; nullptr when the table is full of parents and children.
  Peer* upsert(const Endpoint& endpoint);
  void erase(const Endpoint& endpoint) { peers_.erase(endpoint); }

  void ban(const Endpoint& endpoint, Time until, Time now);
  bool is_banned(const Endpoint& endpoint, Time now) const;

  // Up to `count` heard peers, chosen at random, other than `except`.
  std::vector<Endpoint> sample_heard(std::size_t count, const Endpoint* except, std::mt19937_64& rng) const;

  template <class F>
  void for_each(F&& f) {
    for (auto& [endpoint, peer] : peers_) f(peer);
  }
  template <class F>
  void for_each(F&& f) const {
    for (const auto& [endpoint, peer] : peers_) f(peer);
  }
  std::size_t size() const { return peers_.size(); }

 private:
  bool make_room();

  std::size_t max_peers_;
  std::unordered_map<Endpoint, Peer, EndpointHash> peers_;
  std::unordered_map<Endpoint, Time, EndpointHash> banned_;
};

}  // namespace p2plive
