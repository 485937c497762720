// Everyone a node knows of: peers it has heard from, and candidates it has only been told about.
// Bounded: when full, the candidate (or peer) heard from least recently makes room, never a parent or child.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <unordered_map>
#include <vector>

#include "p2plive/endpoint.hpp"
#include "protocol/distribution/congestion.hpp"
#include "protocol/time.hpp"
#include "protocol/wire.hpp"

namespace p2plive {

struct Peer {
  Endpoint endpoint;
  bool heard = false;                // it has sent us something valid
  bool said_hello = false;           // it has introduced itself, so we may answer its requests
  bool welcomed = false;             // it has answered one of our hellos
  bool proven_root = false;          // its session's handshake was signed by the stream key
  bool bootstrap = false;            // from the link: kept (as unheard) when it falls silent
  Time last_heard{0};
  Time last_probe{-3600s};
  std::uint32_t unanswered_probes = 0;  // hellos sent while we had never heard from it
  Time retry_after{0};                  // a failed subscription is not retried before this...
  Time full_until{0};                   // ...nor a refused one before this, unless a map since says there
  Time full_since{0};                   // is room (a slot freed: a child left, or was evicted)
  wire::Role role = wire::Role::viewer;
  std::uint16_t parent_in = 0;       // bit s: it is our parent in substream s
  std::uint16_t child_in = 0;        // bit s: it is our child in substream s
  wire::TreeState tree;              // its place in its home tree, as it last said
  Time tree_heard{-3600s};           // when it last said so
  Time childless_since{0};           // since when it has said it has no children
  std::optional<Time> srtt;          // smoothed round trip, as we measured it: handshake, hellos, maps
  DelayMeter delay;                  // how long its stamped datagrams take to reach us, beyond the fastest
  Time last_have_sent{-3600s};
  std::uint32_t have_epoch = 0;      // the epoch its buffer map is of; a map of another epoch than ours is
  std::uint64_t have_base = 0;       // kept empty
  std::vector<bool> have_bits;
  std::optional<std::uint64_t> newest_have;  // the newest chunk its last buffer map listed
  Time epoch_probe_at{-3600s};       // when we last asked it for a chunk of an epoch we do not know
  // Congestion feedback: the clocks our recent hellos and maps to it carried (an answer must echo one of
  // them, or it is not an answer to anything we sent), its latest word on our queueing delay, and how
  // many maps it has left unanswered since.
  std::array<std::uint32_t, 4> stamps{};
  std::uint8_t next_stamp = 0;
  std::optional<Time> our_queue_delay;
  Time our_queue_delay_at{0};
  std::uint32_t unanswered_maps = 0;
  Time first_unanswered_map{0};
  // Maps between peers that are neither parent nor child of each other: the receiver takes (answers)
  // them from a bounded few; a sender stops sending to one that left three unanswered (unanswered_maps)
  // until it answers one again, as it may the map that answers its next hello.
  Time took_map_at{-3600s};
  std::uint32_t forged_chunks = 0;
  std::uint32_t unanswered_requests = 0;  // requests since it last sent us a fragment
  Time last_delivered{-3600s};            // when it last completed a chunk that proved genuine
  Time avoid_until{0};                    // a parent that went silent is not chosen again before this
  std::uint32_t times_starved = 0;        // times it was dropped for delivering nothing
  Time last_subscribed{0};                // a child renews its subscriptions each hello_interval
  bool needs_reachable = false;           // it said it is behind a NAT that only reachable peers get through
  bool reachable = false;                 // it said strangers reach it: no introduction needed
  Time introduced_at{-3600s};             // when a peer last introduced it to us (rendezvous)
  std::optional<Endpoint> learned_from;   // who told us of it: the peer to ask for an introduction
  bool suspended = false;                 // a child that fell silent: no pushes until it speaks again
  Time refuse_until{0};                   // the broadcaster: reported withholding, not taken as a child
  std::vector<std::pair<Endpoint, Time>> reporters;  // the broadcaster: who reported it lately (bounded)
  bool displaced = false;  // the broadcaster: one reporter took its slot; on trial until refuse_until
  // The census, as its last map said: listeners in the subtree it roots in its home tree, and the whole
  // swarm's count and peak as it heard them from its parents (census_heard: it has sent a map at all).
  bool census_heard = false;
  std::uint32_t subtree_listeners = 0;
  std::uint32_t listeners = 0;
  std::uint32_t listeners_peak = 0;

  void note_tree(const wire::TreeState& state, Time now) {
    if (state.children > 0 || tree.children > 0) childless_since = now;
    tree = state;
    tree_heard = now;
  }
  void note_rtt(Time sample) { srtt = srtt ? (*srtt * 7 + sample) / 8 : sample; }

  void note_stamp(std::uint32_t stamp) { stamps[next_stamp++ % stamps.size()] = stamp; }
  bool sent_stamp(std::uint32_t stamp) const {
    return stamp != 0 && std::find(stamps.begin(), stamps.end(), stamp) != stamps.end();
  }
  void clear_map() {
    have_bits.clear();
    newest_have.reset();
  }

  bool has_chunk(std::uint64_t seq) const {
    return seq >= have_base && seq - have_base < have_bits.size() && have_bits[seq - have_base];
  }
};

// Storage is a fixed array of slots, allocated once: a Peer never moves, so a Peer* stays valid until that
// peer is erased, and the scans that every tick makes over all peers (buffer maps, children, parent choice)
// walk contiguous memory. Lookups go through a small open-addressed index of slot numbers, so finding the
// sender of a datagram touches a cache line or two, not the whole table.
class PeerTable {
 public:
  explicit PeerTable(std::size_t max_peers);

  Peer* find(const Endpoint& endpoint);
  const Peer* find(const Endpoint& endpoint) const;
  // Finds or adds; nullptr when the table is full of parents and children.
  Peer* upsert(const Endpoint& endpoint);
  void erase(const Endpoint& endpoint);

  void ban(const Endpoint& endpoint, Time until, Time now);
  bool is_banned(const Endpoint& endpoint, Time now) const;

  // Up to `count` peers heard since `heard_since`, other than `except`: half of them the fastest with room
  // for children, the rest at random. (A peer long silent has most likely left: it is not passed on.)
  std::vector<Endpoint> sample_heard(std::size_t count, const Endpoint* except, Time heard_since,
                                     std::mt19937_64& rng) const;

  template <class F>
  void for_each(F&& f) {
    for (std::size_t i = 0; i < slots_.size(); ++i)
      if (used_[i]) f(slots_[i]);
  }
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < slots_.size(); ++i)
      if (used_[i]) f(slots_[i]);
  }
  std::size_t size() const { return size_; }

 private:
  std::size_t index_of(const Endpoint& endpoint) const;  // slots_.size() if absent
  std::size_t home_of(const Endpoint& endpoint) const;
  void index_insert(std::size_t slot);
  void index_erase(std::size_t slot);
  bool make_room();
  void free_slot(std::size_t i);

  std::vector<Peer> slots_;
  std::vector<Endpoint> keys_;     // keys_[i] is slots_[i].endpoint while used_[i]
  std::vector<std::uint8_t> used_;
  std::vector<std::uint32_t> index_;  // linear probing; slot + 1, or 0 where empty; at most half full
  std::size_t size_ = 0;
  mutable std::size_t last_found_ = 0;
  std::unordered_map<Endpoint, Time, EndpointHash> banned_;
};

}  // namespace p2plive
