// The swarm protocol as a sans-IO state machine (core/PROTOCOL.md). Feed it datagrams, timer expiries and
// "now"; poll it for datagrams to send, the next deadline and events. It owns no socket, clock or thread,
// so the asio runtime and a simulator drive the very same object.
//
// Distribution: the stream is split into substreams (chunk seq mod k), each pushed down a tree of its own
// rooted at the broadcaster. A viewer subscribes to one parent per substream and forwards in one tree only,
// its home, so every forwarding viewer uploads its share and sits near the top of exactly one tree.
// Parents are chosen by measured latency from the broadcaster. Viewers exchange buffer maps and pull what
// the push missed. Sends are paced at a rate that delay-based congestion control finds.
//
// Beneath it, session::SessionLayer (session/) lets nothing through that has not come over an established
// session. The implementation is spread over swarm.cpp (inputs and outputs, fragments, maps, requests),
// membership/swarm_membership.cpp (sessions opening and closing, hellos, welcomes, reports, timeouts), and
// in distribution/: swarm_trees.cpp (parents, children, homes), swarm_repair.cpp (buffer maps, holes,
// requests) and swarm_epoch.cpp (broadcast sessions, catch-up pushes for new children, departed peers).
#pragma once

#include <array>

#include <cstdint>
#include <cstddef>
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
#include "protocol/discovery/tracker_client.hpp"
#include "protocol/distribution/chunk_store.hpp"
#include "protocol/distribution/congestion.hpp"
#include "protocol/distribution/send_queue.hpp"
#include "protocol/membership/peer_table.hpp"
#include "protocol/session/session_layer.hpp"
#include "protocol/swarm_config.hpp"
#include "protocol/time.hpp"
#include "protocol/wire.hpp"

namespace p2plive {

// A chunk whose signature checked out; it may now go to a player.
struct ChunkVerified {
  std::shared_ptr<const Chunk> chunk;  // shared with the node's store: verified once, never copied
  Endpoint from;  // the peer whose fragment completed it
};
// The broadcaster started a new session (it restarted): the chunks that follow count from 0 again, and a
// player must start afresh at the new session's first join point. Comes before that epoch's first chunk.
struct EpochStarted {
  std::uint64_t epoch = 0;
  std::uint64_t start_us = 0;  // the broadcaster's unix time when the session began
};
using SwarmEvent = std::variant<ChunkVerified, EpochStarted>;

struct SwarmStats {
  std::uint64_t peers = 0;  // heard from within peer_timeout
  std::uint64_t children = 0;             // summed over the trees
  std::uint64_t parents = 0;              // trees in which we have a parent
  bool has_parent = false;                // a parent in every tree
  std::uint8_t depth = wire::unknown_depth;
  std::uint16_t latency_ms = wire::unknown_latency;  // estimated delay behind the broadcaster, home tree
  double send_rate_bps = 0;               // what congestion control (or the cap) lets out; 0: unpaced
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
  std::uint64_t parent_trials = 0;        // faster candidates asked to prove that they deliver
  std::uint64_t withholders_evicted = 0;
  std::uint64_t unsolicited_fragments = 0;  // from a peer that is neither our parent there nor asked
  std::uint64_t out_of_window = 0;          // fragments and maps too far past our newest chunk
  std::uint64_t partials_refused = 0;       // fragments of a sender that holds its share of reassembly already
  std::uint64_t no_session_dropped = 0;     // messages for a peer whose session has ended (or never began)
  session::SessionStats session;            // the layer beneath: handshakes, bad tags, replays, budgets
  std::uint64_t send_queue_dropped = 0;
  std::uint64_t children_shed = 0;        // released because our uplink could not carry them
  std::uint64_t probes_unanswered = 0;    // the broadcaster: probes beyond its reply budget
  std::uint64_t tracker_announces = 0;    // answered by a tracker
  std::uint64_t tracker_peers = 0;        // peers learned from trackers
  std::uint64_t epoch = 0;                // the session whose chunks this node holds (0: none yet)
  std::uint64_t epoch_start_us = 0;
  std::uint64_t epochs_started = 0;       // sessions this node followed, the first one included
  std::uint64_t old_epoch_dropped = 0;    // fragments and chunks of an older session, never played
  std::uint64_t children_suspended = 0;   // children that fell silent and stopped getting pushes
  std::uint64_t purged_datagrams = 0;     // queued for peers that left, and dropped unsent
  std::uint64_t catch_up_chunks = 0;      // pushed to new children from their join point
  std::uint64_t unreachable_reports = 0;  // ICMP errors the host passed on
  // Rendezvous: introductions we made (each tells two peers), were given, acted on, and dropped over the
  // budget; and sessions that opened with a peer we were introduced to (a hole punched, or an open peer).
  std::uint64_t introductions_sent = 0;
  std::uint64_t introductions_received = 0;
  std::uint64_t introductions_dropped = 0;
  std::uint64_t introductions_followed = 0;  // we said hello to the peer we were told of
  std::uint64_t introductions_asked = 0;     // we asked the peer that told us of another to introduce us
  std::uint64_t introduced_sessions = 0;
  // How many listen, swarm-wide (membership/swarm_census.cpp): the broadcaster's count up the trees, as
  // it reached us down them, and its peak in this broadcast. 0: not known yet.
  std::uint64_t listeners = 0;
  std::uint64_t listeners_peak = 0;
  // Where peers see us (their Welcomes' your_address): the address most of them agree on, and whether they
  // see one address with a different port each, the mark of a NAT that maps a port per destination.
  std::optional<Endpoint> observed_address;
  std::uint64_t observed_votes = 0;
  bool symmetric_nat = false;
  bool reachable = false;  // a stranger's handshake reached us, one we never sent to: no NAT in the way
  // What the node holds now, each bounded (a soak checks that none grows): chunk payload, chunks in
  // reassembly, peers known, holes tracked, bytes waiting to be sent.
  std::uint64_t held_chunk_bytes = 0;
  std::uint64_t held_partials = 0;
  std::uint64_t held_peers = 0;
  std::uint64_t held_holes = 0;
  std::uint64_t held_queued_bytes = 0;
};

class Swarm {
 public:
  explicit Swarm(SwarmConfig config);

  // `received_at`: when the datagram reached this host, if the driver knows better than `now` (a kernel
  // timestamp); delay and round-trip measurements use it.
  void handle_datagram(const Endpoint& from, std::span<const std::uint8_t> datagram, Time now);
  void handle_datagram(const Endpoint& from, std::span<const std::uint8_t> datagram, Time now, Time received_at);
  void handle_timeout(Time now);
  // The host says a datagram to `to` came back as unreachable (ICMP port unreachable: the process there is
  // gone, most likely killed). Only a hint: anyone can forge one, so it counts only for a peer that has
  // also been silent a while, and the peer's next datagram undoes it.
  void handle_unreachable(const Endpoint& to, Time now);
  // Peers learned outside the swarm (the DHT): candidates, or `bootstrap` peers, which are asked until they
  // answer and which the broadcaster is among (a signed record said so; the handshake proves it or not).
  void add_peers(const std::vector<Endpoint>& endpoints, bool bootstrap);
  // Broadcaster only: a chunk it has just signed.
  void publish(Chunk chunk, Time now);
  // Says goodbye to every peer it is connected to.
  void close(Time now);

  // The next datagram to send now, if the send rate allows one.
  std::optional<Transmit> poll_transmit(Time now);
  Time poll_timeout() const;
  std::optional<SwarmEvent> poll_event();
  SwarmStats stats(Time now) const;
  // The census alone (what stats() reports of it), cheaply: the simulator asks every viewer each second.
  struct ListenerCount {
    std::uint32_t listeners = 0;
    std::uint32_t peak = 0;
  };
  ListenerCount listener_count() const { return census_; }

 private:
  // ---- inputs (swarm.cpp)
  static std::uint16_t bit(std::uint8_t substream) { return static_cast<std::uint16_t>(1u << substream); }
  void on(const Endpoint& from, Peer& peer, const wire::Hello& m, Time now);
  void on(const Endpoint& from, Peer& peer, const wire::Welcome& m, Time now);
  void on(const Endpoint& from, Peer& peer, const wire::Peers& m, Time now);
  void on(const Endpoint& from, Peer& peer, const wire::Fragment& m, Time now);
  void on(const Endpoint& from, Peer& peer, const wire::Have& m, Time now);
  void on(const Endpoint& from, Peer& peer, const wire::Request& m, Time now);
  void on(const Endpoint& from, Peer& peer, const wire::Bye& m, Time now);
  void on(const Endpoint& from, Peer& peer, const wire::Report& m, Time now);
  void on(const Endpoint& from, Peer& peer, const wire::Ack& m, Time now);
  void on(const Endpoint& from, Peer& peer, const wire::Introduce& m, Time now);
  void introduce(const Endpoint& a, const Endpoint& b);
  bool worth_introducing(const Peer& p) const;
  bool take_introduction_token(Time now);
  void note_observed(const Endpoint& voter, const Endpoint& seen);
  struct Observed {
    std::optional<Endpoint> address;
    std::size_t votes = 0;
    bool symmetric = false;
  };
  Observed observed() const;
  // Behind a NAT that nobody we are introduced to gets through (it maps a port per destination, or
  // filters by port and the timing never worked): only a reachable parent will do.
  bool needs_reachable() const;
  void note_our_queue_delay(Peer& peer, std::uint16_t delay_ms, Time now);
  bool takes_maps_from(const Peer& peer, Time now);
  bool is_map_source(const Peer& p, Time now) const;
  bool worth_hearing(const Peer& p, Time now) const;
  std::size_t useful_map_sources(Time now) const;
  std::uint16_t queue_delay_of(const Peer& peer) const;
  std::size_t probe_answer_bytes(std::size_t peers) const;
  double root_reply_cap() const;  // the broadcaster's reply budget, full
  void accept_verified(Chunk chunk, const Endpoint* from, Time now);
  void take_session_events(Time now);
  void flush_session();
  // Whether `peer` may send us fragments of `seq`: our parent in its tree (or the one we are subscribing
  // to), or a peer we asked for it lately. Anyone else's are dropped unread.
  bool expects_fragment(const Peer& peer, std::uint32_t epoch, std::uint64_t seq, Time now) const;
  void note_asked(const Endpoint& to, std::uint64_t seq, Time now);
  // A peer's word on its place in the trees; depth 0 (the broadcaster) only from the proven broadcaster.
  void note_tree(Peer& peer, wire::TreeState state, Time now);
  void evict_child(Peer& child, std::uint8_t substream, Time now);
  // A parent one hop below the broadcaster that withholds, forges or lies: nobody else can route around it.
  void report_to_broadcaster(std::uint8_t substream, const Endpoint& accused);
  bool within_window(std::uint64_t seq) const;
  // Epochs (swarm_epoch.cpp): a node follows the newest broadcast session it has verified a chunk of.
  struct Epoch {
    std::uint64_t id = 0;
    std::uint64_t start_us = 0;
  };
  std::uint32_t our_epoch_tag() const { return store_.epoch().value_or(0); }
  bool is_past_epoch(std::uint32_t tag) const;
  // A verified chunk of another epoch than ours: true if we follow it now (it is newer), false if it is
  // older and dropped.
  bool follow_epoch(const Chunk& chunk, Time now);
  void note_epoch_claim(Peer& peer, std::uint32_t epoch, std::uint64_t join_seq, bool has_chunks, Time now);
  // Returns where the child can count on pushes from (what it need not repair).
  std::uint64_t catch_up(const Peer& child, std::uint8_t s, std::uint32_t epoch, std::uint32_t from_seq);
  void forget_peer(const Endpoint& e, Time now);  // erases it, and whatever waits to be sent to it
  void suspend_silent_children(Time now);
  bool is_active_child(const Peer& p, std::uint8_t s) const;
  void reject_forged(const Endpoint& sender, Time now);
  void note_newest(std::uint64_t seq, Time now);
  void learn(const std::vector<Endpoint>& endpoints, const Endpoint* from = nullptr);
  void ask_introduction(Peer& p);
  void expire_peers(Time now);
  void control_rate(Time now);
  void flush_tracker();

  // One push tree: our parent in it, a subscription in flight, and the newest chunk it brought.
  struct Trial {
    Endpoint peer;
    Time started{0};
    std::uint64_t seq = 0;      // the chunk asked of it, one we hold
    std::uint32_t matched = 0;  // bit i: its fragment i equals ours
  };
  struct Tree {
    std::optional<Endpoint> parent;
    std::optional<Endpoint> pending;  // subscription asked for, no answer yet
    Time pending_since{0};
    bool switching = false;           // the pending subscription replaces the current parent
    Time last_chunk{0};               // the last chunk the parent completed
    Time taken_at{0};                 // when the parent took us (an epoch's start does not reset it)
    bool delivered = false;           // the parent has completed a chunk since we took it
    std::optional<std::uint64_t> newest;  // newest chunk of this substream we hold, from anyone
    std::uint64_t push_start = 0;         // the parent pushes chunks from here on; older ones we pull
    std::optional<Time> orphaned_since;   // no parent, and nobody known with room
    std::uint8_t last_depth = wire::unknown_depth;  // our depth here when we last had a parent
    std::optional<Trial> trial;                     // a faster candidate, asked to prove it delivers
  };

  // ---- trees (swarm_trees.cpp, and choosing parents: swarm_parents.cpp)
  std::uint8_t substream_of(std::uint64_t seq) const { return static_cast<std::uint8_t>(seq % trees_.size()); }
  void maintain_parents(Time now);
  void maintain_tree(std::uint8_t s, Time now, bool hello_due, bool optimize_due);
  void drop_parent(std::uint8_t s, Time now);
  void drop_parent_everywhere(const Peer& peer, Time now);
  Peer* best_parent_candidate(std::uint8_t s, Time now);
  std::optional<Time> arrival_via(const Peer& p, std::uint8_t s) const;
  std::uint32_t subscribe_from(std::uint8_t s) const;
  bool lists_newer(const Peer& peer, std::uint8_t s) const;
  std::optional<std::uint64_t> newest_listed(const Peer& peer, std::uint8_t s, std::uint64_t floor,
                                             bool held_here) const;
  std::uint8_t depth_to_beat(std::uint8_t s) const;
  void optimize_parent(std::uint8_t s, Time now);
  bool closes_loop(std::uint8_t s, const wire::TreeState& parent) const;
  bool cannot_fan_out(const Peer& peer) const;
  void start_trial(std::uint8_t s, Peer& candidate, Time now);
  void check_trial_fragment(Peer& peer, const wire::Fragment& m, Time now);
  bool parent_stalled(const Tree& tree, Time now) const;
  bool proven_source(const Peer& p, Time now) const;
  void subscribe(std::uint8_t s, Peer& candidate, Time now);
  void probe_for_parents(Time now);
  // Frees a child's slot in tree s and tells it so (an unsolicited refusal): it will find another parent.
  void release_child(Peer& child, std::uint8_t s);
  void release_children(std::uint8_t s);
  void shed_child(Time now);
  std::size_t total_children() const;
  void rehome(Time now);
  std::uint8_t my_depth() const;
  std::uint16_t my_latency_ms() const;
  std::uint16_t room() const;
  std::uint16_t forwarder_room() const;
  std::optional<Endpoint> leaf_child(std::uint8_t s) const;
  std::uint8_t suggest_home(Time now);
  std::size_t child_count(std::uint8_t s) const;
  bool forwards_in(std::uint8_t s) const;
  bool has_room(std::uint8_t s) const;
  std::size_t tree_slots(std::uint8_t s) const;
  const Peer* worst_forwarder(std::uint8_t s) const;
  Peer* reported_by(const Peer& reporter, std::uint8_t s);
  Peer* broadcaster_peer();
  Time rank(const Peer& child) const;
  bool take_child(Peer& peer, std::uint8_t s);
  wire::TreeState tree_state() const;
  std::size_t viewers_heard_lately() const;  // within recently_heard
  bool knows_few_viewers() const;  // fewer heard lately than small_swarm_peers
  void lost_sight_of(Peer& p);
  wire::Hello hello(bool subscribe, std::uint8_t substream, std::uint32_t from_seq = wire::from_join_point) const;
  wire::Welcome welcome_for(const Endpoint& to, std::uint8_t substream, bool accepted, bool with_peers);

  // ---- the census (membership/swarm_census.cpp)
  bool listens() const { return config_.role == wire::Role::viewer; }
  std::uint32_t listeners_below(std::uint8_t s) const;
  void update_census();
  ListenerCount census_;     // what we show
  ListenerCount passed_on_;  // what our maps say: our home tree's word (the broadcaster's own count)

  // ---- repair (swarm_repair.cpp)
  void send_haves(Time now);
  wire::Have have() const;
  void exchange_peers(Time now);
  void repair(Time now);
  bool repair_one(std::uint64_t seq, Time now);
  void request_chunk(Peer& holder, std::uint64_t seq, std::uint16_t fragments, Time now);

  // ---- outputs (swarm.cpp)
  void send(const Endpoint& to, wire::Message message);
  void push_chunk(const std::shared_ptr<const Chunk>& chunk, const Endpoint& to, std::uint16_t fragment_mask,
                  SendClass cls, bool live = false);
  bool is_broadcaster() const { return config_.role == wire::Role::broadcaster; }
  static constexpr std::size_t max_bootstrap_peers = 8;

  SwarmConfig config_;
  std::mt19937_64 rng_;
  session::SessionLayer session_;
  PeerTable peers_;
  ChunkStore store_;

  std::uint8_t home_;                // the tree this node forwards in (every_substream: the broadcaster)
  bool home_settled_ = false;        // a viewer takes the broadcaster's suggestion once, before it has children
  std::vector<std::uint32_t> suggested_;  // the broadcaster: homes it suggested lately, per tree
  Time suggestions_reset_{0};
  std::vector<Tree> trees_;
  std::size_t next_optimized_ = 0;   // faster-parent checks take the trees in turn
  Time last_optimize_{0};
  Time stream_last_seen_{-3600s};  // when a new chunk last appeared anywhere (verified, or in a buffer map)
  std::optional<Time> root_live_since_;  // the broadcaster's own map first listed chunks (maintain_tree)
  Time stream_started_at_{0};      // when the first one did: parents are not silent before that
  std::uint64_t newest_seen_ = 0;
  double root_repair_tokens_ = 0;  // bytes the broadcaster may still spend on repair answers...
  double root_reply_tokens_ = 0;   // ...and on answering probes from strangers
  double published_bps_ = 0;       // the broadcaster: the stream's bitrate, smoothed
  Time last_publish_{0};

  std::optional<Epoch> epoch_;              // the session our store holds
  std::vector<std::uint32_t> past_epochs_;  // tags of sessions we left (bounded): their chunks are dropped
  bool small_swarm_ = false;                // the broadcaster said lately that it knows only a few viewers
  std::optional<std::uint64_t> want_from_;  // lowest seq this viewer still wants (its join point)...
  std::uint32_t want_epoch_ = 0;            // ...in this epoch, when a peer told us before our first chunk
  // Holes being repaired: when each was first seen missing, and the requests made for it so far.
  struct Hole {
    Time missing_since;
    Time requested_at{0};
    std::uint32_t attempts = 0;
    std::array<Endpoint, 3> asked{};  // the last peers asked: their answers are expected
  };
  std::map<std::uint64_t, Hole> holes_;

  Time next_tick_{0};
  Time last_housekeeping_{-3600s};
  Time last_hello_{-3600s};
  Time last_peer_exchange_{-3600s};
  std::size_t probes_this_second_ = 0;
  Time probe_second_{-3600s};
  double introduction_tokens_ = 0;  // introductions we may still act on (introductions_per_second)
  Time introductions_refilled_{0};
  double introduction_requests_ = 0;  // ...and introductions of others we may still make when asked
  Time requests_refilled_{0};
  std::uint64_t sessions_with_viewers_ = 0;  // opened, ever: somebody but the broadcaster reaches us
  std::optional<Time> first_viewer_probe_;   // our first hello to a viewer we had only heard of
  bool reachable_ = false;                   // a stranger we never sent to reached us (Hello.reachable)
  std::vector<std::pair<Endpoint, Endpoint>> observed_;  // yourip votes, bounded: (who said it, what it saw)

  // How long after we verify a chunk its last fragment leaves for a child, smoothed over pushes: the part
  // of a hop that depends on how busy and fast a parent is. Children add it to our latency.
  Time forward_wait_{0};
  std::vector<std::pair<std::uint64_t, Time>> verified_at_;  // ring by seq: when each chunk was verified

  SendQueue send_queue_;
  TrackerClient tracker_;
  std::optional<RateController> rate_control_;
  std::size_t slots_ = SIZE_MAX;          // children we may have in all, lowered when we shed one
  Time slots_limited_until_{0};
  Time now_{0};  // the latest "now" the driver gave us, for enqueueing
  Time received_at_{0};  // when the datagram being handled arrived
  session::ConnectionId sender_session_ = 0;  // which session it came over
  // Requests we made lately (a ring): who may send us fragments besides our parents.
  struct Asked {
    Endpoint to;
    std::uint64_t seq = 0;
    Time at{-3600s};
  };
  std::vector<Asked> asked_ = std::vector<Asked>(16);
  std::size_t next_asked_ = 0;
  std::vector<std::uint8_t> scratch_;  // a fragment's body, before its session frames it
  std::deque<SwarmEvent> events_;
  SwarmStats stats_;
};

}  // namespace p2plive
