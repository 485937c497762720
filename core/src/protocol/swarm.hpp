// The swarm protocol as a sans-IO state machine (core/PROTOCOL.md). Feed it datagrams, timer expiries and
// "now"; poll it for datagrams to send, the next deadline and events. It owns no socket, clock or thread,
// so the asio runtime and a simulator drive the very same object.
//
// Distribution: the stream is split into substreams (chunk seq mod k), each pushed down a tree of its own
// rooted at the broadcaster. A viewer subscribes to one parent per substream and forwards in one tree only,
// its home, so every forwarding viewer uploads its share and sits near the top of exactly one tree.
// Viewers exchange buffer maps and pull what the push missed.
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
  std::size_t substreams = 4;            // k; every peer of a stream must use the same
  std::size_t max_children = 8;          // children in the home tree, each costing bitrate / k of upload
                                         // (0: never forwards). The broadcaster: over all trees, spread evenly
  double root_repair_share = 0.25;       // the broadcaster answers repairs with at most this share of what it publishes
  std::size_t max_peers = 64;
  std::size_t window_chunks = 512;       // ~25 s of chunks kept for repair
  std::size_t max_partial_chunks = 64;
  std::size_t max_queued_datagrams = 8192;
  double upload_cap_bps = 0;             // 0: unpaced. Sends are paced at the cap, live pushes first
  bool answers_requests = true;          // false with max_children 0: a viewer that uploads no media
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
  Time parent_repair_wait = 300ms;       // a hole the parent lacks as well: wait this long for its push
  Time root_repair_delay = 500ms;        // ask the broadcaster only for holes this old: others may have it by then
  Time ban_duration = 60s;
  Time optimize_interval = 2s;           // how often a viewer looks for a parent closer to the broadcaster
  Time idle_forwarder_grace = 5s;        // a forwarding child with no children this long may make way
  Time rehome_after = 2s;                // a tree with no forwarder in sight this long draws one
  std::uint32_t forged_chunks_before_ban = 3;
  double amplification_limit = 3;        // to an unverified address: at most this many bytes per byte it sent
  std::uint16_t hello_padding = 200;     // a hello to an unverified peer pays for a full welcome
  std::size_t reports_to_evict = 2;      // distinct reporters before the broadcaster drops a withholding child
  Time report_window = 10s;
  Time withholder_refusal = 60s;
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
  std::uint64_t children = 0;             // summed over the trees
  std::uint64_t parents = 0;              // trees in which we have a parent
  bool has_parent = false;                // a parent in every tree

  
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
  std::uint64_t requests_refused = 0;     // the broadcaster's repair budget was spent
  std::uint64_t withholders_evicted = 0;
  std::uint64_t amplification_dropped = 0;  // replies not sent to an address that has not proven itself
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
  void on(const Endpoint& from, Peer& peer, const wire::Report& m, Time now);

  void accept_verified(Chunk chunk, const Endpoint* from, Time now);
  void reject_forged(Peer& peer, Time now);
  void note_newest(std::uint64_t seq, Time now);
  void learn(const std::vector<Endpoint>& endpoints);

  void expire_peers(Time now);
  void maintain_parent(Time now);
  void send_haves(Time now);
  void exchange_peers(Time now);
  void repair(Time now);

  // One push tree: our parent in it, a subscription in flight, and the newest chunk it brought.
  struct Tree {
    std::optional<Endpoint> parent;
    std::optional<Endpoint> pending;  // subscription asked for, no answer yet
    Time pending_since{0};
    bool switching = false;           // the pending subscription replaces the current parent
    Time last_chunk{0};               // the parent's last fragment
    std::uint8_t parent_depth = wire::unknown_depth;
    std::optional<std::uint64_t> newest;  // newest chunk of this substream we hold, from anyone
    std::uint64_t push_start = 0;         // the parent pushes chunks from here on; older ones we pull
    std::optional<Time> orphaned_since;   // no parent, and nobody known with room
  };

  std::uint8_t substream_of(std::uint64_t seq) const { return static_cast<std::uint8_t>(seq % trees_.size()); }
  void maintain_tree(std::uint8_t s, Time now, bool hello_due, bool optimize_due);
  void drop_parent(std::uint8_t s, Time now);
  void drop_parent_everywhere(const Peer& peer, Time now);
  Peer* best_parent_candidate(std::uint8_t s, Time now);
  bool lists_newer(const Peer& peer, std::uint8_t s) const;
  void subscribe(std::uint8_t s, Peer& candidate, Time now);
  void probe_for_parents(Time now, bool hello_due);
  void rehome(Time now);
  std::uint8_t my_depth() const;
  std::uint16_t room() const;
  std::uint16_t forwarder_room() const;
  std::optional<Endpoint> leaf_child(std::uint8_t s) const;
  std::uint8_t home_children() const;
  std::uint8_t suggest_home(Time now);
  std::size_t child_count(std::uint8_t s) const;
  bool forwards_in(std::uint8_t s) const;
  bool has_room(std::uint8_t s) const;
  std::size_t tree_slots(std::uint8_t s) const;
  wire::Hello hello(bool subscribe, std::uint8_t substream) const;
  wire::Have have() const;
  bool take_child(Peer& peer, std::uint8_t s);
  wire::Welcome welcome_for(const Endpoint& to, std::uint32_t nonce, std::uint8_t substream, bool accepted);
  bool repair_one(std::uint64_t seq, Time now);
  std::uint32_t token_for(const Endpoint& e) const;
  void note_tokens(Peer& peer, const Endpoint& from, std::uint32_t token, std::uint32_t echo);
  void send(const Endpoint& to, wire::Message message);
  void send_bytes(const Endpoint& to, std::vector<std::uint8_t> bytes, SendClass cls = SendClass::control,
                  bool reply = false);
  void push_chunk(const Chunk& chunk, const Endpoint& to, std::uint16_t fragment_mask, SendClass cls);

  SwarmConfig config_;
  wire::StreamTag tag_;
  std::mt19937_64 rng_;
  std::uint32_t nonce_;
  std::uint64_t token_key_;  // keys the address tokens: not guessable from outside
  PeerTable peers_;
  ChunkStore store_;

  std::uint8_t home_;                // the tree this node forwards in (every_substream: the broadcaster)
  bool home_settled_ = false;        // a viewer takes the broadcaster's suggestion once, before it has children
  std::vector<std::uint32_t> suggested_;  // the broadcaster: homes it suggested lately, per tree
  Time suggestions_reset_{0};
  std::vector<Tree> trees_;
  std::size_t next_optimized_ = 0;   // move-up checks take the trees in turn
  Time last_optimize_{0};
  Time stream_last_seen_{-3600s};  // when a new chunk last appeared anywhere (verified, or in a buffer map)
  Time stream_started_at_{0};      // when the first one did: parents are not silent before that
  std::uint64_t newest_seen_ = 0;
  double root_repair_tokens_ = 0;  // bytes the broadcaster may still spend on repair answers

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
