// Membership: who a node talks to and what it believes of them. Sessions opening and closing, hellos and
// welcomes (the subscriptions they carry), peer lists, goodbyes, reports of withholding, and peers that
// time out. (Inputs and outputs are in swarm.cpp, the trees in distribution/swarm_trees.cpp.)
#include <algorithm>

#include "protocol/swarm.hpp"

namespace p2plive {

void Swarm::take_session_events(Time now) {
  while (auto e = session_.poll_event()) {
    if (const auto* opened = std::get_if<session::Opened>(&*e)) {
      // Nobody we never sent to gets through a NAT that lets in only replies: one that did proves that
      // strangers reach us.
      const Peer* known = peers_.find(opened->peer);
      if (opened->inbound && (!known || (known->last_probe < Time{0} && !known->bootstrap)))
        reachable_ = true;
      Peer* p = peers_.upsert(opened->peer);
      if (!p) continue;
      p->proven_root = opened->proven;
      if (opened->proven) p->role = wire::Role::broadcaster;
      if (opened->rtt && *opened->rtt >= Time{0} && *opened->rtt < 10s) p->note_rtt(*opened->rtt);
      if (now - p->introduced_at <= config_.membership.introduction_window) ++stats_.introduced_sessions;
      if (!opened->proven) ++sessions_with_viewers_;
      // A session opened anew with a peer we knew (it restarted, and lost ours): say where we stand at once,
      // rather than at our next timer. Our parents there are asked to go on pushing.
      if (p->heard || p->bootstrap) {
        bool subscribed = false;
        for (std::uint8_t t = 0; t < trees_.size(); ++t) {
          if (!(p->parent_in & bit(t)) && trees_[t].pending != p->endpoint) continue;
          send(p->endpoint, hello(true, t, subscribe_from(t)));
          subscribed = true;
        }
        if (!subscribed && !is_broadcaster()) send(p->endpoint, hello(false, wire::no_substream));
      }
      continue;
    }
    const auto& closed = std::get<session::Closed>(*e);
    if (closed.self) {
      forget_peer(closed.peer, now);
      peers_.ban(closed.peer, now + 24h * 365, now);  // only we can have made that handshake
    } else if (peers_.find(closed.peer)) {
      forget_peer(closed.peer, now);  // gone, or never there (a handshake nobody answered)
    }
  }
  flush_session();
}

void Swarm::on(const Endpoint& from, Peer& peer, const wire::Hello& m, Time now) {
  // Only the session's proof makes a peer the broadcaster; a hello's word for it counts for nothing.
  peer.role = peer.proven_root ? wire::Role::broadcaster : (m.role == wire::Role::broadcaster ? wire::Role::viewer : m.role);
  peer.tree.home = m.home;
  peer.needs_reachable = m.needs_reachable;
  peer.reachable = m.reachable;
  if (m.time_us != 0) peer.delay.sample(m.time_us, received_at_);
  bool accepted = false;
  bool new_child = false;
  if (m.substream < trees_.size()) {
    const auto b = bit(m.substream);
    const bool was_child = peer.child_in & b;
    if (m.subscribe) accepted = was_child || take_child(peer, m.substream);
    if (accepted) peer.last_subscribed = now;
    if (accepted) peer.child_in |= b;
    else peer.child_in &= static_cast<std::uint16_t>(~b);  // a plain hello there: it left us for another parent
    new_child = accepted && !was_child;
    // A newcomer has had no time to gather children: it is not idle until the grace has passed.
    if (new_child) peer.childless_since = now;
  }
  // A keepalive needs no peer list; a probe or a new subscription does, and a buffer map too, so that a
  // newcomer can fetch its join point from us at once.
  const bool keepalive = m.subscribe && !new_child;
  // The broadcaster's upload is the swarm's scarcest: it answers probes from strangers out of a budget,
  // with fewer peers listed as the budget runs low, and a flash crowd beyond it learns its peers from
  // trackers and each other instead.
  std::size_t peers_listed = config_.membership.peers_per_message;
  if (is_broadcaster() && m.substream >= trees_.size() && !peer.child_in) {
    const double bare = static_cast<double>(probe_answer_bytes(0));
    const double affordable = (root_reply_tokens_ - bare) / static_cast<double>(wire::endpoint_size);
    if (affordable < static_cast<double>(config_.membership.min_peers_listed)) {
      ++stats_.probes_unanswered;
      return;
    }
    peers_listed = std::min(peers_listed, static_cast<std::size_t>(affordable));
    root_reply_tokens_ -= static_cast<double>(probe_answer_bytes(peers_listed));
  }
  // Only a peer we answer is one we talk to (buffer maps, repairs): one the budget left unanswered asks
  // again, and is not sent maps meanwhile.
  peer.said_hello = true;
  // A renewal we accept needs no answer: the child hears from us in maps and pushes, and times the trip
  // with its maps' acks. Only a refusal must be said (we forgot it, restarted, or made room).
  if (keepalive && accepted) return;
  auto welcome = welcome_for(from, m.substream, accepted, !keepalive);
  if (welcome.peers.size() > peers_listed) welcome.peers.resize(peers_listed);
  // A newcomer's probe: the first peers listed that are tree neighbours of ours (the quickest with room come
  // first) are told of the newcomer as it is of them, so that it can reach them even if both sit behind
  // NATs; they are its likeliest parents. Every node does this, not only the broadcaster: a list alone would
  // cost the newcomer two unanswered hellos to each filtering peer before it asks for an introduction, and
  // a flash crowd behind home routers its first seconds (simulator: 1,000 viewers, 70 % filtering, 85.4 %
  // on time, 98.0 % with this). Tree neighbours only, not any peer with room: room is a claim, and forgers
  // claiming it were introduced to newcomers. Not between peers that strangers reach anyway
  // (Hello.reachable), nor a peer we keep away from (withholding, evicted): a Sybil's claims would be all
  // newcomers meet. A bounded number a second (take_introduction_token), apart from the budget for strangers:
  // a flash crowd must not lose its peer lists to them.
  std::vector<Endpoint> introduced;
  if (!keepalive && !peer.child_in && m.substream >= trees_.size() && !peer.reachable) {
    for (const auto& e : welcome.peers) {
      if (introduced.size() >= config_.membership.introductions_per_welcome) break;
      const Peer* p = peers_.find(e);
      if (!p || p->proven_root || p->reachable || !(p->child_in | p->parent_in) || !worth_introducing(*p))
        continue;
      if (!take_introduction_token(now)) break;
      introduced.push_back(e);
    }
  }
  welcome.time_echo_us = m.time_us;
  if (m.time_us != 0) welcome.your_queue_delay_ms = queue_delay_of(peer);
  // A new child gets its substream from where it asks (its join point, or past what it holds): no gap
  // between joining, or moving here from another parent, and the first live push.
  if (new_child) {
    const auto from_seq = m.epoch == our_epoch_tag() ? m.from_seq : wire::from_join_point;
    welcome.push_from = catch_up(peer, m.substream, m.epoch, from_seq);  // queued behind the welcome
    send(from, std::move(welcome));
  } else {
    send(from, std::move(welcome));
  }
  if (!keepalive && !store_.empty()) send(from, have());
  for (const auto& e : introduced) introduce(from, e);
}

void Swarm::on(const Endpoint& from, Peer& peer, const wire::Welcome& m, Time now) {
  peer.welcomed = true;
  note_tree(peer, m.tree, now);
  // Only an answer to a hello we sent times the round trip, or tells us of our uplink.
  if (peer.sent_stamp(m.time_echo_us)) {
    const auto rtt = Time{static_cast<std::int32_t>(clock32(received_at_) - m.time_echo_us)};
    if (rtt >= Time{0} && rtt < 10s) peer.note_rtt(rtt);
    note_our_queue_delay(peer, m.your_queue_delay_ms, now);
  }
  learn(m.peers, &from);
  note_observed(from, m.your_address);
  if (is_broadcaster()) return;
  if (peer.proven_root) small_swarm_ = m.few_peers;
  note_epoch_claim(peer, m.epoch, m.latest_join_seq, m.has_chunks, now);
  const bool same_epoch = !store_.epoch() || m.epoch == our_epoch_tag();
  // Join at the newest keyframe: repair starts fetching it now, whether or not this peer takes us.
  if (!want_from_ && m.has_chunks && same_epoch) {
    want_from_ = m.latest_join_seq;
    want_epoch_ = m.epoch;
  }
  // Random homes leave trees short of forwarders in small swarms; the broadcaster sees who forwards where.
  if (!home_settled_ && home_ < trees_.size() && m.suggested_home < trees_.size() && child_count(home_) == 0) {
    home_ = m.suggested_home;
    home_settled_ = true;
  }
  if (m.substream >= trees_.size()) return;
  const auto s = m.substream;
  const auto b = bit(s);
  Tree& tree = trees_[s];
  const bool was_pending = tree.pending == from;
  if (was_pending) tree.pending.reset();
  if (!m.accepted) {
    if (was_pending) {
      tree.switching = false;
      // A broadcaster with few viewers refused because a slot is still held by one that has just
      // vanished (it is given up on within unreachable_silence): ask again as soon as that is over.
      const bool small_root = peer.proven_root && m.few_peers;
      peer.full_since = now;
      peer.full_until =
          now + (small_root ? config_.trees.small_swarm_refused_retry : config_.trees.refused_retry);
    }
    if (peer.parent_in & b) drop_parent(s, now);  // it forgot us (restarted, timed us out, or made room)
    return;
  }
  if (was_pending && closes_loop(s, m.tree)) {
    tree.switching = false;
    peer.retry_after = now + config_.trees.refused_retry;
    send(from, hello(false, s));  // release the slot it gave us
    return;
  }
  if (tree.parent && *tree.parent != from) {
    if (!(was_pending && tree.switching)) {
      send(from, hello(false, s));  // we found a parent meanwhile: release this one
      return;
    }
    // Moving to a faster parent: take the new one, then release the old one.
    if (auto* old = peers_.find(*tree.parent)) {
      old->parent_in &= static_cast<std::uint16_t>(~b);
      send(old->endpoint, hello(false, s));
    }
    tree.parent.reset();
  }
  if (was_pending) tree.switching = false;
  if (!tree.parent) {
    tree.parent = from;
    peer.parent_in |= b;
    peer.child_in &= static_cast<std::uint16_t>(~b);
    tree.last_chunk = now;
    tree.taken_at = now;
    tree.delivered = false;
    // It pushes from where we asked; what is older than its answer's push_from we fetch ourselves.
    tree.push_start = m.has_chunks && same_epoch ? std::min(m.push_from, tree.newest ? *tree.newest + 1 : m.push_from) : 0;
    tree.orphaned_since.reset();
  }
}

// In our home tree, while we have children there, a parent must be closer to the broadcaster than we are
// (or were). We chose it by its last map; its answer says where it is now. One that has since moved below
// us may be our own descendant: taking it would close a loop that no chunk enters but by repair, and that
// every node beneath it would stay in (1,000 simulated viewers: one tree in four late for 10 s).
bool Swarm::closes_loop(std::uint8_t s, const wire::TreeState& parent) const {
  if (s != home_ || child_count(s) == 0) return false;
  const auto limit = depth_to_beat(s);
  if (parent.depth == wire::unknown_depth) return true;
  return limit != wire::unknown_depth && parent.depth >= limit;
}

void Swarm::on(const Endpoint& from, Peer&, const wire::Peers& m, Time) { learn(m.peers, &from); }

// Introductions we make, asked or not: two small messages each, at most 2 x introductions_per_second.
bool Swarm::take_introduction_token(Time now) {
  const double rate = 2 * config_.membership.introductions_per_second;
  introduction_requests_ = std::min(
      rate, introduction_requests_ + rate * std::chrono::duration<double>(now - requests_refilled_).count());
  requests_refilled_ = now;
  if (introduction_requests_ < 1) return false;
  introduction_requests_ -= 1;
  return true;
}

bool Swarm::worth_introducing(const Peer& p) const { return now_ >= p.avoid_until && now_ >= p.refuse_until; }

// Rendezvous: `a` and `b` both hold sessions with us, and each is told of the other at the same moment.
void Swarm::introduce(const Endpoint& a, const Endpoint& b) {
  if (a == b || !session_.established(a) || !session_.established(b)) return;
  // Anyone reaches a reachable peer, and it anyone: they need no rendezvous.
  const Peer* pa = peers_.find(a);
  const Peer* pb = peers_.find(b);
  if (!pa || !pb || pa->reachable || pb->reachable) return;
  send(a, wire::Introduce{b});
  send(b, wire::Introduce{a});
  ++stats_.introductions_sent;
}

// The other side was told of us at the same time and says hello now too: each of our NATs sees a datagram
// leave for the other before the other's arrives, and lets that in as if it were a reply.
void Swarm::on(const Endpoint& from, Peer&, const wire::Introduce& m, Time now) {
  const Endpoint& e = m.peer;
  if (m.request) {
    const Peer* target = peers_.find(e);
    if (target && worth_introducing(*target) && take_introduction_token(now)) introduce(from, e);
    return;
  }
  ++stats_.introductions_received;
  if (e == from || e.port == 0 || e.is_unspecified() || session_.established(e) || peers_.is_banned(e, now))
    return;
  introduction_tokens_ = std::min(
      config_.membership.introductions_per_second,
      introduction_tokens_ + config_.membership.introductions_per_second *
                                 std::chrono::duration<double>(now - introductions_refilled_).count());
  introductions_refilled_ = now;
  Peer* p = introduction_tokens_ >= 1 ? peers_.upsert(e) : nullptr;
  // Being introduced over and over to one peer, by several peers at once, is one handshake.
  if (!p || now - p->introduced_at < config_.session.handshake_retry * 7) {
    ++stats_.introductions_dropped;
    return;
  }
  introduction_tokens_ -= 1;
  ++stats_.introductions_followed;
  p->introduced_at = now;
  p->last_probe = now;
  send(e, hello(false, wire::no_substream));
}

// Behind a NAT that only reachable peers get through. Peers that see us at one address with a port each
// say so. Otherwise no viewer has ever reached us, though introductions to viewers failed, or our hellos to
// viewers have gone unanswered for a while: with the broadcaster as our only peer there are no votes (one
// voter is no vote), and often too few introductions to count. One unanswered hello says nothing: behind
// any NAT that lets in only replies it would fail.
bool Swarm::needs_reachable() const {
  if (observed().symmetric) return true;
  if (sessions_with_viewers_ != 0) return false;
  return stats_.introductions_followed >= config_.membership.failures_before_unreachable ||
         (first_viewer_probe_ && now_ - *first_viewer_probe_ >= config_.membership.unreached_after);
}

// What a peer says it sees of us, one vote per peer (the latest), from the last few peers that answered.
void Swarm::note_observed(const Endpoint& voter, const Endpoint& seen) {
  if (seen.port == 0 || seen.is_unspecified()) return;
  auto it = std::find_if(observed_.begin(), observed_.end(), [&](const auto& v) { return v.first == voter; });
  if (it != observed_.end()) {
    it->second = seen;
    return;
  }
  if (observed_.size() >= 8) observed_.erase(observed_.begin());
  observed_.emplace_back(voter, seen);
}

// The endpoint most voters agree on (two at least). One address seen with a different port by each voter
// is a NAT that maps a port per destination: nobody we were introduced to would find us at any of them.
Swarm::Observed Swarm::observed() const {
  Observed o;
  for (const auto& [voter, seen] : observed_) {
    std::size_t same = 0, same_address = 0;
    for (const auto& [v, s] : observed_) {
      same += s == seen;
      same_address += s.address == seen.address;
    }
    if (same > o.votes) {
      o.votes = same;
      if (same >= 2) o.address = seen;
    }
    if (same == 1 && same_address >= 2) o.symmetric = true;
  }
  if (o.address) o.symmetric = false;
  return o;
}

void Swarm::on(const Endpoint& from, Peer&, const wire::Bye&, Time now) { forget_peer(from, now); }

// The broadcaster drops a child that several peers saw withhold: a single report could be a lie. Each
// reporter is a session of its own, so one peer cannot pose as several.
void Swarm::on(const Endpoint& from, Peer&, const wire::Report& m, Time now) {
  if (!is_broadcaster() || m.substream >= trees_.size()) return;
  // Reporters only name a parent that says it is one hop below us in that tree and forwards there. One
  // that says so in a tree where it is not our child lies (a Sybil accepts children in every tree): the
  // report counts wherever it is our child.
  // A child that one report displaced lately (take_child) is still on trial: a second reporter evicts it.
  Peer* accused = peers_.find(m.accused);
  if (!accused || (!accused->child_in && !(accused->displaced && now < accused->refuse_until))) return;
  auto& r = accused->reporters;
  std::erase_if(
      r, [&](const auto& e) { return e.first == from || now - e.second > config_.membership.report_window; });
  if (r.size() >= 8) r.erase(r.begin());
  r.emplace_back(from, now);
  if (r.size() >= config_.membership.reports_to_evict) evict_child(*accused, m.substream, now);
}

// Our bootstrap peers are the broadcaster: the one that can drop a child of its own that fails us.
void Swarm::report_to_broadcaster(std::uint8_t substream, const Endpoint& accused) {
  for (const auto& b : config_.bootstrap) send(b, wire::Report{substream, accused});
}

// The broadcaster, once a session with it has proved it (its handshake was signed by the stream key).
Peer* Swarm::broadcaster_peer() {
  Peer* root = nullptr;
  peers_.for_each([&](Peer& p) {
    if (!root && p.proven_root && p.heard) root = &p;
  });
  return root;
}

void Swarm::evict_child(Peer& child, std::uint8_t substream, Time now) {
  child.reporters.clear();
  child.displaced = false;
  ++stats_.withholders_evicted;
  child.child_in = 0;
  child.refuse_until = now + config_.membership.withholder_refusal;
  send(child.endpoint, welcome_for(child.endpoint, substream, false, false));
}

// A viewer forwards in its home tree only, so room in any other is a lie, told in the liar's own session
// (a Sybil's bait: it would starve every tree of ours at once). We keep away from the liar. If it is our
// child, it is gone; if it says it is the broadcaster's, the broadcaster is told.
void Swarm::note_tree(Peer& peer, wire::TreeState state, Time now) {
  if (state.depth == 0 && !peer.proven_root) state.depth = wire::unknown_depth;
  peer.note_tree(state, now);
  if (peer.proven_root) return;
  const std::uint16_t home = state.home < trees_.size() ? bit(state.home) : 0;
  if (((state.room | state.forwarder_room) & ~home) == 0) return;
  const bool known_liar = now < peer.avoid_until;
  peer.avoid_until = std::max(peer.avoid_until, now + config_.trees.silent_parent_penalty);
  const auto s = static_cast<std::uint8_t>(state.home < trees_.size() ? state.home : 0);
  if (is_broadcaster()) {
    if (peer.child_in) evict_child(peer, s, now);
  } else if (state.depth == 1 && !known_liar) {
    report_to_broadcaster(s, peer.endpoint);
  }
}

void Swarm::learn(const std::vector<Endpoint>& endpoints, const Endpoint* from) {
  for (const auto& e : endpoints) {
    if (e.port == 0 || e.is_unspecified()) continue;
    Peer* p = peers_.upsert(e);
    if (p && from && !p->heard) p->learned_from = *from;
  }
}

// Our first hello to a peer we only heard of would die at its NAT if it lets in only replies: the peer
// that told us of it is asked to introduce us, so that it says hello to us at the same time (BEP 55's
// rendezvous, asked for by the one who wants to connect).
void Swarm::ask_introduction(Peer& p) {
  if (!p.learned_from || p.heard || !session_.established(*p.learned_from)) return;
  ++stats_.introductions_asked;
  send(*p.learned_from, wire::Introduce{p.endpoint, true});
}

void Swarm::expire_peers(Time now) {
  std::vector<Endpoint> gone;
  peers_.for_each([&](Peer& p) {
    // A child that stopped renewing its subscriptions left without a word: its slots go to others.
    if (p.child_in && now - p.last_subscribed > 3 * config_.membership.hello_interval) p.child_in = 0;
    if (p.heard && now - p.last_heard > config_.membership.peer_timeout) gone.push_back(p.endpoint);
  });
  for (const auto& e : gone) forget_peer(e, now);
}

}  // namespace p2plive
