#include "protocol/swarm.hpp"

#include <algorithm>
#include <bit>

namespace p2plive {
namespace {

bool is_broadcaster(const SwarmConfig& c) { return c.role == wire::Role::broadcaster; }

std::uint16_t bit(std::uint8_t substream) { return static_cast<std::uint16_t>(1u << substream); }

}  // namespace

Swarm::Swarm(SwarmConfig config)
    : config_(std::move(config)),
      tag_(wire::stream_tag(config_.stream_key)),
      rng_(config_.rng_seed),
      nonce_(static_cast<std::uint32_t>(rng_())),
      token_key_(rng_()),
      peers_(config_.max_peers),
      store_(config_.window_chunks, config_.max_partial_chunks),
      trees_(std::clamp<std::size_t>(config_.substreams, 1, wire::max_substreams)),
      send_queue_(SendQueueConfig{.upload_cap_bps = config_.upload_cap_bps, .max_datagrams = config_.max_queued_datagrams}) {
  // A random home spreads forwarders evenly over the trees; a node that forwards nothing has none.
  if (is_broadcaster(config_)) home_ = wire::every_substream;
  else if (config_.max_children == 0) home_ = wire::no_substream;
  else home_ = static_cast<std::uint8_t>(rng_() % trees_.size());
  learn(config_.bootstrap);
}

// ---- inputs -------------------------------------------------------------------------------------------

void Swarm::handle_datagram(const Endpoint& from, std::span<const std::uint8_t> datagram, Time now) {
  now_ = now;
  stats_.downloaded_bytes += datagram.size();
  if (peers_.is_banned(from, now)) return;
  auto message = wire::decode(datagram, tag_);
  if (!message) {
    ++stats_.malformed_dropped;
    return;
  }
  Peer* peer = peers_.upsert(from);
  if (!peer) return;  // table full of parents and children: nothing new fits
  peer->heard = true;
  peer->last_heard = now;
  if (!peer->verified) peer->bytes_in += datagram.size();
  std::visit([&](const auto& m) { on(from, *peer, m, now); }, *message);
}

void Swarm::on(const Endpoint& from, Peer& peer, const wire::Hello& m, Time now) {
  if (m.nonce == nonce_) {  // our own hello came back: that address is us
    peers_.ban(from, now + 24h * 365, now);
    return;
  }
  peer.said_hello = true;
  peer.role = m.role;
  peer.home = m.home;
  note_tokens(peer, from, m.token, m.echo);
  bool accepted = false;
  if (m.substream < trees_.size()) {
    const auto b = bit(m.substream);
    const bool was_child = peer.child_in & b;
    if (m.subscribe) accepted = was_child || take_child(peer, m.substream);
    if (accepted) peer.last_subscribed = now;
    if (accepted) peer.child_in |= b;
    else peer.child_in &= static_cast<std::uint16_t>(~b);  // a plain hello there: it left us for another parent
    send(from, welcome_for(from, m.nonce, m.substream, accepted));
    // A new child learns at once what we hold, so that it can fetch its join point from us.
    if (accepted && !was_child) send(from, have());
    return;
  }
  send(from, welcome_for(from, m.nonce, m.substream, accepted));
}

// Slots near the root are the swarm's scarcest: a full node makes room for a peer that forwards in this
// tree by releasing a child that does not.
bool Swarm::take_child(Peer& peer, std::uint8_t s) {
  if (!forwards_in(s) || (peer.parent_in & bit(s)) || now_ < peer.refuse_until) return false;
  if (has_room(s)) return true;
  if (peer.home != s) return false;
  const auto leaf_endpoint = leaf_child(s);
  Peer* leaf = leaf_endpoint ? peers_.find(*leaf_endpoint) : nullptr;
  if (!leaf) return false;
  leaf->child_in &= static_cast<std::uint16_t>(~bit(s));
  send(leaf->endpoint, welcome_for(leaf->endpoint, 0, s, false));  // it will find another parent
  return true;
}

void Swarm::on(const Endpoint& from, Peer& peer, const wire::Welcome& m, Time now) {
  note_tokens(peer, from, m.token, m.echo);
  peer.home = m.home;
  peer.depth = m.depth;
  peer.room = m.room;
  peer.forwarder_room = m.forwarder_room;
  peer.note_children(m.children, now);
  learn(m.peers);
  if (is_broadcaster(config_)) return;
  // Join at the newest keyframe: repair starts fetching it now, whether or not this peer takes us.
  if (!want_from_ && m.has_chunks) want_from_ = m.latest_join_seq;
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
      peer.retry_after = now + 3 * config_.hello_interval;
    }
    if (peer.parent_in & b) drop_parent(s, now);  // it forgot us (restarted, timed us out, or made room)
    return;
  }
  if (tree.parent && *tree.parent != from) {
    if (!(was_pending && tree.switching)) {
      send(from, hello(false, s));  // we found a parent meanwhile: release this one
      return;
    }
    // Moving up the tree: take the new parent, then release the old one.
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
    tree.push_start = m.has_chunks ? m.latest_seq + 1 : 0;
  }
  tree.parent_depth = m.depth;
}

void Swarm::on(const Endpoint&, Peer&, const wire::Peers& m, Time) { learn(m.peers); }

void Swarm::on(const Endpoint& from, Peer& peer, const wire::Fragment& m, Time now) {
  if (peer.parent_in & bit(substream_of(m.seq))) trees_[substream_of(m.seq)].last_chunk = now;
  peer.unanswered_requests = 0;
  Chunk chunk;
  switch (store_.add_fragment(m, now, chunk)) {
    case ChunkStore::FragmentResult::duplicate:
    case ChunkStore::FragmentResult::stale:
      ++stats_.duplicate_fragments;
      return;
    case ChunkStore::FragmentResult::stored:
      return;
    case ChunkStore::FragmentResult::completed:
      break;
  }
  // Verify before forward: nothing leaves this node, to a peer or a player, before this check.
  const bool genuine = config_.verify ? config_.verify(chunk) : verify_chunk(config_.stream_key, chunk);
  if (!genuine) {
    reject_forged(peer, now);
    return;
  }
  accept_verified(std::move(chunk), &from, now);
}

void Swarm::on(const Endpoint&, Peer& peer, const wire::Have& m, Time now) {
  peer.home = m.home;
  peer.depth = m.depth;
  peer.room = m.room;
  peer.forwarder_room = m.forwarder_room;
  peer.note_children(m.children, now);
  peer.have_base = m.base_seq;
  peer.have_bits = m.bits;
  peer.newest_have.reset();
  for (std::size_t i = m.bits.size(); i-- > 0;) {
    if (!m.bits[i]) continue;
    peer.newest_have = m.base_seq + i;
    note_newest(m.base_seq + i, now);
    break;
  }
  for (std::size_t s = 0; s < trees_.size(); ++s)
    if (peer.parent_in & bit(static_cast<std::uint8_t>(s))) trees_[s].parent_depth = m.depth;
}

void Swarm::on(const Endpoint& from, Peer& peer, const wire::Request& m, Time) {
  note_tokens(peer, from, 0, m.echo);
  // Only peers that introduced themselves get data: a spoofed source address cannot turn us into an amplifier.
  if (!peer.said_hello || !config_.answers_requests) return;
  const Chunk* chunk = store_.get(m.seq);
  if (!chunk) return;
  if (is_broadcaster(config_)) {
    // The broadcaster's upload is the swarm's bottleneck: repairs get a bounded share of it.
    const auto cost = static_cast<double>(chunk->payload.size());
    if (root_repair_tokens_ < cost) {
      ++stats_.requests_refused;
      return;
    }
    root_repair_tokens_ -= cost;
  }
  ++stats_.requests_served;
  push_chunk(*chunk, from, m.fragment_mask, SendClass::repair);
}

void Swarm::on(const Endpoint& from, Peer& peer, const wire::Bye&, Time now) {
  drop_parent_everywhere(peer, now);
  peers_.erase(from);
}

// The broadcaster drops a child that several peers saw withhold: a single report could be a lie.
void Swarm::on(const Endpoint& from, Peer& peer, const wire::Report& m, Time now) {
  if (!is_broadcaster(config_) || !peer.said_hello || m.substream >= trees_.size()) return;
  Peer* accused = peers_.find(m.accused);
  if (!accused || !(accused->child_in & bit(m.substream))) return;
  auto& r = accused->reporters;
  std::erase_if(r, [&](const auto& e) { return e.first == from || now - e.second > config_.report_window; });
  if (r.size() >= 8) r.erase(r.begin());
  r.emplace_back(from, now);
  if (r.size() < config_.reports_to_evict) return;
  r.clear();
  ++stats_.withholders_evicted;
  accused->child_in = 0;
  accused->refuse_until = now + config_.withholder_refusal;
  send(accused->endpoint, welcome_for(accused->endpoint, 0, m.substream, false));
}

void Swarm::publish(Chunk chunk, Time now) {
  now_ = now;
  ++stats_.chunks_published;
  const auto size = static_cast<double>(chunk.payload.size());
  root_repair_tokens_ = std::min(root_repair_tokens_ + size * config_.root_repair_share, 64 * size);
  accept_verified(std::move(chunk), nullptr, now);
}

void Swarm::note_newest(std::uint64_t seq, Time now) {
  if (seq < newest_seen_ && now - stream_last_seen_ < config_.parent_silence_timeout) return;
  if (stream_last_seen_ < Time{0}) stream_started_at_ = now;
  if (seq > newest_seen_ || stream_last_seen_ < Time{0}) {
    newest_seen_ = std::max(newest_seen_, seq);
    stream_last_seen_ = now;
  }
}

void Swarm::accept_verified(Chunk chunk, const Endpoint* from, Time now) {
  const auto seq = chunk.seq.value;
  const auto s = substream_of(seq);
  note_newest(seq, now);
  holes_.erase(seq);
  if (!trees_[s].newest || *trees_[s].newest < seq) trees_[s].newest = seq;
  if (!is_broadcaster(config_)) {
    ++stats_.chunks_received;
    if (!want_from_ || seq < *want_from_) want_from_ = want_from_ ? std::min(*want_from_, seq) : seq;
  }
  // Children that forward in this tree go first: their whole subtrees wait on them.
  std::vector<const Peer*> children;
  peers_.for_each([&](const Peer& p) {
    if ((p.child_in & bit(s)) && (!from || p.endpoint != *from) && !p.has_chunk(seq)) children.push_back(&p);
  });
  std::stable_partition(children.begin(), children.end(), [s](const Peer* p) { return p->home == s; });
  for (const Peer* p : children) push_chunk(chunk, p->endpoint, 0xffff, SendClass::push);
  auto shared = config_.intern ? config_.intern(std::move(chunk)) : std::make_shared<const Chunk>(std::move(chunk));
  if (!is_broadcaster(config_)) events_.push_back(ChunkVerified{shared, from ? *from : Endpoint{}});
  store_.insert_verified(std::move(shared));
}

void Swarm::reject_forged(Peer& peer, Time now) {
  ++stats_.forged_rejected;
  if (++peer.forged_chunks < config_.forged_chunks_before_ban) return;
  const auto endpoint = peer.endpoint;
  drop_parent_everywhere(peer, now);
  peers_.ban(endpoint, now + config_.ban_duration, now);  // `peer` is gone after this
}

void Swarm::learn(const std::vector<Endpoint>& endpoints) {
  for (const auto& e : endpoints)
    if (e.port != 0) peers_.upsert(e);
}

// ---- timers --------------------------------------------------------------------------------------------

void Swarm::handle_timeout(Time now) {
  now_ = now;
  if (now < next_tick_) return;
  next_tick_ = now + config_.tick_interval;
  expire_peers(now);
  if (!is_broadcaster(config_)) maintain_parent(now);
  if (now - last_have_ >= config_.have_interval) send_haves(now);
  if (now - last_peer_exchange_ >= config_.peer_exchange_interval) exchange_peers(now);
  if (!is_broadcaster(config_)) repair(now);
}

void Swarm::expire_peers(Time now) {
  std::vector<Endpoint> gone;
  peers_.for_each([&](Peer& p) {
    // A child that stopped renewing its subscriptions left without a word: its slots go to others.
    if (p.child_in && now - p.last_subscribed > 3 * config_.hello_interval) p.child_in = 0;
    const bool is_bootstrap = std::find(config_.bootstrap.begin(), config_.bootstrap.end(), p.endpoint) !=
                              config_.bootstrap.end();
    if (p.heard && now - p.last_heard > config_.peer_timeout) {
      if (is_bootstrap) {
        p.heard = p.said_hello = false;  // keep it to ask again later
        p.child_in = 0;
      } else {
        gone.push_back(p.endpoint);
      }
    }
  });
  for (const auto& e : gone) {
    drop_parent_everywhere(*peers_.find(e), now);
    peers_.erase(e);
  }
}

void Swarm::maintain_parent(Time now) {
  const bool hello_due = now - last_hello_ >= config_.hello_interval;
  const bool optimize_due = now - last_optimize_ >= config_.optimize_interval;
  if (hello_due) last_hello_ = now;
  if (optimize_due) last_optimize_ = now;
  // Move-up checks take one tree at a time, so a node does not reshuffle all its parents at once.
  const auto optimized = next_optimized_ % trees_.size();
  if (optimize_due) ++next_optimized_;
  for (std::size_t s = 0; s < trees_.size(); ++s)
    maintain_tree(static_cast<std::uint8_t>(s), now, hello_due, optimize_due && s == optimized);
  probe_for_parents(now, hello_due);
  if (hello_due) rehome(now);
}

// The last forwarder of a tree may leave, and in a small swarm nobody else has that home: the tree's
// viewers then have nobody to subscribe to. A forwarder that has seen such a tree orphaned for a while,
// has heard from nobody who forwards there lately, and is not its own tree's only forwarder, moves its
// home there. Each
// check goes ahead with probability 1/3, so that not every candidate moves at once.
void Swarm::rehome(Time now) {
  if (home_ >= trees_.size() || rng_() % 3 != 0) return;
  std::vector<std::uint32_t> forwarders(trees_.size(), 0);
  peers_.for_each([&](const Peer& p) {
    if (p.heard && now - p.last_heard <= 2 * config_.hello_interval && p.home < trees_.size()) ++forwarders[p.home];
  });
  if (forwarders[home_] == 0) return;
  for (std::size_t s = 0; s < trees_.size(); ++s) {
    const auto& since = trees_[s].orphaned_since;
    if (s == home_ || forwarders[s] > 0 || !since || now - *since < config_.rehome_after) continue;
    const auto old_home = home_;
    home_ = static_cast<std::uint8_t>(s);
    peers_.for_each([&](Peer& p) {
      if (!(p.child_in & bit(old_home))) return;
      p.child_in &= static_cast<std::uint16_t>(~bit(old_home));
      send(p.endpoint, welcome_for(p.endpoint, 0, old_home, false));
    });
    return;
  }
}

void Swarm::maintain_tree(std::uint8_t s, Time now, bool hello_due, bool optimize_due) {
  Tree& tree = trees_[s];
  // A silent parent that lists newer chunks of this substream than we hold is withholding them: it is
  // dropped and avoided for a while. One that lacks them too is starved by its own parent and will most
  // likely recover, so it gets longer before we leave it; its whole subtree moving would be worse.
  if (tree.parent && stream_last_seen_ >= Time{0}) {
    const auto silence = now - std::max(tree.last_chunk, stream_started_at_);
    Peer* p = peers_.find(*tree.parent);
    const bool withholding = p && silence > config_.parent_silence_timeout && lists_newer(*p, s);
    if (withholding) {
      p->avoid_until = now + config_.silent_parent_penalty;
      // Below the broadcaster, nobody else can route around it: tell the broadcaster.
      if (p->depth == 1)
        for (const auto& b : config_.bootstrap) send(b, wire::Report{s, p->endpoint});
    }
    if (withholding || silence > 2 * config_.parent_silence_timeout) drop_parent(s, now);
  }
  if (tree.pending && now - tree.pending_since > config_.subscribe_timeout) {
    if (auto* p = peers_.find(*tree.pending)) p->retry_after = now + 3 * config_.hello_interval;
    tree.pending.reset();
    tree.switching = false;
  }
  if (tree.parent) {
    // Subscribing again is the keepalive: it also tells the parent we still want the stream.
    if (hello_due) send(*tree.parent, hello(true, s));
    // Trees built during a flash crowd come out deep; now and then, move up if a peer two levels closer
    // to the broadcaster has room. A closer peer cannot be our own descendant.
    if (!tree.pending && optimize_due) {
      Peer* best = best_parent_candidate(s, now);
      if (best && tree.parent_depth != wire::unknown_depth && best->depth + 1 < tree.parent_depth) {
        tree.switching = true;
        subscribe(s, *best, now);
      }
    }
    return;
  }
  if (tree.pending) return;
  if (Peer* best = best_parent_candidate(s, now)) {
    subscribe(s, *best, now);
    tree.orphaned_since.reset();
  } else if (!tree.orphaned_since) {
    tree.orphaned_since = now;
  }
}

// Nobody known with room in some tree: probe peers we know nothing of yet (a few each tick, each at most
// once a second) to learn their home, depth and room. Bootstrap peers are among them until they answer.
void Swarm::probe_for_parents(Time now, bool hello_due) {
  const bool orphaned = std::any_of(trees_.begin(), trees_.end(), [](const Tree& t) { return !t.parent && !t.pending; });
  if (!orphaned) return;
  if (hello_due)
    for (const auto& b : config_.bootstrap)
      if (const Peer* p = peers_.find(b); !p || !p->heard) send(b, hello(false, wire::no_substream));
  std::vector<Endpoint> unknown;
  peers_.for_each([&](Peer& p) {
    if (p.depth == wire::unknown_depth && !p.child_in && now - p.last_probe >= config_.hello_interval)
      unknown.push_back(p.endpoint);
  });
  std::sort(unknown.begin(), unknown.end());
  std::shuffle(unknown.begin(), unknown.end(), rng_);
  for (std::size_t i = 0; i < unknown.size() && i < 4; ++i) {
    peers_.find(unknown[i])->last_probe = now;
    send(unknown[i], hello(false, wire::no_substream));
  }
}

// The closest peer to the broadcaster with room in this tree; ties are broken at random.
Peer* Swarm::best_parent_candidate(std::uint8_t s, Time now) {
  Peer* best = nullptr;
  std::uint64_t best_rank = 0;
  peers_.for_each([&](Peer& p) {
    const auto room = home_ == s ? p.room | p.forwarder_room : p.room;
    if (!p.heard || !(room & bit(s)) || ((p.child_in | p.parent_in) & bit(s)) || p.depth == wire::unknown_depth) return;
    if (now < p.avoid_until || now < p.retry_after) return;
    const std::uint64_t rank = (std::uint64_t{p.depth} << 32) | (rng_() & 0xffffffffu);
    if (!best || rank < best_rank) {
      best = &p;
      best_rank = rank;
    }
  });
  return best;
}

// Whether a peer's buffer map lists a chunk of this substream newer than the newest we hold.
bool Swarm::lists_newer(const Peer& peer, std::uint8_t s) const {
  if (!peer.newest_have) return false;
  const auto& newest = trees_[s].newest;
  const std::uint64_t floor = newest ? *newest + 1 : peer.have_base;
  for (auto seq = *peer.newest_have; seq >= floor && seq >= peer.have_base; --seq) {
    if (substream_of(seq) == s && peer.has_chunk(seq)) return true;
    if (seq == 0) break;
  }
  return false;
}

void Swarm::subscribe(std::uint8_t s, Peer& candidate, Time now) {
  trees_[s].pending = candidate.endpoint;
  trees_[s].pending_since = now;
  send(candidate.endpoint, hello(true, s));
}

void Swarm::drop_parent(std::uint8_t s, Time now) {
  Tree& tree = trees_[s];
  if (!tree.parent) return;
  if (auto* p = peers_.find(*tree.parent)) {
    p->parent_in &= static_cast<std::uint16_t>(~bit(s));
    p->retry_after = now + config_.hello_interval;  // don't pick it again at once
    send(p->endpoint, hello(false, s));              // and free the slot we held there
  }
  tree.parent.reset();
  tree.parent_depth = wire::unknown_depth;
}

void Swarm::drop_parent_everywhere(const Peer& peer, Time now) {
  for (std::size_t s = 0; s < trees_.size(); ++s)
    if (peer.parent_in & bit(static_cast<std::uint8_t>(s))) drop_parent(static_cast<std::uint8_t>(s), now);
}

void Swarm::send_haves(Time now) {
  last_have_ = now;
  const auto bytes = wire::encode(tag_, have());
  // Neighbours first (they repair from us); then a few others so they know whom to ask.
  std::vector<Endpoint> targets;
  peers_.for_each([&](Peer& p) {
    if (p.heard && (p.child_in || p.parent_in || p.said_hello)) targets.push_back(p.endpoint);
  });
  std::sort(targets.begin(), targets.end());
  std::shuffle(targets.begin(), targets.end(), rng_);
  if (targets.size() > config_.peers_per_message) targets.resize(config_.peers_per_message);
  for (const auto& t : targets) send_bytes(t, bytes, SendClass::control, true);
}

wire::Have Swarm::have() const {
  wire::Have have;
  have.home = home_;
  have.depth = my_depth();
  have.room = room();
  have.forwarder_room = forwarder_room();
  have.children = home_children();
  const std::size_t count = std::min<std::size_t>(wire::max_have_bits, config_.window_chunks);
  have.base_seq = store_.latest_seq() >= count ? store_.latest_seq() - count + 1 : 0;
  have.bits = store_.have_bits(have.base_seq, count);
  return have;
}

void Swarm::exchange_peers(Time now) {
  last_peer_exchange_ = now;
  const auto targets = peers_.sample_heard(1, nullptr, rng_);
  for (const auto& t : targets) send(t, wire::Peers{peers_.sample_heard(config_.peers_per_message, &t, rng_)});
}

void Swarm::repair(Time now) {
  if (!want_from_) return;
  // A hole in a substream whose parent has already pushed us a newer chunk of it is a loss; newer chunks
  // are still on their way down the tree, and asking for them early would only pull them out of the
  // broadcaster. In a tree where we have no parent, the newest chunk anyone claims to have bounds the search.
  std::uint64_t horizon = store_.empty() ? *want_from_ : store_.latest_seq();
  peers_.for_each([&](const Peer& p) {
    if (p.newest_have) horizon = std::max(horizon, *p.newest_have);
  });
  std::uint64_t from = std::max(*want_from_, store_.floor_seq());
  if (horizon >= config_.repair_window_chunks && from < horizon - config_.repair_window_chunks + 1)
    from = horizon - config_.repair_window_chunks + 1;

  std::size_t sent = 0;
  for (const auto seq : store_.missing(from, horizon, 4 * config_.max_requests_per_tick)) {
    if (sent >= config_.max_requests_per_tick) break;
    const Tree& tree = trees_[substream_of(seq)];
    if (tree.parent && seq >= tree.push_start && !(tree.newest && *tree.newest > seq)) continue;
    auto& hole = holes_.try_emplace(seq, Hole{now}).first->second;
    if (now - hole.missing_since < config_.repair_delay) continue;
    if (hole.attempts > 0 && now - hole.requested_at < config_.repair_retry) continue;
    // A parent that lacks the chunk too will push it when it gets it: the whole subtree below a loss
    // pulling it at once from random peers would only multiply the loss into duplicates.
    const Peer* parent = tree.parent ? peers_.find(*tree.parent) : nullptr;
    if (parent && !parent->has_chunk(seq) && now - hole.missing_since < config_.parent_repair_wait) continue;
    if (repair_one(seq, now)) ++sent;
  }
  // Forget bookkeeping for holes that fell out of the window.
  holes_.erase(holes_.begin(), holes_.lower_bound(from));
}

// Asks the parent if it has the chunk, otherwise any viewer that says it does: the broadcaster's upload is
// the scarcest in the swarm, so it is asked only when nobody else has the chunk.
bool Swarm::repair_one(std::uint64_t seq, Time now) {
  Hole& hole = holes_.at(seq);
  const Tree& tree = trees_[substream_of(seq)];
  const Peer* parent = tree.parent ? peers_.find(*tree.parent) : nullptr;
  const Endpoint* source = nullptr;
  // Only the first attempt goes to the parent: a parent busy pushing may keep dropping repair answers.
  if (parent && parent->has_chunk(seq) && hole.attempts == 0 && parent->depth != 0) {
    source = &parent->endpoint;
  } else {
    // Peers that ignore our requests (withholding, or overloaded) are asked only when nobody else can be.
    std::vector<const Endpoint*> holders, unresponsive;
    const Endpoint* root = nullptr;
    peers_.for_each([&](Peer& p) {
      if (!p.heard || !p.has_chunk(seq)) return;
      if (p.depth == 0) root = &p.endpoint;
      else if (p.unanswered_requests >= config_.max_unanswered_requests) unresponsive.push_back(&p.endpoint);
      else holders.push_back(&p.endpoint);
    });
    const auto by_endpoint = [](const Endpoint* a, const Endpoint* b) { return *a < *b; };
    std::sort(holders.begin(), holders.end(), by_endpoint);
    std::sort(unresponsive.begin(), unresponsive.end(), by_endpoint);
    if (!holders.empty()) source = holders[rng_() % holders.size()];
    else if (root && now - hole.missing_since >= config_.root_repair_delay) source = root;
    else if (!unresponsive.empty()) source = unresponsive[rng_() % unresponsive.size()];
  }
  if (!source) return false;
  hole.requested_at = now;
  ++hole.attempts;
  ++stats_.requests_sent;
  if (auto* asked = peers_.find(*source)) ++asked->unanswered_requests;
  send(*source, wire::Request{seq, store_.missing_fragments(seq)});
  return true;
}

// ---- outputs -------------------------------------------------------------------------------------------

void Swarm::close(Time now) {
  now_ = now;
  peers_.for_each([&](Peer& p) {
    if (p.child_in || p.parent_in || p.said_hello) send(p.endpoint, wire::Bye{});
  });
}

std::optional<Transmit> Swarm::poll_transmit(Time now) { return send_queue_.poll(now); }

Time Swarm::poll_timeout() const {
  const auto ready = send_queue_.next_ready();
  return ready ? std::min(*ready, next_tick_) : next_tick_;
}

std::optional<SwarmEvent> Swarm::poll_event() {
  if (events_.empty()) return std::nullopt;
  std::optional<SwarmEvent> e(std::in_place, std::move(events_.front()));
  events_.pop_front();
  return e;
}

SwarmStats Swarm::stats(Time now) const {
  SwarmStats s = stats_;
  s.uploaded_bytes = send_queue_.sent_bytes();
  s.send_queue_dropped = send_queue_.dropped();
  s.peers = 0;
  s.children = 0;
  peers_.for_each([&](const Peer& p) {
    if (p.heard && now - p.last_heard <= config_.peer_timeout) ++s.peers;
    s.children += static_cast<std::uint64_t>(std::popcount(p.child_in));
  });
  s.parents = static_cast<std::uint64_t>(std::count_if(trees_.begin(), trees_.end(), [](const Tree& t) { return t.parent.has_value(); }));
  s.has_parent = s.parents == trees_.size();
  s.depth = my_depth();
  return s;
}

// Our depth in our home tree: what decides whether we make a good parent there.
std::uint8_t Swarm::my_depth() const {
  if (is_broadcaster(config_)) return 0;
  if (home_ >= trees_.size()) return wire::unknown_depth;
  const auto parent_depth = trees_[home_].parent_depth;
  if (!trees_[home_].parent || parent_depth >= wire::unknown_depth - 1) return wire::unknown_depth;
  return static_cast<std::uint8_t>(parent_depth + 1);
}

bool Swarm::forwards_in(std::uint8_t s) const {
  if (is_broadcaster(config_)) return true;
  return s == home_ && my_depth() != wire::unknown_depth;
}

std::size_t Swarm::child_count(std::uint8_t s) const {
  std::size_t n = 0;
  peers_.for_each([&](const Peer& p) { n += (p.child_in & bit(s)) ? 1 : 0; });
  return n;
}

// A viewer's slots are all in its home tree; the broadcaster spreads its slots evenly over the trees.
bool Swarm::has_room(std::uint8_t s) const {
  if (!forwards_in(s)) return false;
  return child_count(s) < tree_slots(s);
}

std::size_t Swarm::tree_slots(std::uint8_t s) const {
  if (!is_broadcaster(config_)) return config_.max_children;
  const auto k = trees_.size();
  return config_.max_children / k + (s < config_.max_children % k ? 1 : 0);
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
    if (!(p.child_in & bit(s))) return;
    if (p.home != s) {
      if (!leaf || p.endpoint < *leaf) leaf = p.endpoint;
    } else if (p.children == 0 && now_ - p.childless_since >= config_.idle_forwarder_grace) {
      if (!idle || p.endpoint < *idle) idle = p.endpoint;
    }
  });
  return leaf ? leaf : idle;
}

// The tree with the fewest forwarders the broadcaster knows of, counting its recent suggestions too so that
// a flash crowd is spread rather than sent to one tree.
std::uint8_t Swarm::suggest_home(Time now) {
  if (suggested_.size() != trees_.size() || now - suggestions_reset_ > 2 * config_.hello_interval) {
    suggested_.assign(trees_.size(), 0);
    suggestions_reset_ = now;
  }
  std::vector<std::uint32_t> load = suggested_;
  peers_.for_each([&](const Peer& p) {
    if (p.heard && p.home < load.size()) ++load[p.home];
  });
  const auto best = static_cast<std::uint8_t>(std::min_element(load.begin(), load.end()) - load.begin());
  ++suggested_[best];
  return best;
}

std::uint8_t Swarm::home_children() const {
  if (home_ >= trees_.size()) return 0;
  return static_cast<std::uint8_t>(std::min<std::size_t>(255, child_count(home_)));
}

wire::Hello Swarm::hello(bool subscribe, std::uint8_t substream) const {
  return wire::Hello{config_.role, subscribe, nonce_, substream, home_};
}

wire::Welcome Swarm::welcome_for(const Endpoint& to, std::uint32_t nonce, std::uint8_t substream, bool accepted) {
  wire::Welcome w;
  w.nonce = nonce;
  w.accepted = accepted;
  w.substream = substream;
  w.home = home_;
  w.depth = my_depth();
  w.room = room();
  w.forwarder_room = forwarder_room();
  w.children = home_children();
  if (is_broadcaster(config_)) w.suggested_home = suggest_home(now_);
  w.has_chunks = !store_.empty();
  w.latest_seq = store_.latest_seq();
  w.latest_join_seq = store_.latest_join_seq().value_or(store_.latest_seq());
  w.peers = peers_.sample_heard(config_.peers_per_message, &to, rng_);
  return w;
}

void Swarm::push_chunk(const Chunk& chunk, const Endpoint& to, std::uint16_t fragment_mask, SendClass cls) {
  const auto count = wire::fragment_count(chunk.payload.size());
  for (std::size_t i = 0; i < count; ++i)
    if (fragment_mask & (1u << i)) send_bytes(to, wire::encode_fragment(tag_, chunk, i), cls, true);
}

// Anti-amplification: a datagram's source address can be forged, so until a peer echoes a token we sent
// it, we send it at most `amplification_limit` times what it sent us. A token is a keyed hash of the
// address, so it needs no state and cannot be guessed by someone who never saw our datagrams.
std::uint32_t Swarm::token_for(const Endpoint& e) const {
  std::uint64_t h = token_key_ ^ 0x9e3779b97f4a7c15ull;
  for (const auto byte : e.address) h = (h ^ byte) * 0x100000001b3ull;
  h = (h ^ e.port) * 0x100000001b3ull;
  h ^= h >> 29;
  return static_cast<std::uint32_t>(h) | 1u;  // never 0, which means "no token"
}

void Swarm::note_tokens(Peer& peer, const Endpoint& from, std::uint32_t token, std::uint32_t echo) {
  if (token != 0) peer.token = token;
  if (echo == token_for(from)) peer.verified = true;
}

void Swarm::send(const Endpoint& to, wire::Message message) {
  const Peer* peer = peers_.find(to);
  const bool verified = peer && peer->verified;
  bool reply = true;
  if (auto* h = std::get_if<wire::Hello>(&message)) {
    h->token = token_for(to);
    h->echo = peer ? peer->token : 0;
    h->padding = verified ? 0 : config_.hello_padding;
    reply = false;  // our own initiative, paced by our timers
  } else if (auto* w = std::get_if<wire::Welcome>(&message)) {
    w->token = token_for(to);
    w->echo = peer ? peer->token : 0;
    if (!verified && peer) {
      // Trim the peer list to what the hello paid for.
      const double allowed = config_.amplification_limit * static_cast<double>(peer->bytes_in) - static_cast<double>(peer->bytes_out);
      auto bare = *w;
      bare.peers.clear();
      const double room = allowed - static_cast<double>(wire::encode(tag_, bare).size());
      const auto fits = room > 0 ? static_cast<std::size_t>(room / wire::endpoint_size) : 0;
      if (w->peers.size() > fits) w->peers.resize(fits);
    }
  } else if (auto* r = std::get_if<wire::Request>(&message)) {
    r->echo = peer ? peer->token : 0;
    reply = false;
  } else if (std::holds_alternative<wire::Bye>(message) || std::holds_alternative<wire::Report>(message)) {
    reply = false;
  }
  // At the broadcaster, a flash crowd's welcomes must not starve the stream: they wait behind live pushes.
  // Viewers answer at once: a slow welcome is a slow subscription.
  const bool bulky = std::holds_alternative<wire::Welcome>(message) || std::holds_alternative<wire::Peers>(message);
  const auto cls = bulky && is_broadcaster(config_) ? SendClass::reply : SendClass::control;
  send_bytes(to, wire::encode(tag_, message), cls, reply);
}

void Swarm::send_bytes(const Endpoint& to, std::vector<std::uint8_t> bytes, SendClass cls, bool reply) {
  if (reply) {
    if (Peer* peer = peers_.find(to); peer && !peer->verified) {
      const auto limit = config_.amplification_limit * static_cast<double>(peer->bytes_in);
      if (static_cast<double>(peer->bytes_out + bytes.size()) > limit) {
        ++stats_.amplification_dropped;
        return;
      }
      peer->bytes_out += bytes.size();
    }
  }
  send_queue_.enqueue(cls, Transmit{to, std::move(bytes)}, now_);
}

}  // namespace p2plive

