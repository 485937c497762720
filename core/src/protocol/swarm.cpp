#include "protocol/swarm.hpp"

#include <algorithm>

namespace p2plive {
namespace {

bool is_broadcaster(const SwarmConfig& c) { return c.role == wire::Role::broadcaster; }

}  // namespace

Swarm::Swarm(SwarmConfig config)
    : config_(std::move(config)),
      tag_(wire::stream_tag(config_.stream_key)),
      rng_(config_.rng_seed),
      nonce_(static_cast<std::uint32_t>(rng_())),
      peers_(config_.max_peers),
      store_(config_.window_chunks, config_.max_partial_chunks),
      send_queue_(SendQueueConfig{.upload_cap_bps = config_.upload_cap_bps, .max_datagrams = config_.max_queued_datagrams}) {
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
  std::visit([&](const auto& m) { on(from, *peer, m, now); }, *message);
}

void Swarm::on(const Endpoint& from, Peer& peer, const wire::Hello& m, Time now) {
  if (m.nonce == nonce_) {  // our own hello came back: that address is us
    peers_.ban(from, now + 24h * 365, now);
    return;
  }
  peer.said_hello = true;
  peer.role = m.role;
  peer.forwards = m.forwards;
  bool accepted = false;
  if (m.subscribe) {
    peer.is_child = accepted = peer.is_child || take_child(peer);
  } else {
    peer.is_child = false;  // a plain hello from a child means it left us for another parent
  }
  send(from, welcome_for(from, m.nonce, accepted));
}

// Slots near the root are the swarm's scarcest: a peer that forwards nothing may not take a node's last
// slot, and a full node makes room for a forwarder by releasing a child that does not forward.
bool Swarm::take_child(Peer& peer) {
  if (my_depth() == wire::unknown_depth || peer.is_parent) return false;
  const auto children = child_count();
  if (children < config_.max_children) {
    const bool last_slot = children + 1 == config_.max_children && config_.max_children > 1;
    return peer.forwards || !last_slot;
  }
  if (!peer.forwards) return false;
  Peer* leaf = nullptr;
  peers_.for_each([&](Peer& p) {
    if (p.is_child && !p.forwards && (!leaf || p.endpoint < leaf->endpoint)) leaf = &p;
  });
  if (!leaf) return false;
  leaf->is_child = false;
  send(leaf->endpoint, welcome_for(leaf->endpoint, 0, false));  // it will find another parent
  return true;
}

void Swarm::on(const Endpoint& from, Peer& peer, const wire::Welcome& m, Time now) {
  peer.depth = m.depth;
  peer.free_slots = m.free_slots;
  learn(m.peers);
  if (is_broadcaster(config_)) return;
  // Join at the newest keyframe: repair starts fetching it now, whether or not this peer takes us.
  if (!want_from_ && m.has_chunks) want_from_ = m.latest_join_seq;
  const bool was_pending = pending_parent_ == from;
  if (was_pending) pending_parent_.reset();
  if (!m.accepted) {
    if (was_pending) switching_ = false;
    if (peer.is_parent) drop_parent(now);  // it forgot us (restarted, or timed us out)
    return;
  }
  if (parent_ && *parent_ != from) {
    if (!(was_pending && switching_)) {
      send(from, hello(false));  // we found a parent meanwhile: release this one
      return;
    }
    // Moving up the tree: take the new parent, then release the old one.
    if (auto* old = peers_.find(*parent_)) {
      old->is_parent = false;
      send(old->endpoint, hello(false));
    }
    parent_.reset();
  }
  if (was_pending) switching_ = false;
  if (!parent_) {
    parent_ = from;
    peer.is_parent = true;
    peer.is_child = false;
    parent_last_chunk_ = now;
  }
  parent_depth_ = m.depth;
}

void Swarm::on(const Endpoint&, Peer&, const wire::Peers& m, Time) { learn(m.peers); }

void Swarm::on(const Endpoint& from, Peer& peer, const wire::Fragment& m, Time now) {
  if (peer.is_parent) parent_last_chunk_ = now;
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
  peer.depth = m.depth;
  peer.free_slots = m.free_slots;
  peer.have_base = m.base_seq;
  peer.have_bits = m.bits;
  peer.newest_have.reset();
  for (std::size_t i = m.bits.size(); i-- > 0;) {
    if (!m.bits[i]) continue;
    peer.newest_have = m.base_seq + i;
    note_newest(m.base_seq + i, now);
    break;
  }
  if (peer.is_parent) parent_depth_ = m.depth;
}

void Swarm::on(const Endpoint& from, Peer& peer, const wire::Request& m, Time) {
  // Only peers that introduced themselves get data: a spoofed source address cannot turn us into an amplifier.
  if (!peer.said_hello) return;
  const Chunk* chunk = store_.get(m.seq);
  if (!chunk) return;
  ++stats_.requests_served;
  push_chunk(*chunk, from, m.fragment_mask, SendClass::repair);
}

void Swarm::on(const Endpoint& from, Peer& peer, const wire::Bye&, Time now) {
  if (peer.is_parent) drop_parent(now);
  peers_.erase(from);
}

void Swarm::publish(Chunk chunk, Time now) {
  now_ = now;
  ++stats_.chunks_published;
  accept_verified(std::move(chunk), nullptr, now);
}

void Swarm::note_newest(std::uint64_t seq, Time now) {
  if (seq < newest_seen_ && now - stream_last_seen_ < config_.parent_silence_timeout) return;
  if (seq > newest_seen_ || stream_last_seen_ < Time{0}) {
    newest_seen_ = std::max(newest_seen_, seq);
    stream_last_seen_ = now;
  }
}

void Swarm::accept_verified(Chunk chunk, const Endpoint* from, Time now) {
  const auto seq = chunk.seq.value;
  note_newest(seq, now);
  holes_.erase(seq);
  if (!is_broadcaster(config_)) {
    ++stats_.chunks_received;
    if (!want_from_ || seq < *want_from_) want_from_ = want_from_ ? std::min(*want_from_, seq) : seq;
  }
  peers_.for_each([&](Peer& p) {
    if (p.is_child && (!from || p.endpoint != *from) && !p.has_chunk(seq)) push_chunk(chunk, p.endpoint, 0xffff, SendClass::push);
  });
  auto shared = config_.intern ? config_.intern(std::move(chunk)) : std::make_shared<const Chunk>(std::move(chunk));
  if (!is_broadcaster(config_)) events_.push_back(ChunkVerified{shared, from ? *from : Endpoint{}});
  store_.insert_verified(std::move(shared));
}

void Swarm::reject_forged(Peer& peer, Time now) {
  ++stats_.forged_rejected;
  if (++peer.forged_chunks < config_.forged_chunks_before_ban) return;
  const auto endpoint = peer.endpoint;
  if (peer.is_parent) drop_parent(now);
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
    const bool is_bootstrap = std::find(config_.bootstrap.begin(), config_.bootstrap.end(), p.endpoint) !=
                              config_.bootstrap.end();
    if (p.heard && now - p.last_heard > config_.peer_timeout) {
      if (is_bootstrap) {
        p.heard = p.said_hello = p.is_child = false;  // keep it to ask again later
      } else {
        gone.push_back(p.endpoint);
      }
    }
  });
  for (const auto& e : gone) {
    if (parent_ == e) drop_parent(now);
    peers_.erase(e);
  }
}

void Swarm::maintain_parent(Time now) {
  // A parent that has sent nothing for a while is dropped once the stream has started (before that, every
  // parent is quiet). If others show the stream flowing meanwhile, the parent is broken or withholding, and
  // it is avoided for a while; if nobody has anything new, the broadcast may just have paused.
  const bool stream_started = stream_last_seen_ >= Time{0};
  const bool stream_flowing = now - stream_last_seen_ <= config_.parent_silence_timeout;
  if (parent_ && stream_started && now - parent_last_chunk_ > config_.parent_silence_timeout) {
    if (auto* p = peers_.find(*parent_); p && stream_flowing) p->avoid_until = now + config_.silent_parent_penalty;
    drop_parent(now);
  }
  if (pending_parent_ && now - pending_since_ > config_.subscribe_timeout) {
    pending_parent_.reset();
    switching_ = false;
  }

  const bool hello_due = now - last_hello_ >= config_.hello_interval;
  if (parent_) {
    // Subscribing again is the keepalive: it also tells the parent we still want the stream.
    if (hello_due) {
      send(*parent_, hello(true));
      last_hello_ = now;
    }
    // Trees built during a flash crowd come out deep; now and then, move up if a peer two levels closer
    // to the broadcaster has room. A closer peer cannot be our own descendant.
    if (!pending_parent_ && now - last_optimize_ >= config_.optimize_interval) {
      last_optimize_ = now;
      Peer* best = best_parent_candidate(now);
      if (best && parent_depth_ != wire::unknown_depth && best->depth + 1 < parent_depth_) {
        switching_ = true;
        subscribe(*best, now);
      }
    }
    return;
  }
  if (pending_parent_) return;

  if (Peer* best = best_parent_candidate(now)) {
    subscribe(*best, now);
    return;
  }
  // Nobody known with room: probe peers we know nothing of yet (each at most once a second) to learn their
  // depth and room, and once a second ask the bootstrap peers to take us.
  if (hello_due) {
    last_hello_ = now;
    for (const auto& b : config_.bootstrap) send(b, hello(true));
  }
  std::vector<Endpoint> unknown;
  peers_.for_each([&](Peer& p) {
    if (p.depth == wire::unknown_depth && !p.is_child && now - p.last_subscribe_attempt >= config_.hello_interval)
      unknown.push_back(p.endpoint);
  });
  std::sort(unknown.begin(), unknown.end());
  std::shuffle(unknown.begin(), unknown.end(), rng_);
  for (std::size_t i = 0; i < unknown.size() && i < 4; ++i) {
    peers_.find(unknown[i])->last_subscribe_attempt = now;
    send(unknown[i], hello(false));
  }
}

// The closest peer to the broadcaster that has room; ties are broken at random.
Peer* Swarm::best_parent_candidate(Time now) {
  Peer* best = nullptr;
  std::uint64_t best_rank = 0;
  peers_.for_each([&](Peer& p) {
    if (!p.heard || p.is_child || p.is_parent || p.depth == wire::unknown_depth || p.free_slots == 0) return;
    if (now < p.avoid_until || now - p.last_subscribe_attempt < 3 * config_.hello_interval) return;
    const std::uint64_t rank = (std::uint64_t{p.depth} << 32) | (rng_() & 0xffffffffu);
    if (!best || rank < best_rank) {
      best = &p;
      best_rank = rank;
    }
  });
  return best;
}

void Swarm::subscribe(Peer& candidate, Time now) {
  candidate.last_subscribe_attempt = now;
  pending_parent_ = candidate.endpoint;
  pending_since_ = now;
  send(candidate.endpoint, hello(true));
}

void Swarm::drop_parent(Time now) {
  if (!parent_) return;
  if (auto* p = peers_.find(*parent_)) {
    p->is_parent = false;
    p->last_subscribe_attempt = now;  // don't pick it again at once
  }
  parent_.reset();
  parent_depth_ = wire::unknown_depth;
}

void Swarm::send_haves(Time now) {
  last_have_ = now;
  wire::Have have;
  have.depth = my_depth();
  have.free_slots = free_slots();
  const std::size_t count = std::min<std::size_t>(wire::max_have_bits, config_.window_chunks);
  have.base_seq = store_.latest_seq() >= count ? store_.latest_seq() - count + 1 : 0;
  have.bits = store_.have_bits(have.base_seq, count);
  const auto bytes = wire::encode(tag_, have);
  // Neighbours first (they repair from us); then a few others so they know whom to ask.
  std::vector<Endpoint> targets;
  peers_.for_each([&](Peer& p) {
    if (p.heard && (p.is_child || p.is_parent || p.said_hello)) targets.push_back(p.endpoint);
  });
  std::sort(targets.begin(), targets.end());
  std::shuffle(targets.begin(), targets.end(), rng_);
  if (targets.size() > config_.peers_per_message) targets.resize(config_.peers_per_message);
  for (const auto& t : targets) send_bytes(t, bytes);
}

void Swarm::exchange_peers(Time now) {
  last_peer_exchange_ = now;
  const auto targets = peers_.sample_heard(1, nullptr, rng_);
  for (const auto& t : targets) send(t, wire::Peers{peers_.sample_heard(config_.peers_per_message, &t, rng_)});
}

void Swarm::repair(Time now) {
  if (!want_from_) return;
  // With a parent, a hole below the newest chunk it pushed us is a loss; newer chunks are still on their
  // way down the tree and asking for them early would only pull them out of the broadcaster. Without a
  // parent, the newest chunk anyone claims to have bounds what we look for.
  std::uint64_t horizon = store_.empty() ? *want_from_ : store_.latest_seq();
  const Peer* parent = parent_ ? peers_.find(*parent_) : nullptr;
  if (!parent || store_.empty()) peers_.for_each([&](const Peer& p) {
    if (p.newest_have) horizon = std::max(horizon, *p.newest_have);
  });
  std::uint64_t from = std::max(*want_from_, store_.floor_seq());
  if (horizon >= config_.repair_window_chunks && from < horizon - config_.repair_window_chunks + 1)
    from = horizon - config_.repair_window_chunks + 1;

  std::size_t sent = 0;
  for (const auto seq : store_.missing(from, horizon, 4 * config_.max_requests_per_tick)) {
    if (sent >= config_.max_requests_per_tick) break;
    auto& hole = holes_.try_emplace(seq, Hole{now}).first->second;
    if (now - hole.missing_since < config_.repair_delay) continue;
    if (hole.attempts > 0 && now - hole.requested_at < config_.repair_retry) continue;

    // Ask the parent if it has it, otherwise any viewer that says it does: the broadcaster's upload is the
    // scarcest in the swarm, so it is asked only when nobody else has the chunk.
    const Endpoint* source = nullptr;
    // Only the first attempt goes to the parent: a parent busy pushing may keep dropping repair answers.
    if (parent && parent->has_chunk(seq) && hole.attempts == 0) {
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
      else if (root) source = root;
      else if (!unresponsive.empty()) source = unresponsive[rng_() % unresponsive.size()];
    }
    if (!source) continue;
    hole.requested_at = now;
    ++hole.attempts;
    ++stats_.requests_sent;
    ++sent;
    if (auto* asked = peers_.find(*source)) ++asked->unanswered_requests;
    send(*source, wire::Request{seq, store_.missing_fragments(seq)});
  }
  // Forget bookkeeping for holes that fell out of the window.
  holes_.erase(holes_.begin(), holes_.lower_bound(from));
}

// ---- outputs -------------------------------------------------------------------------------------------

void Swarm::close(Time now) {
  now_ = now;
  peers_.for_each([&](Peer& p) {
    if (p.is_child || p.is_parent || p.said_hello) send(p.endpoint, wire::Bye{});
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
    if (p.is_child) ++s.children;
  });
  s.has_parent = parent_.has_value();
  s.depth = my_depth();
  return s;
}

std::uint8_t Swarm::my_depth() const {
  if (is_broadcaster(config_)) return 0;
  if (!parent_ || parent_depth_ >= wire::unknown_depth - 1) return wire::unknown_depth;
  return static_cast<std::uint8_t>(parent_depth_ + 1);
}

std::size_t Swarm::child_count() const {
  std::size_t n = 0;
  peers_.for_each([&](const Peer& p) { n += p.is_child ? 1 : 0; });
  return n;
}

std::uint8_t Swarm::free_slots() const {
  if (my_depth() == wire::unknown_depth) return 0;
  const auto used = child_count();
  return static_cast<std::uint8_t>(used >= config_.max_children ? 0 : std::min<std::size_t>(255, config_.max_children - used));
}

wire::Hello Swarm::hello(bool subscribe) const {
  return wire::Hello{config_.role, subscribe, nonce_, config_.max_children > 0};
}

wire::Welcome Swarm::welcome_for(const Endpoint& to, std::uint32_t nonce, bool accepted) {
  wire::Welcome w;
  w.nonce = nonce;
  w.accepted = accepted;
  w.depth = my_depth();
  w.free_slots = free_slots();
  w.has_chunks = !store_.empty();
  w.latest_seq = store_.latest_seq();
  w.latest_join_seq = store_.latest_join_seq().value_or(store_.latest_seq());
  w.peers = peers_.sample_heard(config_.peers_per_message, &to, rng_);
  return w;
}

void Swarm::push_chunk(const Chunk& chunk, const Endpoint& to, std::uint16_t fragment_mask, SendClass cls) {
  const auto count = wire::fragment_count(chunk.payload.size());
  for (std::size_t i = 0; i < count; ++i)
    if (fragment_mask & (1u << i)) send_bytes(to, wire::encode_fragment(tag_, chunk, i), cls);
}

void Swarm::send(const Endpoint& to, const wire::Message& message) { send_bytes(to, wire::encode(tag_, message)); }

void Swarm::send_bytes(const Endpoint& to, std::vector<std::uint8_t> bytes, SendClass cls) {
  send_queue_.enqueue(cls, Transmit{to, std::move(bytes)}, now_);
}

}  // namespace p2plive
