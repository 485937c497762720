// A BitTorrent UDP tracker (BEP 15) for the simulator, standing in for opentracker: it keeps who announced
// under which info-hash and answers each announce with a random sample of the others. It is part of the
// simulated world, not of the product; the product's tracker client talks to it unchanged.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "p2plive/endpoint.hpp"
#include "protocol/time.hpp"

namespace p2plive::sim {

class TrackerModel {
 public:
  explicit TrackerModel(std::uint64_t seed) : rng_(seed) {}

  // The answer to a request from `from`, if any.
  std::optional<std::vector<std::uint8_t>> handle(const Endpoint& from, std::span<const std::uint8_t> request, Time now);
  std::uint64_t announces() const { return announces_; }

 private:
  struct Swarm {
    std::vector<Endpoint> peers;
    std::map<Endpoint, std::size_t> index;  // where each peer sits in `peers`
  };
  void remove(Swarm& swarm, const Endpoint& peer);

  std::mt19937_64 rng_;
  std::map<std::array<std::uint8_t, 20>, Swarm> swarms_;
  std::uint64_t announces_ = 0;
};

}  // namespace p2plive::sim
