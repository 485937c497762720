#include "sim/tracker_model.hpp"

#include <algorithm>

namespace p2plive::sim {
namespace {

constexpr std::uint64_t protocol_id = 0x41727101980ull;
constexpr std::uint32_t announce_interval_s = 120;
constexpr std::size_t max_peers_answered = 50;

std::uint64_t get(std::span<const std::uint8_t> in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | in[at + static_cast<std::size_t>(i)];
  return v;
}
void put(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
std::uint32_t ipv4_of(const Endpoint& e) {
  return (std::uint32_t{e.address[12]} << 24) | (std::uint32_t{e.address[13]} << 16) | (std::uint32_t{e.address[14]} << 8) |
         e.address[15];
}

}  // namespace

std::optional<std::vector<std::uint8_t>> TrackerModel::handle(const Endpoint& from, std::span<const std::uint8_t> in, Time) {
  if (in.size() < 16) return std::nullopt;
  const auto action = get(in, 8, 4);
  const auto transaction = get(in, 12, 4);
  std::vector<std::uint8_t> out;
  if (action == 0 && get(in, 0, 8) == protocol_id) {
    put(out, 0, 4);
    put(out, transaction, 4);
    put(out, rng_(), 8);  // connection ids are not checked here: the model trusts its own network
    return out;
  }
  if (action != 1 || in.size() < 98) return std::nullopt;
  std::array<std::uint8_t, 20> info_hash{};
  std::copy(in.begin() + 16, in.begin() + 36, info_hash.begin());
  const auto event = get(in, 80, 4);
  const auto port = static_cast<std::uint16_t>(get(in, 96, 2));
  const auto peer = Endpoint::v4(ipv4_of(from), port);
  auto& swarm = swarms_[info_hash];
  ++announces_;
  if (event == 3) {  // stopped
    remove(swarm, peer);
    return std::nullopt;
  }
  put(out, 1, 4);
  put(out, transaction, 4);
  put(out, announce_interval_s, 4);
  put(out, swarm.peers.size(), 4);  // leechers: a live stream has no seeds
  put(out, 0, 4);
  // A random sample of the others, as opentracker gives.
  std::vector<std::size_t> picks;
  const auto n = swarm.peers.size();
  for (std::size_t tries = 0; picks.size() < std::min(n, max_peers_answered) && tries < 4 * max_peers_answered; ++tries) {
    const auto i = static_cast<std::size_t>(rng_() % n);
    if (swarm.peers[i] == peer || std::find(picks.begin(), picks.end(), i) != picks.end()) continue;
    picks.push_back(i);
  }
  for (const auto i : picks) {
    put(out, ipv4_of(swarm.peers[i]), 4);
    put(out, swarm.peers[i].port, 2);
  }
  if (!swarm.index.count(peer)) {
    swarm.index[peer] = swarm.peers.size();
    swarm.peers.push_back(peer);
  }
  return out;
}

void TrackerModel::remove(Swarm& swarm, const Endpoint& peer) {
  const auto it = swarm.index.find(peer);
  if (it == swarm.index.end()) return;
  const auto i = it->second;
  swarm.index.erase(it);
  if (i + 1 != swarm.peers.size()) {
    swarm.peers[i] = swarm.peers.back();
    swarm.index[swarm.peers[i]] = i;
  }
  swarm.peers.pop_back();
}

}  // namespace p2plive::sim
