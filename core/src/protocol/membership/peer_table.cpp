#include "protocol/membership/peer_table.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace p2plive {
namespace {
constexpr std::size_t max_banned = 1024;
}  // namespace

PeerTable::PeerTable(std::size_t max_peers)
    : slots_(std::max<std::size_t>(max_peers, 1)),
      keys_(slots_.size()),
      used_(slots_.size(), 0),
      index_(std::bit_ceil(2 * slots_.size())) {}

std::size_t PeerTable::home_of(const Endpoint& endpoint) const {
  std::uint64_t w[2];
  std::memcpy(w, endpoint.address.data(), sizeof w);
  // A full 64-bit mix (MurmurHash3's finalizer): an IPv4 address sits in a few bytes of the 16.
  std::uint64_t h = w[0] ^ std::rotl(w[1], 29) ^ (std::uint64_t{endpoint.port} << 48);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return static_cast<std::size_t>(h) & (index_.size() - 1);
}

std::size_t PeerTable::index_of(const Endpoint& endpoint) const {
  // Handling one datagram looks up its sender several times over.
  if (used_[last_found_] && keys_[last_found_] == endpoint) return last_found_;
  for (auto i = home_of(endpoint);; i = (i + 1) & (index_.size() - 1)) {
    const auto entry = index_[i];
    if (entry == 0) return slots_.size();
    if (keys_[entry - 1] == endpoint) return last_found_ = entry - 1;
  }
}

void PeerTable::index_insert(std::size_t slot) {
  auto i = home_of(keys_[slot]);
  while (index_[i] != 0) i = (i + 1) & (index_.size() - 1);
  index_[i] = static_cast<std::uint32_t>(slot + 1);
}

void PeerTable::index_erase(std::size_t slot) {
  const auto mask = index_.size() - 1;
  auto hole = home_of(keys_[slot]);
  while (index_[hole] != slot + 1) hole = (hole + 1) & mask;
  index_[hole] = 0;
  // Pull back any later entry of the run whose probe would now stop at the hole.
  for (auto j = (hole + 1) & mask; index_[j] != 0; j = (j + 1) & mask) {
    const auto home = home_of(keys_[index_[j] - 1]);
    const bool reachable_past_hole = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (reachable_past_hole) continue;
    index_[hole] = index_[j];
    index_[j] = 0;
    hole = j;
  }
}

Peer* PeerTable::find(const Endpoint& endpoint) {
  const auto i = index_of(endpoint);
  return i == slots_.size() ? nullptr : &slots_[i];
}

const Peer* PeerTable::find(const Endpoint& endpoint) const {
  const auto i = index_of(endpoint);
  return i == slots_.size() ? nullptr : &slots_[i];
}

Peer* PeerTable::upsert(const Endpoint& endpoint) {
  if (auto* peer = find(endpoint)) return peer;
  if (size_ >= slots_.size() && !make_room()) return nullptr;
  const auto i = static_cast<std::size_t>(std::find(used_.begin(), used_.end(), 0) - used_.begin());
  used_[i] = 1;
  keys_[i] = endpoint;
  index_insert(i);
  slots_[i].endpoint = endpoint;
  ++size_;
  return &slots_[i];
}

void PeerTable::free_slot(std::size_t i) {
  index_erase(i);
  slots_[i] = Peer{};
  used_[i] = 0;
  --size_;
}

void PeerTable::erase(const Endpoint& endpoint) {
  const auto i = index_of(endpoint);
  if (i != slots_.size()) free_slot(i);
}

bool PeerTable::make_room() {
  std::size_t victim = slots_.size();
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (!used_[i]) continue;
    const auto& p = slots_[i];
    if (p.parent_in || p.child_in || p.bootstrap) continue;
    // Unheard candidates go first, then whoever has been quiet longest.
    if (victim == slots_.size()) {
      victim = i;
      continue;
    }
    const auto& v = slots_[victim];
    if ((!p.heard && v.heard) || (p.heard == v.heard && p.last_heard < v.last_heard)) victim = i;
  }
  if (victim == slots_.size()) return false;
  free_slot(victim);
  return true;
}

void PeerTable::ban(const Endpoint& endpoint, Time until, Time now) {
  if (banned_.size() >= max_banned) std::erase_if(banned_, [now](const auto& entry) { return entry.second <= now; });
  if (banned_.size() >= max_banned) return;  // a flood of bad endpoints: their chunks still fail to verify
  banned_[endpoint] = until;
  erase(endpoint);
}

bool PeerTable::is_banned(const Endpoint& endpoint, Time now) const {
  if (banned_.empty()) return false;  // the usual case, without touching the map's buckets
  const auto it = banned_.find(endpoint);
  return it != banned_.end() && it->second > now;
}

std::vector<Endpoint> PeerTable::sample_heard(std::size_t count, const Endpoint* except, Time heard_since,
                                              std::mt19937_64& rng) const {
  std::vector<const Peer*> all;
  for_each([&](const Peer& peer) {
    if (peer.heard && peer.last_heard >= heard_since && (!except || peer.endpoint != *except)) all.push_back(&peer);
  });
  // Sort first so that the sample depends only on the seed, not on the table's order.
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
