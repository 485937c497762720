// The simulated network: every peer has an upload and a download link of its own capacity, a one-way delay
// to the core of the network, and a queue in front of each link. A datagram waits for the sender's uplink,
// crosses both peers' delays, then waits for the receiver's downlink. Queues are bounded by time: a datagram
// that would wait longer than max_queue_delay is dropped, as a full router buffer would.
// The two queues are entered in two steps, each at its own time, so that each is served in the order
// datagrams reach it: the driver calls send() when a datagram leaves its sender and reach() when it gets to
// the receiver's downlink.
#pragma once

#include <cstdint>
#include <algorithm>
#include <optional>
#include <random>
#include <vector>

#include "protocol/time.hpp"

namespace p2plive::sim {

struct LinkProfile {
  double upload_bps = 10e6;
  double download_bps = 50e6;
  Time one_way_delay = 25ms;  // to the network core; a path's delay is the sum of both ends
};

struct NetworkConfig {
  double loss = 0.0;           // independent loss per datagram
  Time max_queue_delay = 500ms;
  std::uint64_t seed = 1;
};

class NetworkModel {
 public:
  explicit NetworkModel(NetworkConfig config) : config_(config), rng_(config.seed) {}

  std::size_t add_peer(const LinkProfile& profile);
  const LinkProfile& profile(std::size_t peer) const { return links_[peer].profile; }

  // When a datagram of `bytes` sent now reaches the receiver's downlink; nullopt if it is lost or dropped
  // at a full uplink queue.
  std::optional<Time> send(std::size_t from, std::size_t to, std::size_t bytes, Time now);
  // A datagram reaches the receiver's downlink now: when it has fully arrived, or nullopt if the queue
  // there is full.
  std::optional<Time> reach(std::size_t to, std::size_t bytes, Time now);

  std::uint64_t dropped_by_queue() const { return up_drops_ + down_drops_; }
  std::uint64_t dropped_at_uplinks() const { return up_drops_; }
  std::uint64_t dropped_at_uplink(std::size_t peer) const { return links_[peer].up_drops; }
  std::uint64_t lost() const { return losses_; }

 private:
  struct Link {
    LinkProfile profile;
    Time up_free_at{0};
    Time down_free_at{0};
    std::uint64_t up_drops = 0;
  };

  NetworkConfig config_;
  std::mt19937_64 rng_;
  std::vector<Link> links_;
  std::uint64_t up_drops_ = 0;
  std::uint64_t down_drops_ = 0;
  std::uint64_t losses_ = 0;
};

// Draws peer links: RTTs of 20-200 ms, and upload capacities of which a given share is below the stream's
// bitrate (home links on a bad day), the rest spread up to several times the bitrate.
struct PopulationConfig {
  double bitrate_bps = 2e6;
  double share_below_bitrate = 0.2;
  std::uint64_t seed = 1;
};
LinkProfile draw_link(const PopulationConfig& config, std::mt19937_64& rng);

}  // namespace p2plive::sim
