// The substream trees: choosing parents by how soon chunks would reach us through them, keeping and
// replacing them, taking children, and balancing homes across the trees.
#include <algorithm>
#include <bit>

#include "protocol/swarm.hpp"

namespace p2plive {
namespace {

constexpr Time reported_penalty = 100ms;        // per recent reporter, in rank()
constexpr Time weak_forwarder_penalty = 200ms;  // for a peer that cannot fan out (cannot_fan_out)

std::uint16_t to_ms(Time t) {
  return static_cast<std::uint16_t>(std::clamp<std::int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(t).count(), 0,
                                                             wire::unknown_latency - 1));
}

}  // namespace

void Swarm::maintain_parents(Time now) {
  const bool hello_due = now - last_hello_ >= config_.membership.hello_interval;
  const bool optimize_due = now - last_optimize_ >= config_.trees.optimize_interval;
  if (hello_due) last_hello_ = now;
  if (optimize_due) last_optimize_ = now;
  // Faster-parent checks take one tree at a time, so a node does not reshuffle all its parents at once.
  const auto optimized = next_optimized_ % trees_.size();
  if (optimize_due) ++next_optimized_;
  for (std::size_t s = 0; s < trees_.size(); ++s)
    maintain_tree(static_cast<std::uint8_t>(s), now, hello_due, optimize_due && s == optimized);
  probe_for_parents(now);
  if (hello_due) rehome(now);
}

void Swarm::maintain_tree(std::uint8_t s, Time now, bool hello_due, bool optimize_due) {
  Tree& tree = trees_[s];
  // A silent parent that lists newer chunks of this substream than we hold is withholding them: it is
  // dropped and avoided for a while. One that lacks them too is starved by its own parent and will most
  // likely recover, so it gets longer before we leave it; its whole subtree moving would be worse.
  Peer* p = tree.parent ? peers_.find(*tree.parent) : nullptr;
  // One hop below the broadcaster a parent has no excuse: its chunks come straight from the root. Once the
  // broadcaster's own map has listed chunks, such a parent is judged from when it took us, not from our
  // first chunk (a Sybil's bait would otherwise hold a newcomer until its first chunk came from elsewhere,
  // and 750 ms more).
  const bool judged_from_taking = p && p->tree.depth == 1 && root_live_since_;
  const bool stream_seen = stream_last_seen_ >= Time{0};
  if (p && (stream_seen || judged_from_taking)) {
    // (Before our first chunk, only the rule for a parent that never delivered applies.)
    const auto silence = stream_seen ? now - std::max(tree.last_chunk, stream_started_at_) : Time{0};
    // Behind in this substream: we lack its recent chunks (a parent whose pushes only lost the race to
    // repairs delivers nothing new, and is not to blame).
    const bool behind = !tree.newest || newest_seen_ > *tree.newest + 2 * trees_.size();
    // A parent that has not completed one chunk since we took it, while the stream went on without it, has
    // shown nothing but its claims (a Sybil's welcome offers the best place in the tree): it gets no more
    // time than a withholder, and is avoided as long.
    const bool never_delivered = !tree.delivered && behind &&
                                 (judged_from_taking ? now - std::max(tree.taken_at, *root_live_since_)
                                                     : silence) > config_.trees.parent_silence_timeout;
    const bool withholding =
        never_delivered || (silence > config_.trees.parent_silence_timeout && lists_newer(*p, s));
    if (withholding) p->avoid_until = now + config_.trees.silent_parent_penalty;
    // A parent that has said nothing at all for a while (no map, no answer) is gone, not starved.
    const bool gone = now - p->last_heard > config_.trees.child_silence;
    if (gone) lost_sight_of(*p);
    const bool starving = silence > 2 * config_.trees.parent_silence_timeout;
    // It delivered, then stopped. Starved or lying, it is not asked again soon, and each time longer.
    const bool useless = starving && behind && !withholding && !gone;
    if (useless)
      p->avoid_until =
          now + config_.trees.starved_parent_penalty * (1 << std::min<std::uint32_t>(p->times_starved++, 4));
    // One hop below the broadcaster little starves a parent but the broadcaster's own uplink, and nobody
    // else can route around it: the broadcaster is told, and weighs what several viewers say.
    const bool reported = (withholding || useless) && p->tree.depth == 1 && p->tree.home == s;
    if (reported) report_to_broadcaster(s, p->endpoint);
    if (withholding || gone || starving) drop_parent(s, now);
    // The report is our claim to the accused's slot: we ask for it at once (take_child), rather than wait
    // for a second reporter to evict it while the whole tree starves.
    if (reported && !tree.pending)
      if (Peer* b = broadcaster_peer(); b && !((b->child_in | b->parent_in) & bit(s))) subscribe(s, *b, now);
  }
  if (tree.pending && now - tree.pending_since > config_.trees.subscribe_timeout) {
    if (auto* pending = peers_.find(*tree.pending))
      pending->retry_after = now + 3 * config_.membership.hello_interval;
    tree.pending.reset();
    tree.switching = false;
  }
  if (tree.parent) {
    tree.last_depth = s == home_ ? my_depth() : wire::unknown_depth;
    // Subscribing again is the keepalive: it tells the parent we still want the stream (an accepted one
    // gets no answer; our maps' acks time the round trip).
    if (hello_due) send(*tree.parent, hello(true, s));
    if (tree.pending) return;
    if (tree.trial || optimize_due) optimize_parent(s, now);
    return;
  }
  if (tree.pending) return;
  // Children here and no parent: a new parent must be closer to the broadcaster than we were, so that it
  // cannot be one of our own descendants. If none turns up, the children are better off elsewhere.
  if (tree.orphaned_since && now - *tree.orphaned_since > config_.trees.rehome_after && child_count(s) > 0) {
    release_children(s);
    tree.last_depth = wire::unknown_depth;
  }
  if (Peer* best = best_parent_candidate(s, now)) {
    subscribe(s, *best, now);
  } else if (!tree.orphaned_since) {
    tree.orphaned_since = now;
  }
}

// Hellos to peers whose place in the trees we do not know, or whose round trip we have not timed: a few a
// second, more while some tree still lacks a parent. Bootstrap peers are among them until they answer.
void Swarm::probe_for_parents(Time now) {
  const bool orphaned = std::any_of(trees_.begin(), trees_.end(), [](const Tree& t) { return !t.parent && !t.pending; });
  // Bootstrap peers that do not answer (down, or a broadcaster whose answer budget is spent) are asked
  // again at growing intervals, up to bootstrap_backoff_max.
  if (orphaned)
    for (const auto& b : config_.bootstrap) {
      // Until it has answered us, a bootstrap peer is asked again, whatever else it sends (a broadcaster
      // whose budget for strangers is spent may still have our address among those it sends maps to).
      Peer* p = peers_.find(b);
      if (!p || (p->heard && p->welcomed)) continue;
      const auto doublings = std::min(p->unanswered_probes, 9u) - (p->unanswered_probes > 0 ? 1u : 0u);
      const auto backoff = std::min(config_.membership.bootstrap_backoff_max,
                                    config_.membership.hello_interval * (1 << doublings));
      if (p->unanswered_probes > 0 && now - p->last_probe < backoff) continue;
      p->last_probe = now;
      ++p->unanswered_probes;
      send(b, hello(false, wire::no_substream));
    }
  if (now - probe_second_ >= 1s) {
    probe_second_ = now;
    probes_this_second_ = 0;
  }
  const std::size_t budget = orphaned ? config_.membership.max_probes_per_second : 1;
  if (probes_this_second_ >= budget) return;
  std::vector<Endpoint> unknown;
  // Too few map sources worth hearing (takes_maps_from): a hello asks a candidate for its maps again, at
  // most every 5 s. Not the broadcaster: its upload is the swarm's scarcest, and it is a parent anyway.
  const bool short_of_sources = useful_map_sources(now) < config_.repair.map_sources;
  peers_.for_each([&](Peer& p) {
    if (p.child_in || p.parent_in || (p.bootstrap && !p.heard) ||
        now - p.last_probe < config_.membership.hello_interval)
      return;
    if (short_of_sources && p.heard && !p.proven_root && now - p.last_probe >= 5s && !is_map_source(p, now) &&
        worth_hearing(p, now)) {
      unknown.push_back(p.endpoint);
      return;
    }
    const bool unplaced =
        p.tree.depth == wire::unknown_depth && now - p.tree_heard > config_.membership.hello_interval;
    const bool untimed = !p.srtt && (p.tree.room | p.tree.forwarder_room) != 0 && now - p.last_probe >= 5s;
    // Without a parent somewhere, what forwarders said of their room a while ago is not worth waiting on.
    const bool stale = orphaned && p.tree.home != wire::no_substream &&
                       now - p.tree_heard > config_.membership.hello_interval;
    if (unplaced || untimed || stale) unknown.push_back(p.endpoint);
  });
  std::sort(unknown.begin(), unknown.end());
  std::shuffle(unknown.begin(), unknown.end(), rng_);
  for (std::size_t i = 0; i < unknown.size() && probes_this_second_ < budget; ++i, ++probes_this_second_) {
    Peer* p = peers_.find(unknown[i]);
    p->last_probe = now;
    // An address we learned from others and that never answers is forgotten after a few tries: peer
    // lists must not become a way to aim every node's hellos at a victim. One we heard from that has
    // fallen silent and ignores two probes has most likely gone.
    const auto tries = p->heard ? 2u : config_.membership.max_unanswered_probes;
    if (!p->bootstrap && ++p->unanswered_probes > tries) {
      forget_peer(unknown[i], now);
      continue;
    }
    send(unknown[i], hello(false, wire::no_substream));
    if (!p->heard && !p->bootstrap && !first_viewer_probe_) first_viewer_probe_ = now;
    // Unanswered once, it most likely sits behind a NAT: whoever told us of it is asked to introduce us.
    // (Asking at the first hello cost a 500-viewer flash crowd its worst viewer: 93 % of chunks, not 98.)
    if (!p->heard && p->unanswered_probes == 2) ask_introduction(*p);
  }
}

void Swarm::drop_parent(std::uint8_t s, Time now) {
  Tree& tree = trees_[s];
  if (!tree.parent) return;
  if (s == home_) tree.last_depth = my_depth();
  if (auto* p = peers_.find(*tree.parent)) {
    p->parent_in &= static_cast<std::uint16_t>(~bit(s));
    p->retry_after = now + config_.membership.hello_interval;  // don't pick it again at once
    send(p->endpoint, hello(false, s));              // and free the slot we held there
  }
  tree.parent.reset();
  tree.orphaned_since = now;
}

void Swarm::drop_parent_everywhere(const Peer& peer, Time now) {
  for (std::size_t s = 0; s < trees_.size(); ++s)
    if (peer.parent_in & bit(static_cast<std::uint8_t>(s))) drop_parent(static_cast<std::uint8_t>(s), now);
}

void Swarm::release_child(Peer& child, std::uint8_t s) {
  child.child_in &= static_cast<std::uint16_t>(~bit(s));
  send(child.endpoint, welcome_for(child.endpoint, s, false, false));
}

void Swarm::release_children(std::uint8_t s) {
  peers_.for_each([&](Peer& p) {
    if (p.child_in & bit(s)) release_child(p, s);
  });
}

// Our uplink cannot carry the children we have: release one and take no more for a while. A leaf goes
// first (it has other parents to choose from and nobody below it), from the tree with the most children.
void Swarm::shed_child(Time now) {
  Peer* victim = nullptr;
  std::uint8_t victim_tree = 0;
  peers_.for_each([&](Peer& p) {
    for (std::size_t s = 0; s < trees_.size(); ++s) {
      const auto sub = static_cast<std::uint8_t>(s);
      if (!(p.child_in & bit(sub))) continue;
      const bool leaf = p.tree.home != sub;
      const bool victim_leaf = victim && victim->tree.home != victim_tree;
      if (!victim || (leaf && !victim_leaf) ||
          (leaf == victim_leaf && (child_count(sub) > child_count(victim_tree) ||
                                   (child_count(sub) == child_count(victim_tree) && rank(p) > rank(*victim))))) {
        victim = &p;
        victim_tree = sub;
      }
    }
  });
  if (!victim) return;
  release_child(*victim, victim_tree);
  slots_ = std::min(slots_, total_children());
  slots_limited_until_ = now + config_.trees.shed_hold;
  ++stats_.children_shed;
}

std::size_t Swarm::total_children() const {
  std::size_t n = 0;
  peers_.for_each([&](const Peer& p) { n += static_cast<std::size_t>(std::popcount(p.child_in)); });
  return n;
}

// The last forwarder of a tree may leave, and in a small swarm nobody else has that home: the tree's
// viewers then have nobody to subscribe to. A forwarder that has seen such a tree orphaned for a while,
// has heard from nobody who forwards there lately, and is not its own tree's only forwarder, moves its
// home there. Each check goes ahead with probability 1/3, so that not every candidate moves at once.
void Swarm::rehome(Time now) {
  if (home_ >= trees_.size() || rng_() % 3 != 0) return;
  std::vector<std::uint32_t> forwarders(trees_.size(), 0);
  peers_.for_each([&](const Peer& p) {
    if (p.heard && now - p.last_heard <= 2 * config_.membership.hello_interval && p.tree.home < trees_.size())
      ++forwarders[p.tree.home];
  });
  if (forwarders[home_] == 0) return;
  for (std::size_t s = 0; s < trees_.size(); ++s) {
    const auto& since = trees_[s].orphaned_since;
    if (s == home_ || forwarders[s] > 0 || !since || now - *since < config_.trees.rehome_after) continue;
    release_children(home_);
    home_ = static_cast<std::uint8_t>(s);
    return;
  }
}

// Slots near the root are the swarm's scarcest. A full node makes room for a peer that forwards in this
// tree by releasing a child that does not (or an idle one), or else its worst-ranked forwarding child if
// the newcomer ranks clearly better: over time the fastest, strongest forwarders rise to the top of each
// tree, and the trees stay shallow and quick. The released child finds a parent further down.
bool Swarm::take_child(Peer& peer, std::uint8_t s) {
  if (!forwards_in(s) || (peer.parent_in & bit(s)) || now_ < peer.refuse_until) return false;
  if (has_room(s)) {
    // The room may be a silent child's slot: it has most likely left, and the newcomer takes its place.
    if (child_count(s) >= tree_slots(s)) {
      Peer* silent = nullptr;
      peers_.for_each([&](Peer& p) {
        if ((p.child_in & bit(s)) && !is_active_child(p, s) && (!silent || p.last_heard < silent->last_heard)) silent = &p;
      });
      if (silent) release_child(*silent, s);
    }
    return true;
  }
  // A peer behind a NAT that maps a new port per destination can only ever have a reachable parent (the
  // broadcaster, an open viewer): it takes the place of a child that can find another, a leaf first. Up
  // to all slots but one: a tree whose slots all go to such peers has no forwarder left for the rest.
  std::size_t needy = 0;
  if (peer.needs_reachable)
    peers_.for_each([&](const Peer& p) { needy += (p.child_in & bit(s)) && p.needs_reachable; });
  if (peer.needs_reachable && needy + 1 < tree_slots(s)) {
    Peer* movable = nullptr;
    peers_.for_each([&](Peer& p) {
      if (!(p.child_in & bit(s)) || p.needs_reachable) return;
      const bool leaf = p.tree.home != s, movable_leaf = movable && movable->tree.home != s;
      if (!movable || (leaf && !movable_leaf) || (leaf == movable_leaf && rank(p) > rank(*movable)))
        movable = &p;
    });
    if (movable) {
      release_child(*movable, s);
      return true;
    }
  }
  // A peer that reported one of our children here as withholding takes that child's slot. One report
  // could be a lie, so the accused is only released for a while (it finds a parent further down, and two
  // reporters evict it): a liar gains a slot it will lose the same way, an honest reporter its stream.
  if (Peer* accused = reported_by(peer, s)) {
    release_child(*accused, s);
    accused->refuse_until = std::max(accused->refuse_until, now_ + config_.membership.reported_refusal);
    accused->displaced = true;
    return true;
  }
  if (peer.tree.home != s) return false;
  auto victim = leaf_child(s);
  if (!victim) {
    const Peer* worst = worst_forwarder(s);
    if (worst && rank(peer) + config_.trees.displace_margin < rank(*worst)) victim = worst->endpoint;
  }
  Peer* released = victim ? peers_.find(*victim) : nullptr;
  if (!released) return false;
  release_child(*released, s);
  return true;
}

// Our child in this tree that `reporter` reported lately, if any.
Peer* Swarm::reported_by(const Peer& reporter, std::uint8_t s) {
  Peer* accused = nullptr;
  peers_.for_each([&](Peer& p) {
    if (accused || !(p.child_in & bit(s))) return;
    for (const auto& [from, at] : p.reporters)
      if (from == reporter.endpoint && now_ - at <= config_.membership.report_window) accused = &p;
  });
  return accused;
}

// How well a forwarding child serves its subtree from here, lower is better: half the round trip to it,
// as we measured it (handshake, maps and their acks), and a penalty for each peer that reported it
// withholding lately. What a child says of itself (its capacity, its round trip) is a claim anyone can
// make, and ranks nothing. One report could be a lie: it only lets a newcomer displace the child.
Time Swarm::rank(const Peer& child) const {
  Time r = child.srtt.value_or(config_.trees.unknown_rtt) / 2;
  for (const auto& report : child.reporters)
    if (now_ - report.second <= config_.membership.report_window) r += reported_penalty;
  if (cannot_fan_out(child)) r += weak_forwarder_penalty;
  return r;
}

// A peer that says it is full with fewer than two children in its home tree cannot fan out there: a
// child whose uplink is below what a tree needs (or that shed), below which the tree is a chain, or a
// subscriber that is not placed yet, or whose maps we do not get (a Hello tells only its home): it has
// shown nothing. A claim against oneself is safe to believe. So a newcomer displaces only a child that
// cannot fan out either, never a sound forwarder for a quicker round trip. In a 1,000-viewer flash crowd
// (simulator, seed 12) forwarders lost their places near the root that way and ~990 viewers of one tree
// hung below forwarders without a parent for 10 s; with this rule, 126 at second 5 and none by second 12.
bool Swarm::cannot_fan_out(const Peer& peer) const {
  const auto home = peer.tree.home;
  return home < trees_.size() && !(peer.tree.room & bit(home)) && peer.tree.children < 2;
}

// The forwarding child in this tree with the worst rank.
const Peer* Swarm::worst_forwarder(std::uint8_t s) const {
  const Peer* worst = nullptr;
  peers_.for_each([&](const Peer& p) {
    if (!(p.child_in & bit(s)) || p.tree.home != s || p.needs_reachable) return;
    if (!worst || rank(p) > rank(*worst) || (rank(p) == rank(*worst) && p.endpoint < worst->endpoint))
      worst = &p;
  });
  return worst;
}

// While we have children in our home tree, a new parent there must be closer to the broadcaster than this
// (our depth now, or when we last had a parent): a descendant of ours would make a cycle.
std::uint8_t Swarm::depth_to_beat(std::uint8_t s) const {
  return trees_[s].parent ? my_depth() : trees_[s].last_depth;
}

// Our depth in our home tree: what decides whether we make a good parent there.
std::uint8_t Swarm::my_depth() const {
  if (is_broadcaster()) return 0;
  if (home_ >= trees_.size() || !trees_[home_].parent) return wire::unknown_depth;
  const Peer* parent = peers_.find(*trees_[home_].parent);
  if (!parent || parent->tree.depth >= wire::unknown_depth - 1) return wire::unknown_depth;
  return static_cast<std::uint8_t>(parent->tree.depth + 1);
}

// How long after the broadcaster has a chunk of our home tree our children typically start getting it
// from us: our parent's figure, the hop to us, and our own measured forwarding wait.
std::uint16_t Swarm::my_latency_ms() const {
  if (is_broadcaster()) return to_ms(forward_wait_);
  if (home_ >= trees_.size() || !trees_[home_].parent) return wire::unknown_latency;
  const Peer* parent = peers_.find(*trees_[home_].parent);
  if (!parent) return wire::unknown_latency;
  const auto arrival = arrival_via(*parent, home_);
  return arrival ? to_ms(*arrival + forward_wait_) : wire::unknown_latency;
}

bool Swarm::forwards_in(std::uint8_t s) const {
  if (is_broadcaster()) return true;
  return s == home_ && my_depth() != wire::unknown_depth;
}

std::size_t Swarm::child_count(std::uint8_t s) const {
  std::size_t n = 0;
  peers_.for_each([&](const Peer& p) { n += (p.child_in & bit(s)) ? 1 : 0; });
  return n;
}

// A viewer's slots are all in its home tree; the broadcaster spreads its slots evenly over the trees. After
// shedding a child for want of uplink, a node takes no new ones until shed_hold has passed.
bool Swarm::has_room(std::uint8_t s) const {
  if (!forwards_in(s)) return false;
  std::size_t active = 0;  // a child that fell silent holds no slot against a newcomer
  peers_.for_each([&](const Peer& p) { active += is_active_child(p, s) ? 1 : 0; });
  // The broadcaster keeps one child in every tree, whatever it shed: a tree without one reaches nobody
  // but by repair, which costs its uplink more than the child would (a withholder evicted after a shed
  // left a tree so for the whole shed_hold).
  if (now_ < slots_limited_until_ && total_children() >= slots_ && (!is_broadcaster() || active > 0))
    return false;
  return active < tree_slots(s);
}

std::size_t Swarm::tree_slots(std::uint8_t s) const {
  if (!is_broadcaster()) return config_.trees.max_children;
  const auto k = trees_.size();
  return config_.trees.max_children / k + (s < config_.trees.max_children % k ? 1 : 0);
}

std::uint16_t Swarm::room() const {
  std::uint16_t r = 0;
  for (std::size_t s = 0; s < trees_.size(); ++s)
    if (has_room(static_cast<std::uint8_t>(s))) r |= bit(static_cast<std::uint8_t>(s));
  return r;
}

// Room for a forwarder: a free slot, or a child that does not forward here and would make way.
std::uint16_t Swarm::forwarder_room() const {
  std::uint16_t r = room();
  for (std::size_t s = 0; s < trees_.size(); ++s) {
    const auto sub = static_cast<std::uint8_t>(s);
    if (forwards_in(sub) && leaf_child(sub)) r |= bit(sub);
  }
  return r;
}

// The child we would release first for a forwarder: one that does not forward in this tree, or else one
// that could but has had no children of its own for a while (idle, or taking without giving).
std::optional<Endpoint> Swarm::leaf_child(std::uint8_t s) const {
  std::optional<Endpoint> leaf, idle;
  peers_.for_each([&](const Peer& p) {
    // A child only a reachable parent can serve is never moved for another: it has nowhere else to go.
    if (!(p.child_in & bit(s)) || p.needs_reachable) return;
    if (p.tree.home != s) {
      if (!leaf || p.endpoint < *leaf) leaf = p.endpoint;
    } else if (p.tree.children == 0 && now_ - p.childless_since >= config_.trees.idle_forwarder_grace) {
      if (!idle || p.endpoint < *idle) idle = p.endpoint;
    }
  });
  return leaf ? leaf : idle;
}

// The tree with the fewest forwarders the broadcaster knows of, counting its recent suggestions too so that
// a flash crowd is spread rather than sent to one tree.
std::uint8_t Swarm::suggest_home(Time now) {
  if (suggested_.size() != trees_.size() ||
      now - suggestions_reset_ > 2 * config_.membership.hello_interval) {
    suggested_.assign(trees_.size(), 0);
    suggestions_reset_ = now;
  }
  std::vector<std::uint32_t> load = suggested_;
  peers_.for_each([&](const Peer& p) {
    if (p.heard && p.tree.home < load.size()) ++load[p.tree.home];
  });
  const auto best = static_cast<std::uint8_t>(std::min_element(load.begin(), load.end()) - load.begin());
  ++suggested_[best];
  return best;
}

// A peer that has gone silent may come back at the same address (a broadcaster restarting): a bootstrap
// peer is asked again from now on, as at the start, until it answers.
void Swarm::lost_sight_of(Peer& p) {
  if (!p.bootstrap) return;
  p.welcomed = false;
  p.unanswered_probes = 0;
  p.last_probe = Time{-3600s};
}

std::size_t Swarm::viewers_heard_lately() const {
  std::size_t viewers = 0;
  peers_.for_each([&](const Peer& p) {
    viewers += p.heard && now_ - p.last_heard <= config_.membership.recently_heard ? 1 : 0;
  });
  return viewers;
}

bool Swarm::knows_few_viewers() const { return viewers_heard_lately() < config_.repair.small_swarm_peers; }

wire::TreeState Swarm::tree_state() const {
  wire::TreeState t;
  t.home = home_;
  t.depth = my_depth();
  t.latency_ms = my_latency_ms();
  t.room = room();
  t.forwarder_room = forwarder_room();
  t.children = home_ < trees_.size() ? static_cast<std::uint8_t>(std::min<std::size_t>(255, child_count(home_))) : 0;
  // Whom a better forwarder would displace; the broadcaster reports its most contested tree.
  for (std::size_t s = 0; s < trees_.size(); ++s) {
    const auto sub = static_cast<std::uint8_t>(s);
    if (!forwards_in(sub) || has_room(sub) || leaf_child(sub)) continue;
    if (const Peer* w = worst_forwarder(sub)) t.displace_rank = std::min(t.displace_rank, to_ms(rank(*w)));
  }
  return t;
}

wire::Hello Swarm::hello(bool subscribe, std::uint8_t substream, std::uint32_t from_seq) const {
  wire::Hello h;
  h.epoch = our_epoch_tag();
  h.from_seq = from_seq;
  h.role = config_.role;
  h.subscribe = subscribe;
  h.substream = substream;
  h.home = home_;
  h.needs_reachable = needs_reachable();
  h.reachable = reachable_;
  return h;
}

wire::Welcome Swarm::welcome_for(const Endpoint& to, std::uint8_t substream, bool accepted, bool with_peers) {
  wire::Welcome w;
  w.accepted = accepted;
  w.substream = substream;
  w.tree = tree_state();
  if (is_broadcaster()) w.suggested_home = suggest_home(now_);
  w.has_chunks = !store_.empty();
  w.latest_seq = store_.latest_seq();
  w.latest_join_seq = store_.latest_join_seq().value_or(store_.latest_seq());
  w.push_from = w.has_chunks ? w.latest_seq + 1 : 0;
  w.epoch = our_epoch_tag();
  if (epoch_) w.epoch_start_us = epoch_->start_us;
  if (is_broadcaster()) w.few_peers = knows_few_viewers();
  w.your_address = to;
  if (with_peers)
    w.peers = peers_.sample_heard(config_.membership.peers_per_message, &to,
                                  now_ - config_.membership.recently_heard, rng_);
  return w;
}

}  // namespace p2plive
