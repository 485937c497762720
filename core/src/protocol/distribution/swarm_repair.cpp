// Buffer maps, peer exchange and repair: what the push trees missed is pulled from whoever holds it.
#include <algorithm>

#include "protocol/swarm.hpp"

namespace p2plive {

// Every have_interval to each tree neighbour (parents and children: they repair from each other and carry
// each other's congestion feedback) and to each peer that said hello (candidates that weigh us as a
// parent, newcomers that repair from us), so that they know what we hold and whether we have room; but
// not to one of those that left three maps unanswered: it takes its maps from others (takes_maps_from).
// A hello of its own is answered with a map; if it answers that one, its maps resume.
// Each neighbour has its own phase, so that our stamped maps sample our uplink's queue all through the
// interval rather than all at one instant.
void Swarm::send_haves(Time now) {
  // Peer slots never move, so pointers into the table stay valid for this call.
  std::vector<Peer*> due;
  peers_.for_each([&](Peer& p) {
    // A neighbour silent for a while has most likely gone: it gets no more maps.
    if (!p.heard || now - p.last_heard > config_.trees.child_silence) return;
    if (!p.child_in && !p.parent_in && (!p.said_hello || p.unanswered_maps >= 3)) return;
    if (p.last_have_sent < Time{0})
      p.last_have_sent = now - std::chrono::microseconds(rng_() % config_.repair.have_interval.count());
    if (now - p.last_have_sent >= config_.repair.have_interval) due.push_back(&p);
  });
  if (due.empty()) return;
  std::sort(due.begin(), due.end(), [](const Peer* a, const Peer* b) { return a->endpoint < b->endpoint; });
  update_census();
  const auto map = have();
  for (Peer* p : due) {
    p->last_have_sent = now;
    send(p->endpoint, map);
  }
}

// Parents and children send us maps twice a second; so do the peers we said hello to, which would make
// every peer we ever probed a source for good (maps and their acks grew with the session: 3.1 % of the
// payload over three minutes). Beyond the tree, a few sources are enough to know who holds what and who
// has room, if they are worth hearing: one that could be a parent or a repair source (room in some tree,
// not avoided, answering our requests) takes the place of one that could not. Otherwise Sybils that come
// first would be all a viewer hears of; probe_for_parents says hello to candidates while sources are short.
bool Swarm::is_map_source(const Peer& p, Time now) const {
  return !p.child_in && !p.parent_in && now - p.took_map_at <= 3 * config_.repair.have_interval;
}

bool Swarm::worth_hearing(const Peer& p, Time now) const {
  return (p.tree.room | p.tree.forwarder_room) != 0 && p.avoid_until <= now &&
         p.unanswered_requests < config_.repair.max_unanswered_requests;
}

std::size_t Swarm::useful_map_sources(Time now) const {
  std::size_t n = 0;
  peers_.for_each([&](const Peer& p) { n += is_map_source(p, now) && worth_hearing(p, now); });
  return n;
}

bool Swarm::takes_maps_from(const Peer& peer, Time now) {
  if (is_map_source(peer, now)) return true;
  std::size_t sources = 0;
  Peer* useless = nullptr;
  peers_.for_each([&](Peer& p) {
    if (!is_map_source(p, now)) return;
    ++sources;
    if (!worth_hearing(p, now) && (!useless || p.endpoint < useless->endpoint)) useless = &p;
  });
  if (sources < config_.repair.map_sources) return true;
  if (!worth_hearing(peer, now) || !useless) return false;
  useless->took_map_at = Time{-3600s};  // its next maps go unanswered
  return true;
}

wire::Have Swarm::have() const {
  wire::Have have;
  have.tree = tree_state();
  // Enough to cover the repair window and the way back to the latest join point, which newcomers fetch.
  std::size_t count = config_.repair.repair_window_chunks;
  if (const auto join = store_.latest_join_seq()) count = std::max<std::size_t>(count, store_.latest_seq() - *join + 1);
  count = std::min({count, wire::max_have_bits, config_.repair.window_chunks});
  have.base_seq = store_.latest_seq() >= count ? store_.latest_seq() - count + 1 : 0;
  have.bits = store_.have_bits(have.base_seq, count);
  have.epoch = our_epoch_tag();
  have.join_seq = store_.latest_join_seq().value_or(store_.latest_seq());
  have.subtree_listeners = home_ < trees_.size() ? listeners_below(home_) : (listens() ? 1 : 0);
  have.listeners = passed_on_.listeners;
  have.listeners_peak = passed_on_.peak;
  return have;
}

void Swarm::exchange_peers(Time now) {
  last_peer_exchange_ = now;
  const auto since = now - config_.membership.recently_heard;
  const auto targets = peers_.sample_heard(1, nullptr, since, rng_);
  for (const auto& t : targets) {
    auto listed = peers_.sample_heard(config_.membership.peers_per_message, &t, since, rng_);
    // The first few listed are introduced to it too (rendezvous), unless either is the broadcaster or says
    // that strangers reach it: a peer list alone reaches nobody behind a NAT that lets in only replies.
    const Peer* target = peers_.find(t);
    std::size_t introduced = 0;
    for (const auto& e : listed) {
      if (!target || target->proven_root || target->reachable ||
          introduced >= config_.membership.introductions_per_exchange)
        break;
      const Peer* p = peers_.find(e);
      if (!p || p->proven_root || p->reachable || !worth_introducing(*p)) continue;
      introduce(t, e);
      ++introduced;
    }
    send(t, wire::Peers{std::move(listed)});
  }
}

void Swarm::repair(Time now) {
  if (!want_from_) return;
  // A hole in a substream whose parent has already pushed us a newer chunk of it is a loss; newer chunks
  // are still on their way down the tree, and asking for them early would only pull them out of the
  // broadcaster. In a tree where we have no parent, the newest chunk anyone claims to have bounds the search.
  const std::uint64_t horizon = std::max(store_.empty() ? *want_from_ : store_.latest_seq(), newest_seen_);
  std::uint64_t from = std::max(*want_from_, store_.floor_seq());
  if (horizon >= config_.repair.repair_window_chunks &&
      from < horizon - config_.repair.repair_window_chunks + 1)
    from = horizon - config_.repair.repair_window_chunks + 1;

  std::size_t sent = 0;
  for (const auto seq : store_.missing(from, horizon, 4 * config_.repair.max_requests_per_tick)) {
    if (sent >= config_.repair.max_requests_per_tick) break;
    const Tree& tree = trees_[substream_of(seq)];
    if (tree.parent && !parent_stalled(tree, now) && seq >= tree.push_start && !(tree.newest && *tree.newest > seq))
      continue;
    // A subscription in flight brings this substream with it (the catch-up): no point fetching it twice.
    if (!tree.parent && tree.pending && now - tree.pending_since < config_.trees.catch_up_wait) continue;
    auto& hole = holes_.try_emplace(seq, Hole{now}).first->second;
    if (now - hole.missing_since < config_.repair.repair_delay) continue;
    if (hole.attempts > 0 && now - hole.requested_at < config_.repair.repair_retry) continue;
    // A parent that lacks the chunk too will push it when it gets it: the whole subtree below a loss
    // pulling it at once from random peers would only multiply the loss into duplicates.
    const Peer* parent = tree.parent ? peers_.find(*tree.parent) : nullptr;
    if (parent && !parent->has_chunk(seq) && now - hole.missing_since < config_.repair.parent_repair_wait)
      continue;
    if (repair_one(seq, now)) ++sent;
  }
  // Forget bookkeeping for holes that fell out of the window.
  holes_.erase(holes_.begin(), holes_.lower_bound(from));
}

// Our parent in this tree has sent nothing for a while, though the stream goes on.
bool Swarm::parent_stalled(const Tree& tree, Time now) const {
  return tree.parent && stream_last_seen_ >= Time{0} &&
         now - std::max(tree.last_chunk, stream_started_at_) > config_.trees.parent_stall;
}

// Asks the parent if it has the chunk, otherwise any viewer that says it does: the broadcaster's upload is
// the scarcest in the swarm, so it is asked only when nobody else has the chunk.
bool Swarm::repair_one(std::uint64_t seq, Time now) {
  Hole& hole = holes_.at(seq);
  const Tree& tree = trees_[substream_of(seq)];
  const Peer* parent = tree.parent ? peers_.find(*tree.parent) : nullptr;
  const Endpoint* source = nullptr;
  // Only the first attempt goes to the parent: a parent busy pushing may keep dropping repair answers. A
  // stalled parent that lists the chunk is likely withholding it.
  if (parent && parent->has_chunk(seq) && hole.attempts == 0 && parent->tree.depth != 0 && !parent_stalled(tree, now)) {
    source = &parent->endpoint;
  } else {
    // Peers that ignore our requests (withholding, or overloaded) are asked only when nobody else can be.
    std::vector<const Endpoint*> holders, unresponsive;
    const Endpoint* root = nullptr;
    peers_.for_each([&](Peer& p) {
      if (!p.heard) return;
      if (!p.has_chunk(seq)) return;
      if (p.tree.depth == 0) root = &p.endpoint;
      else if (p.unanswered_requests >= config_.repair.max_unanswered_requests)
        unresponsive.push_back(&p.endpoint);
      else holders.push_back(&p.endpoint);
    });
    const auto by_endpoint = [](const Endpoint* a, const Endpoint* b) { return *a < *b; };
    std::sort(holders.begin(), holders.end(), by_endpoint);
    std::sort(unresponsive.begin(), unresponsive.end(), by_endpoint);
    if (!holders.empty()) source = holders[rng_() % holders.size()];
    // The broadcaster waits a while for other viewers to have the chunk, unless the swarm is small (it
    // said so): then there is hardly anyone to wait for.
    else if (root && now - hole.missing_since >= (small_swarm_ ? Time{0} : config_.repair.root_repair_delay))
      source = root;
    else if (!unresponsive.empty()) source = unresponsive[rng_() % unresponsive.size()];
  }
  if (!source) return false;
  Peer* holder = peers_.find(*source);
  if (!holder) return false;
  hole.requested_at = now;
  ++hole.attempts;
  request_chunk(*holder, seq, store_.missing_fragments(seq), now);
  return true;
}

// Asks a holder for (some fragments of) a chunk: counted, remembered so that its answer is let in, and in
// our epoch; before our first chunk we hold no epoch, so we ask in the one the holder's map is of.
void Swarm::request_chunk(Peer& holder, std::uint64_t seq, std::uint16_t fragments, Time now) {
  ++stats_.requests_sent;
  ++holder.unanswered_requests;
  note_asked(holder.endpoint, seq, now);
  const auto epoch = store_.epoch() ? our_epoch_tag() : holder.have_epoch;
  send(holder.endpoint, wire::Request{epoch, seq, fragments});
}

}  // namespace p2plive
