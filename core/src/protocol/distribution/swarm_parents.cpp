// Choosing a parent in each substream tree: how soon chunks would arrive through a peer, which peers
// qualify, and moving to a faster one once it has shown that it delivers.
#include <algorithm>

#include "protocol/swarm.hpp"

namespace p2plive {

// Trees built during a flash crowd come out deep and slow, so now and then a viewer moves to a parent
// through which chunks would arrive clearly sooner. Claims cost nothing (a Sybil's welcome offers the
// quickest place in the tree), so the move is made only to a peer that has lately delivered us genuine
// chunks: the broadcaster, one we repaired from, or one that passed a trial. Without trials, a viewer
// placed deep while a crowd joined stayed deep unless it happened to repair from a better parent (seed 11
// of the 1,000-viewer simulation kept chains 18 hops long, 3.6 % of chunks late for good).
void Swarm::optimize_parent(std::uint8_t s, Time now) {
  Tree& tree = trees_[s];
  if (tree.trial) {
    const Peer* tried = peers_.find(tree.trial->peer);
    const bool passed = tried && tried->last_delivered >= tree.trial->started;
    const bool waiting = tried && now - tree.trial->started <= config_.trees.trial_timeout;
    if (!passed && waiting) return;
    tree.trial.reset();
    if (!passed) return;
  }
  const Peer* parent = peers_.find(*tree.parent);
  Peer* best = best_parent_candidate(s, now);
  if (!parent || !best) return;
  const auto current = arrival_via(*parent, s), offered = arrival_via(*best, s);
  if (!current || !offered) return;
  const auto margin = std::max(config_.trees.optimize_margin, *current / 10);
  if (*offered + margin >= *current) return;
  if (proven_source(*best, now)) {
    tree.switching = true;
    subscribe(s, *best, now);
  } else {
    start_trial(s, *best, now);
  }
}

// A trial asks the candidate for the newest chunk of the tree that both of us hold. Its answer must equal,
// byte for byte, the chunk we verified (check_trial_fragment): then it holds the stream and hands it over,
// a record and not a claim. A chunk we already hold races nobody's push, and costs the candidate one chunk.
void Swarm::start_trial(std::uint8_t s, Peer& candidate, Time now) {
  if (store_.empty() || !store_.epoch()) return;
  const auto shared = newest_listed(candidate, s, candidate.have_base, true);
  if (!shared) return;
  trees_[s].trial = Trial{candidate.endpoint, now, *shared, 0};
  ++stats_.parent_trials;
  request_chunk(candidate, *shared, 0xffff, now);
}

// A fragment of a chunk we hold already: if it answers a trial, it must be the verified chunk's own.
void Swarm::check_trial_fragment(Peer& peer, const wire::Fragment& m, Time now) {
  if (peer.tree.home >= trees_.size()) return;
  auto& trial = trees_[peer.tree.home].trial;
  if (!trial || trial->peer != peer.endpoint || trial->seq != m.seq) return;
  // The decoder bounds a fragment's index below its count, and its count to 16.
  const auto chunk = store_.get_shared(m.seq);
  if (!chunk || m.count != wire::fragment_count(chunk->payload.size())) return;
  std::vector<std::uint8_t> expected;
  wire::encode_fragment(*chunk, m.index, expected);
  const auto body = std::span<const std::uint8_t>(expected).subspan(wire::fragment_header_size);
  if (!std::equal(body.begin(), body.end(), m.body.begin(), m.body.end())) {
    trial.reset();  // not the chunk: it fails at once
    return;
  }
  trial->matched |= 1u << m.index;
  if (trial->matched == (1u << m.count) - 1) peer.last_delivered = now;
}

// How long after the broadcaster has a chunk of this tree it would reach us through `p`: the peer's own
// figure (its delay and forwarding wait), half the round trip to it, and what a hop costs beyond that.
std::optional<Time> Swarm::arrival_via(const Peer& p, std::uint8_t) const {
  if (p.tree.latency_ms == wire::unknown_latency) return std::nullopt;
  const auto rtt = p.srtt.value_or(config_.trees.unknown_rtt);
  return std::chrono::milliseconds(p.tree.latency_ms) + rtt / 2 + config_.trees.hop_cost;
}

// The peer with room in this tree through which chunks would arrive soonest; ties are broken at random.
// In our home tree, while we have children there, only peers closer to the broadcaster than we are (or
// were) qualify: a descendant of ours would make a cycle.
Peer* Swarm::best_parent_candidate(std::uint8_t s, Time now) {
  std::uint8_t max_depth = wire::unknown_depth;
  if (s == home_ && child_count(s) > 0) max_depth = depth_to_beat(s);
  Peer* best = nullptr;
  Time best_arrival{0};
  std::uint64_t best_tiebreak = 0;
  // The broadcaster makes room for a node that only a reachable parent can serve (take_child).
  const bool needy = needs_reachable();
  peers_.for_each([&](Peer& p) {
    auto room = home_ == s ? p.tree.room | p.tree.forwarder_room : p.tree.room;
    if (needy && p.proven_root) room |= bit(s);
    // A full parent whose worst forwarding child ranks clearly below what we would lets us in.
    if (home_ == s && p.tree.displace_rank != 0xffff) {
      Peer me;  // as it would rank us: by the round trip between us
      me.srtt = p.srtt;
      if (rank(me) + config_.trees.displace_margin < std::chrono::milliseconds(p.tree.displace_rank))
        room |= bit(s);
    }
    if (!p.heard || !(room & bit(s)) || ((p.child_in | p.parent_in) & bit(s))) return;
    if (now - p.last_heard > config_.membership.recently_heard)
      return;  // what it said of its room is stale; it may be gone
    if (p.tree.depth == wire::unknown_depth ||
        (max_depth != wire::unknown_depth && p.tree.depth >= max_depth))
      return;
    // A viewer forwards in its home tree only. One that offers room elsewhere lies (a Sybil that would
    // starve every tree of ours at once), so only the broadcaster can be our parent in several trees.
    if (p.tree.depth != 0 && p.tree.home != s) return;
    if (now < p.avoid_until || now < p.retry_after) return;
    // It was full when it refused us. A map since that offers room here is news: a child left, or the
    // broadcaster evicted a withholder, and the first to ask gets the slot.
    if (now < p.full_until && p.tree_heard <= p.full_since) return;
    auto arrival = arrival_via(p, s);
    if (!arrival) return;
    // A forwarder nobody stays with yet has not shown that it passes chunks on: established ones first.
    if (p.tree.children == 0 && p.tree.depth != 0) *arrival += config_.trees.unproven_penalty;
    const auto tiebreak = rng_();
    if (!best || *arrival < best_arrival || (*arrival == best_arrival && tiebreak < best_tiebreak)) {
      best = &p;
      best_arrival = *arrival;
      best_tiebreak = tiebreak;
    }
  });
  return best;
}

// It has lately completed a chunk for us that proved genuine (a repair, or pushes), or it is the
// broadcaster: a record, not a claim.
bool Swarm::proven_source(const Peer& p, Time now) const {
  return p.proven_root || now - p.last_delivered <= config_.trees.proven_for;
}

// Whether a peer's buffer map lists a chunk of this substream newer than the newest we hold.
bool Swarm::lists_newer(const Peer& peer, std::uint8_t s) const {
  const auto& newest = trees_[s].newest;
  return newest_listed(peer, s, newest ? *newest + 1 : peer.have_base, false).has_value();
}

// The newest chunk of this substream that a peer's buffer map lists, from `floor` up (and that we hold
// too, if `held_here`).
std::optional<std::uint64_t> Swarm::newest_listed(const Peer& peer, std::uint8_t s, std::uint64_t floor,
                                                  bool held_here) const {
  if (!peer.newest_have) return std::nullopt;
  for (auto seq = *peer.newest_have; seq >= floor && seq >= peer.have_base; --seq) {
    if (substream_of(seq) == s && peer.has_chunk(seq) && (!held_here || store_.has(seq))) return seq;
    if (seq == 0) break;
  }
  return std::nullopt;
}

void Swarm::subscribe(std::uint8_t s, Peer& candidate, Time now) {
  trees_[s].pending = candidate.endpoint;
  trees_[s].pending_since = now;
  send(candidate.endpoint, hello(true, s, subscribe_from(s)));
}

// Where a new parent should start pushing this substream: just past the newest chunk of it we hold, or, if
// we hold none, from our join point.
std::uint32_t Swarm::subscribe_from(std::uint8_t s) const {
  const auto& newest = trees_[s].newest;
  if (newest) return static_cast<std::uint32_t>(std::min(*newest + 1, wire::max_seq));
  if (want_from_) return static_cast<std::uint32_t>(std::min(*want_from_, wire::max_seq));
  return wire::from_join_point;
}

}  // namespace p2plive
