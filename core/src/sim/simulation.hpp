// One simulated run: the broadcaster, the viewers and a tracker, each the unchanged Swarm state machine,
// on the modelled network, driven by the event queue in virtual time. simulation.cpp holds the world
// (peers, arrivals and departures, restarts, datagrams in flight); simulation_figures.cpp reckons what
// each viewer got into the report.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "p2plive/simulator.hpp"
#include "playout/playout.hpp"
#include "protocol/swarm.hpp"
#include "sim/event_queue.hpp"
#include "sim/nat_model.hpp"
#include "sim/network_model.hpp"
#include "sim/tracker_model.hpp"

namespace p2plive::sim {

inline constexpr std::size_t broadcaster_index = 0;
inline constexpr std::size_t tracker_index = 1;  // there whether the scenario uses it or not; viewers follow
inline constexpr std::size_t hop_ring = 256;
// The broadcaster's latest chunks, which every viewer's store shares instead of keeping its own copy. Twice a
// viewer's window: a chunk older than that is no longer repaired, and would just get its own copy.
inline constexpr std::size_t published_ring = 256;

Endpoint endpoint_of(std::size_t index);
std::size_t index_of(const Endpoint& e);

struct SimPeer {
  std::unique_ptr<Swarm> swarm;
  Time joined{0};
  Time left{-1};
  bool alive = false;
  bool withholding = false;
  Time timer_due{-1};
  bool has_joined = false;  // verified its first join point
  std::uint64_t on_time = 0;
  std::uint64_t received = 0;  // in its measured window, on time or not
  Time last_chunk{-1};
  Time max_stall{0};
  bool says_goodbye = true;  // when it leaves
  Playout playout;           // what its player gets, exactly as the viewer node's
  Time first_frame{-1};
  std::uint64_t epoch_base = 0;   // the publish count at which its playout's session began
  Time awaiting_resume{-1};       // the broadcaster restarted: when its new session began
  std::array<std::uint8_t, hop_ring> hops{};
};

class Simulation {
 public:
  explicit Simulation(const Scenario& s);
  Report run();

 private:
  // ---- the world (simulation.cpp)
  SwarmConfig base_config(wire::Role role);
  Report::Held held_now() const;
  SwarmConfig broadcaster_config();
  void add_tracker();
  void add_broadcaster();
  void add_viewer(Time at, Time leave = Time{-1}, bool says_goodbye = true);
  void start_viewer(std::size_t index);
  Time exponential(double mean_us);
  Time next_arrival();
  Time watch_end(Time at);
  void arrive();
  void depart(std::size_t index, bool says_goodbye);
  void kill();
  void churn();
  void leave(std::size_t index);
  void restart_broadcaster(bool says_goodbye);
  void resume_broadcaster();
  std::shared_ptr<const Chunk> intern(Chunk&& c);
  void dispatch(Event& e);
  void answer_tracker_request(const Event& e);
  void publish();
  void arm(std::size_t index);
  void after_input(std::size_t index);
  void release_datagram(std::uint32_t i);
  std::uint32_t store_datagram(std::vector<std::uint8_t> bytes);
  std::span<const std::uint8_t> bytes_of(std::uint32_t i);
  static std::optional<wire::FragmentKey> fragment_key(const std::vector<std::uint8_t>& bytes);
  const Chunk* published_fragment_source(const wire::FragmentKey& key) const;
  // Each session (epoch) numbers its chunks from 0; the run counts them all. A chunk's place in the run.
  std::uint64_t published_index(std::uint64_t epoch, std::uint64_t seq) const;

  // ---- figures (simulation_figures.cpp)
  void on_verified(std::size_t index, const ChunkVerified& v);
  void on_new_session(SimPeer& p, std::uint64_t epoch);
  void play(SimPeer& p);
  void account_playback(SimPeer& p);
  void sample_listeners();
  bool counts_on_time(const SimPeer& p, Time published) const;
  void note_progress(SimPeer& p);
  void account(std::size_t index);
  void finish();

  Scenario s_;
  std::mt19937_64 rng_;
  NetworkModel network_;
  NatModel nat_;
  TrackerModel tracker_;
  Report report_;
  std::size_t payload_size_ = 0;
  std::vector<SimPeer> peers_;
  std::vector<Time> publish_times_;  // by place in the run
  std::vector<std::shared_ptr<const Chunk>> published_ = std::vector<std::shared_ptr<const Chunk>>(published_ring);
  EventQueue queue_;
  struct InFlight {
    std::vector<std::uint8_t> bytes;  // empty when canonical
    std::uint64_t index = 0;          // a canonical fragment's chunk: its place in the run
    std::uint16_t size = 0;
    std::uint8_t fragment = 0;
    bool canonical = false;  // a published chunk's fragment, as its encoder writes it, in a session...
    session::ConnectionId connection = 0;  // ...with this connection ID and tag
    std::uint64_t tag = 0;
  };
  void canonical_bytes(const InFlight& d, std::vector<std::uint8_t>& out) const;
  std::vector<InFlight> datagrams_;  // the payloads of pending deliveries
  std::vector<std::uint8_t> scratch_;
  mutable std::vector<std::uint8_t> body_scratch_;
  std::vector<std::uint32_t> free_datagrams_;
  Time now_{0};
  // The broadcast sessions so far: each one's id and the publish count at which it began.
  struct Session {
    std::uint64_t epoch;
    std::uint64_t base;
    Time started;
  };
  std::vector<Session> sessions_;
  bool broadcasting_ = true;
  std::size_t restarts_done_ = 0;
  std::uint64_t bytes_sent_ = 0, fragment_bytes_ = 0, broadcaster_bytes_ = 0;
};

}  // namespace p2plive::sim
