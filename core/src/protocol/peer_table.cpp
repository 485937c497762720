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

const Peer* PeerTable::find(const Endpoint& endpoint) const {
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
    if (p.parent_in || p.child_in || p.bootstrap) continue;
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
  std::vector<const Peer*> all;
  for (const auto& [endpoint, peer] : peers_)
    if (peer.heard && (!except || endpoint != *except)) all.push_back(&peer);
  // Sort first so that the sample depends only on the seed, not on hash-table order.
  std::sort(all.begin(), all.end(), [](const Peer* a, const Peer* b) { return a->endpoint < b->endpoint; });
  std::shuffle(all.begin(), all.end(), rng);
  // What a newcomer looking for parents needs most: for each tree, the forwarders with room through which
  // chunks arrive soonest. Half the list goes to them, in turn over the trees; the rest is random, so
  // that everyone still gets known.
  const auto has_room = [](const Peer* p) { return (p->tree.room | p->tree.forwarder_room) != 0; };
  std::stable_sort(all.begin(), all.end(), [&](const Peer* a, const Peer* b) {
    if (has_room(a) != has_room(b)) return has_room(a);
    return has_room(a) && a->tree.latency_ms < b->tree.latency_ms;
  });
  std::vector<Endpoint> out;
  std::vector<bool> taken(all.size());
  for (std::size_t i = 0; i < all.size() && out.size() < count / 2; ++i) {
    if (!has_room(all[i])) break;
    out.push_back(all[i]->endpoint);
    taken[i] = true;
  }
  std::vector<std::size_t> rest;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (!taken[i]) rest.push_back(i);
  std::shuffle(rest.begin(), rest.end(), rng);
  for (std::size_t i = 0; i < rest.size() && out.size() < count; ++i) out.push_back(all[rest[i]]->endpoint);
  return out;
}

}  // namespace p2plive
