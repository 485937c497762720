// A UDP tracker client (BEP 15), sans-IO like the swarm it serves. A big swarm cannot learn its peers
// from the broadcaster alone: every newcomer asking it would spend its upload on introductions. A
// tracker (opentracker, any BEP 15 server) keeps the list instead; the swarm announces itself under an
// info-hash made from the stream's public key and gets a sample of the others.
//
//   connect (16 bytes)  -> connection id;  announce (98 bytes) -> interval and IPv4 peers.
//
// The client drives each tracker on its own: connect, announce, re-announce at the tracker's interval, and
// retry with backoff when it does not answer. Everything from the network is checked and dropped if off.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "p2plive/endpoint.hpp"
#include "p2plive/key.hpp"
#include "protocol/distribution/send_queue.hpp"
#include "protocol/time.hpp"

namespace p2plive {

using InfoHash = std::array<std::uint8_t, 20>;

struct TrackerClientConfig {
  std::vector<Endpoint> trackers;
  InfoHash info_hash{};
  std::uint16_t port = 0;          // where our swarm listens; 0: announce nothing (not yet bound)
  std::uint64_t rng_seed = 1;
  std::int32_t num_want = 50;
  Time retry = 1s;                 // an unanswered request is sent again after 1, 2, 4 ... s
  Time max_retry = 60s;
  Time min_interval = 30s;         // re-announce no more often than this, whatever the tracker says...
  Time max_interval = 30min;       // ...and no less often than this
  Time hurry_interval = 10s;       // while the swarm wants peers, re-announce this often
};

struct TrackerStats {
  std::uint64_t announces = 0;     // answered
  std::uint64_t peers_learned = 0;
  std::uint64_t errors = 0;        // error answers from trackers
  std::uint64_t malformed = 0;     // datagrams from a tracker that did not parse or match
};

class TrackerClient {
 public:
  explicit TrackerClient(TrackerClientConfig config);

  bool is_tracker(const Endpoint& from) const;
  // A datagram from a tracker; peers it lists become available to take_peers().
  void handle_datagram(const Endpoint& from, std::span<const std::uint8_t> datagram, Time now);
  void handle_timeout(Time now);
  // The swarm wants more peers than it knows (a tree without a parent): announce sooner.
  void hurry(Time now);
  // Tells the trackers we are leaving (one datagram each, not retried).
  void stop(Time now);

  std::optional<Transmit> poll_transmit();
  std::optional<Time> poll_timeout() const;
  std::vector<Endpoint> take_peers();
  const TrackerStats& stats() const { return stats_; }

 private:
  enum class Phase { idle, connecting, announcing };
  struct Tracker {
    Endpoint endpoint;
    Phase phase = Phase::idle;
    std::uint32_t transaction = 0;
    std::uint64_t connection_id = 0;
    Time connected_at{-3600s};
    Time sent_at{0};
    std::uint32_t attempts = 0;
    Time next_announce{0};
    bool started = false;          // an announce with event "started" was answered
  };

  void start_request(Tracker& t, Time now);
  void send_request(Tracker& t, Time now);
  void send_request(Tracker& t, Time now, std::uint32_t event);
  Time retry_after(const Tracker& t) const;

  TrackerClientConfig config_;
  std::mt19937_64 rng_;
  std::array<std::uint8_t, 20> peer_id_{};
  std::uint32_t key_ = 0;
  std::vector<Tracker> trackers_;
  std::vector<Transmit> out_;
  std::vector<Endpoint> learned_;
  TrackerStats stats_;
};

}  // namespace p2plive
