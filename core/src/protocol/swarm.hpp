// The swarm protocol as a sans-IO state machine (core/PROTOCOL.md). Feed it datagrams, timer expiries and
// "now"; poll it for datagrams to send, the next deadline and events. It owns no socket, clock or thread,
// so the asio runtime and a simulator drive the very same object.
//
// Swarm v0 distribution: every viewer subscribes to one parent, which pushes it every chunk it verifies;
// the broadcaster is the root. Viewers exchange buffer maps and pull what the push missed.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <variant>
#include <vector>

#include "p2plive/chunk.hpp"
#include "p2plive/endpoint.hpp"
#include "protocol/chunk_store.hpp"
#include "protocol/peer_table.hpp"
#include "protocol/send_queue.hpp"
#include "protocol/time.hpp"
#include "protocol/wire.hpp"

namespace p2plive {

struct SwarmConfig {
  PublicKey stream_key;
  wire::Role role = wire::Role::viewer;
  std::vector<Endpoint> bootstrap;       // viewers: whom to ask first (usually the broadcaster)
  std::uint64_t rng_seed = 1;
  std::size_t max_children = 4;
  std::size_t max_peers = 64;
  std::size_t window_chunks = 512;       // ~25 s of chunks kept for repair
  std::size_t max_partial_chunks = 64;
  std::size_t max_queued_datagrams = 8192;
  double upload_cap_bps = 0;             // 0: unpaced. Sends are paced at the cap, live pushes first
  std::size_t repair_window_chunks = 64; // how far behind the newest chunk holes are still worth repairing
  std::size_t peers_per_message = 16;
  std::size_t max_requests_per_tick = 32;
  Time tick_interval = 25ms;
  Time hello_interval = 1s;
  Time have_interval = 250ms;
  Time peer_exchange_interval = 2s;
  Time subscribe_timeout = 500ms;
  Time parent_silence_timeout = 750ms;   // no chunk from the parent for this long (15 chunks): find another
  Time silent_parent_penalty = 30s;      // ...and do not pick that one again for this long
  std::uint32_t max_unanswered_requests = 3;  // a peer that ignores this many is asked only as a last resort
  Time peer_timeout = 6s;
  Time repair_delay = 60ms;              // how long a hole may stay before it is requested
  Time repair_retry = 300ms;
  Time ban_duration = 60s;
  Time optimize_interval = 2s;           // how often a viewer looks for a parent closer to the broadcaster
  std::uint32_t forged_chunks_before_ban = 3;
  // Checks a reassembled chunk. Empty means Ed25519 against stream_key; the simulator injects a cheaper
  // check so that 100,000 simulated peers do not spend their time in signature arithmetic.
  std::function<bool(const Chunk&)> verify;
  // Turns a verified chunk into the shared copy the store keeps. Empty means a fresh allocation; the
  // simulator hands every peer the broadcaster's copy, so 100,000 stores share one payload per chunk.
  std::function<std::shared_ptr<const Chunk>(Chunk&&)> intern;
};

// A chunk whose signature checked out; it may now go to a player.
struct ChunkVerified {
  std::shared_ptr<const Chunk> chunk;  // shared with the node's store: verified once, never copied
  Endpoint from;  // the peer whose fragment completed it
};
using SwarmEvent = std::variant<ChunkVerified>;

struct SwarmStats {
  std::uint64_t peers = 0;  // heard from within peer_timeout
  std::uint64_t children = 0;
  bool has_parent = false;
  std::uint8_t depth = wire::unknown_depth;
  std::uint64_t uploaded_bytes = 0;
  std::uint64_t downloaded_bytes = 0;
  std::uint64_t chunks_published = 0;
  std::uint64_t chunks_received = 0;
  std::uint64_t duplicate_fragments = 0;
  std::uint64_t forged_rejected = 0;
  std::uint64_t malformed_dropped = 0;
  std::uint64_t requests_sent = 0;
  std::uint64_t requests_served = 0;
  std::uint64_t send_queue_dropped = 0;
};

class Swarm {
 public:
  explicit Swarm(SwarmConfig config);

  void handle_datagram(const Endpoint& from, std::span<const std::uint8_t> datagram, Time now);
  void handle_timeout(Time now);
  // Broadcaster only: a chunk it has just signed.
  void publish(Chunk chunk, Time now);
  // Says goodbye to every peer it is connected to.
  void close(Time now);

  // The next datagram to send now, if the upload cap allows one.
  std::optional<Transmit> poll_transmit(Time now);
  Time poll_timeout() const;
  std::optional<SwarmEvent> poll_event();
  SwarmStats stats(Time now) const;

 private:
  void on(const Endpoint& from, Peer& peer, const wire::Hello& m, Time now);
  void on(const Endpoint& from, Peer& peer, const wire::Welcome& m, Time now);
  void on(const Endpoint& from, Peer& peer, const wire::Peers& m, Time now);
  void on(const Endpoint& from, Peer& peer, const wire::Fragment& m, Time now);
  void on(const Endpoint& from, Peer& peer, const wire::Have& m, Time now);
  void on(const Endpoint& from, Peer& peer, const wire::Request& m, Time now);
  void on(const Endpoint& from, Peer& peer, const wire::Bye& m, Time now);

  void accept_verified(Chunk chunk, const Endpoint* from, Time now);
  void reject_forged(Peer& peer, Time now);
  void note_newest(std::uint64_t seq, Time now);
  void learn(const std::vector<Endpoint>& endpoints);

  void expire_peers(Time now);
  void maintain_parent(Time now);
  void send_haves(Time now);
  void exchange_peers(Time now);
  void repair(Time now);

  void drop_parent(Time now);
  Peer* best_parent_candidate(Time now);
  void subscribe(Peer& candidate, Time now);
  std::uint8_t my_depth() const;
  std::uint8_t free_slots() const;
  std::size_t child_count() const;
  wire::Hello hello(bool subscribe) const;
  bool take_child(Peer& peer);
  wire::Welcome welcome_for(const Endpoint& to, std::uint32_t nonce, bool accepted);
  void send(const Endpoint& to, const wire::Message& message);
  void send_bytes(const Endpoint& to, std::vector<std::uint8_t> bytes, SendClass cls = SendClass::control);
  void push_chunk(const Chunk& chunk, const Endpoint& to, std::uint16_t fragment_mask, SendClass cls);

  SwarmConfig config_;
  wire::StreamTag tag_;
  std::mt19937_64 rng_;
  std::uint32_t nonce_;
  PeerTable peers_;
  ChunkStore store_;

  std::optional<Endpoint> parent_;
  std::optional<Endpoint> pending_parent_;  // subscription asked for, no answer yet
  Time pending_since_{0};
  bool switching_ = false;                  // the pending subscription replaces the current parent
  Time last_optimize_{0};
  Time parent_last_chunk_{0};
  Time stream_last_seen_{-3600s};  // when a new chunk last appeared anywhere (verified, or in a buffer map)
  std::uint64_t newest_seen_ = 0;
  std::uint8_t parent_depth_ = wire::unknown_depth;

  std::optional<std::uint64_t> want_from_;  // lowest seq this viewer still wants (its join point)
  // Holes being repaired: when each was first seen missing, and the requests made for it so far.
  struct Hole {
    Time missing_since;
    Time requested_at{0};
    std::uint32_t attempts = 0;
  };
  std::map<std::uint64_t, Hole> holes_;

  Time next_tick_{0};
  Time last_hello_{-3600s};
  Time last_have_{-3600s};
  Time last_peer_exchange_{-3600s};

  SendQueue send_queue_;
  Time now_{0};  // the latest "now" the driver gave us, for enqueueing
  std::deque<ChunkVerified> events_;
  SwarmStats stats_;
};

}  // namespace p2plive
