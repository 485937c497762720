// What a Swarm is told at its start: who it is and which stream, then one aggregate of knobs per layer.
// Every default is the tuned value the simulator and the benchmarks measured (core/BENCHMARKS.md);
// validate() names what cannot work, and a Swarm refuses to start with it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "p2plive/chunk.hpp"
#include "p2plive/endpoint.hpp"
#include "protocol/distribution/congestion.hpp"
#include "protocol/session/session_layer.hpp"
#include "protocol/time.hpp"
#include "protocol/wire.hpp"

namespace p2plive {

// Membership (membership/): the peers a node knows, how it meets them and when it gives up on them.
struct MembershipConfig {
  std::size_t max_peers = 64;
  std::size_t peers_per_message = 16;
  std::size_t min_peers_listed = 4;      // an answer worth sending lists at least this many peers
  std::size_t max_probes_per_second = 16; // hellos to peers we know nothing of, to learn their place and
                                          // RTT, while a tree lacks a parent (one a second otherwise)
  std::uint32_t max_unanswered_probes = 3;  // then a peer we only heard of is forgotten
  Time hello_interval = 1s;
  Time bootstrap_backoff_max = 2s;       // an unanswered bootstrap peer is asked again after 1, then 2 s
  Time peer_exchange_interval = 2s;
  // Rendezvous: a peer exchange, and the answer to a newcomer's probe, also introduce its target to a few
  // of the peers listed (both are told at once, and both say hello: NATs that let in only replies let
  // these in). Each introduction we act on costs us a handshake to an address a peer chose, so we act on a
  // bounded number a second; a peer cannot aim us at a victim harder than that.
  std::size_t introductions_per_exchange = 4;
  std::size_t introductions_per_welcome = 2;
  double introductions_per_second = 8;
  Time introduction_window = 5s;                  // a session opened this soon after one counts as introduced
  std::uint64_t failures_before_unreachable = 4;  // introductions followed that came to nothing, and no
                                                  // session with a viewer ever: we need a reachable
                                                  // parent (Hello.needs_reachable)
  Time unreached_after = 3s;  // ...as do this long since our first hello to a viewer, with none reached
  Time unreachable_silence = 250ms;      // an ICMP error counts for a peer silent at least this long
  Time peer_timeout = 6s;
  Time recently_heard = 2s;              // a peer silent longer is neither a parent candidate nor passed on
  Time ban_duration = 60s;
  std::uint32_t forged_chunks_before_ban = 3;  // chunks that failed their signature, all of whose fragments
                                              // came over that one session
  std::size_t reports_to_evict = 2;      // distinct reporters before the broadcaster drops a withholding child
  Time report_window = 10s;
  Time withholder_refusal = 60s;
  Time reported_refusal = 10s;  // a child one reporter displaced (take_child) is not taken back sooner
};

// The push trees (distribution/swarm_trees.cpp): parents, children, homes, catch-up pushes.
struct TreeConfig {
  std::size_t substreams = 4;            // k; every peer of a stream must use the same
  std::size_t max_children = 8;          // children in the home tree, each costing bitrate / k of upload
                                         // (0: never forwards). The broadcaster: over all trees, spread evenly
  Time subscribe_timeout = 500ms;
  Time refused_retry = 1s;               // a parent that refused us is asked again after this
  Time small_swarm_refused_retry = 300ms;  // ...or this, a broadcaster that has few viewers
  Time child_silence = 2s;               // a child silent this long (gone, most likely) gets no pushes, and
                                         // a newcomer may have its slot; it is dropped after 3 hellos' time.
                                         // A parent as silent is gone. (1 s was too little on congested
                                         // home links: live peers went unheard that long.)
  std::size_t max_catch_up_chunks = 160; // a new child is pushed its substream from its join point: at most
                                         // this many chunks back (4 s of 25 ms chunks)
  Time catch_up_wait = 150ms;            // holes of a tree whose subscription is in flight wait this long
  Time catch_up_budget = 100ms;          // a catch-up takes at most this much of the uplink, less what waits
  Time free_catch_up_budget = 350ms;     // ...or this much, as pushes, in a small swarm or after a restart
                                         // (under SendQueueConfig::push_budget, so none of it is dropped)
  Time parent_silence_timeout = 750ms;   // no chunk from the parent for this long: find another
  Time silent_parent_penalty = 30s;      // ...and do not pick that one again for this long
  Time starved_parent_penalty = 2s;      // one that speaks but delivers nothing: this long, doubling each time
  Time parent_stall = 300ms;             // a parent this silent is late: its substream's holes are fetched
                                         // from whoever lists them, while we wait to see if it recovers
  Time optimize_interval = 2s;           // how often a viewer looks for a faster parent
  Time hop_cost = 2ms;                   // what a hop adds beyond half its round trip and the parent's
                                         // measured forwarding wait (the last fragment, the check)
  Time optimize_margin = 20ms;           // a new parent must be this much faster to be worth a move
  Time proven_for = 5s;                  // ...and must have delivered us a genuine chunk this recently,
  Time trial_timeout = 2s;               // ...or pass a trial (a chunk we hold, asked of it) this soon
  Time unknown_rtt = 150ms;              // assumed for a peer we have not timed yet
  Time unproven_penalty = 100ms;         // added for a forwarder with no children yet
  Time displace_margin = 20ms;           // a forwarder displaces one that ranks this much worse (rank())
  Time idle_forwarder_grace = 5s;        // a forwarding child with no children this long may make way
  Time rehome_after = 2s;                // a tree with no forwarder in sight this long draws one
  Time shed_hold = 30s;                  // after shedding a child for want of uplink, take no new one this long
};

// Repair (distribution/swarm_repair.cpp) and the chunks it works on: buffer maps, holes, requests.
struct RepairConfig {
  std::size_t window_chunks = 512;       // ~13 s of 25 ms chunks kept for repair and catch-ups...
  std::size_t window_bytes = 6u << 20;   // ...and at most this much payload (8 s at 6 Mbit/s)
  std::size_t max_partial_chunks = 64;
  std::size_t seq_ahead = 256;           // a fragment or map more than this far past our newest chunk is
                                         // nonsense (or an attack on our bookkeeping): dropped
  bool answers_requests = true;          // false with max_children 0: a viewer that uploads no media
  std::size_t repair_window_chunks = 64; // how far behind the newest chunk holes are still worth repairing
  Time have_interval = 500ms;            // buffer maps to parents, children and peers that said hello
  std::size_t map_sources = 16;          // peers beyond parents and children whose maps a node answers
  std::size_t max_requests_per_tick = 32;
  std::uint32_t max_unanswered_requests = 3;  // a peer that ignores this many is asked only as a last resort
  Time repair_delay = 60ms;              // how long a hole may stay before it is requested
  Time repair_retry = 300ms;
  Time parent_repair_wait = 300ms;       // a hole the parent lacks as well: wait this long for its push
  Time root_repair_delay = 500ms;        // ask the broadcaster only for holes this old: others may have it by then,
  std::size_t small_swarm_peers = 8;     // unless it knows fewer viewers than this (a small swarm; it says so)
};

// The broadcaster's upload beyond its children: with 6 children over 4 trees (1.5x the bitrate), these
// shares and the framing keep it under 2x however many strangers ask, as a flash crowd of 100,000 does.
struct RootConfig {
  double repair_share = 0.2;             // it answers repairs with at most this share of what it publishes
  double lone_repair_share = 1.0;        // ...or this, while it hears from two viewers at most
  double reply_share = 0.15;             // ...and probes from strangers with at most this share
  std::size_t reply_burst = 250;         // (up to this many probes at once: the first viewers, a small swarm)
  double rate_floor = 1.6;               // its send rate never falls below this many times the bitrate
};

// Sending (distribution/send_queue, congestion): pacing and the rate it is paced at.
struct SendingConfig {
  double upload_cap_bps = 0;             // the user's cap (0: none). Sends are paced at it or below
  bool congestion_control = true;        // find the uplink's rate from queueing delay (below any cap)
  RateControlConfig rate_control{};
  std::size_t max_queued_datagrams = 8192;
};

struct SwarmConfig {
  PublicKey stream_key;
  wire::Role role = wire::Role::viewer;
  std::vector<Endpoint> bootstrap;       // viewers: whom to ask first (usually the broadcaster)
  std::vector<Endpoint> trackers;        // BEP 15 UDP trackers to announce to and learn peers from
  std::uint16_t announce_port = 0;       // our port, as announced to trackers (the driver knows it)
  std::uint64_t rng_seed = 1;             // choices that need no secrecy (homes, gossip, shuffles)
  // The session layer beneath the swarm, and its cryptography: empty means libsodium, with no proof of
  // the stream (a viewer). The broadcaster's proves it with the stream's secret key; the simulator's is
  // a cheap stand-in. Secrets strangers must not guess (IDs, token keys) come from it.
  std::shared_ptr<session::Crypto> crypto;
  session::SessionConfig session{};      // its stream_tag is set from stream_key
  MembershipConfig membership{};
  TreeConfig trees{};
  RepairConfig repair{};
  RootConfig root{};
  SendingConfig sending{};
  Time tick_interval = 25ms;
  Time housekeeping_interval = 250ms;    // peer expiry, tree upkeep
  // Checks a reassembled chunk. Empty means Ed25519 against stream_key; the simulator injects a cheaper
  // check so that 100,000 simulated peers do not spend their time in signature arithmetic.
  std::function<bool(const Chunk&)> verify;
  // Turns a verified chunk into the shared copy the store keeps. Empty means a fresh allocation; the
  // simulator hands every peer the broadcaster's copy, so 100,000 stores share one payload per chunk.
  std::function<std::shared_ptr<const Chunk>(Chunk&&)> intern;

  // What cannot work, one line each (empty: nothing). A Swarm throws std::invalid_argument on any.
  std::vector<std::string> validate() const;
};

}  // namespace p2plive
