#include "protocol/peer_table.hpp"

#include <algorithm>

namespace p2plive {
namespace {
constexpr std::size_t max_banned = 1024;
}  // namespace

Peer* PeerTable::find(const Endpoint& endpoint) {
  const auto it = peers_.find(endpoint);
  return it == peers_.end() ? nullptr : &it->second;
}

Peer* PeerTable::upsert(const Endpoint& endpoint) {
  if (auto* peer = find(endpoint)) return peer;
  if (peers_.size() >= max_peers_ && !make_room()) return nullptr;
  auto& peer = peers_[endpoint];
  peer.endpoint = endpoint;
  return &peer;
}

bool PeerTable::make_room() {
  auto victim = peers_.end();
  for (auto it = peers_.begin(); it != peers_.end(); ++it) {
    const auto& p = it->second;
    if (p.parent_in || p.child_in) continue;
    // Unheard candidates go first, then whoever has been quiet longest.
    if (victim == peers_.end() || (!p.heard && victim->second.heard) ||
        (p.heard == victim->second.heard && p.last_heard < victim->second.last_heard))
      victim = it;
  }
  if (victim == peers_.end()) return false;
  peers_.erase(victim);
  return true;
}

void PeerTable::ban(const Endpoint& endpoint, Time until, Time now) {
  if (banned_.size() >= max_banned) std::erase_if(banned_, [now](const auto& entry) { return entry.second <= now; });
  if (banned_.size() >= max_banned) return;  // a flood of bad endpoints: their chunks still fail to verify
  banned_[endpoint] = until;
  peers_.erase(endpoint);
}

bool PeerTable::is_banned(const Endpoint& endpoint, Time now) const {
  const auto it = banned_.find(endpoint);
  return it != banned_.end() && it->second > now;
}

std::vector<Endpoint> PeerTable::sample_heard(std::size_t count, const Endpoint* except,
                                              std::mt19937_64& rng) const {
  std::vector<Endpoint> all;
  for (const auto& [endpoint, peer] : peers_)
    if (peer.heard && (!except || endpoint != *except)) all.push_back(endpoint);
  // Sort first so that the sample depends only on the seed, not on hash-table order.
  std::sort(all.begin(), all.end());
  std::shuffle(all.begin(), all.end(), rng);
  // Peers with room for children first: they are what a newcomer looking for parents needs.
  std::stable_partition(all.begin(), all.end(), [this](const Endpoint& e) {
    const auto& p = peers_.at(e);
    return (p.room | p.forwarder_room) != 0;
  });
  if (all.size() > count) all.resize(count);
  return all;
}

}  // namespace p2plive
