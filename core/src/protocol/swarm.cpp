// The swarm's inputs and outputs: datagrams in through the session layer, fragments, maps, requests and
// acks handled, chunks verified and pushed, datagrams out through the paced send queue and framed by
// their sessions. Membership (hellos, welcomes, reports) is in membership/swarm_membership.cpp, tree
// upkeep in distribution/swarm_trees.cpp, repair in distribution/swarm_repair.cpp.
#include "protocol/swarm.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <string>

namespace p2plive {
namespace {

session::SessionConfig session_config(const SwarmConfig& c) {
  auto s = c.session;
  s.stream_tag = wire::stream_tag(c.stream_key);
  return s;
}

SwarmConfig validated(SwarmConfig config) {
  const auto problems = config.validate();
  if (problems.empty()) return config;
  std::string what = "invalid swarm configuration:";
  for (const auto& p : problems) what += " " + p + ";";
  throw std::invalid_argument(what);
}

}  // namespace

Swarm::Swarm(SwarmConfig config)
    : config_(validated(std::move(config))),
      rng_(config_.rng_seed),
      session_(session_config(config_),
               config_.crypto ? config_.crypto : session::sodium_crypto(config_.stream_key, nullptr)),
      peers_(config_.membership.max_peers),
      store_(config_.repair.window_chunks, config_.repair.max_partial_chunks, config_.repair.window_bytes),
      trees_(config_.trees.substreams),            // validated: 1 to wire::max_substreams
      verified_at_(config_.repair.window_chunks),  // validated: at least one chunk per substream
      send_queue_(SendQueueConfig{.rate_bps = config_.sending.upload_cap_bps,
                                  .max_datagrams = config_.sending.max_queued_datagrams}),
      tracker_(TrackerClientConfig{.trackers = config_.trackers,
                                   .info_hash = swarm_info_hash(config_.stream_key),
                                   .port = config_.announce_port,
                                   .rng_seed = config_.rng_seed ^ 0x7472616b}) {
  // A random home spreads forwarders evenly over the trees; a node that forwards nothing has none.
  if (is_broadcaster())
    home_ = wire::every_substream;
  else if (config_.trees.max_children == 0)
    home_ = wire::no_substream;
  else
    home_ = static_cast<std::uint8_t>(rng_() % trees_.size());
  root_reply_tokens_ = root_reply_cap();
  if (config_.sending.congestion_control) {
    auto rc = config_.sending.rate_control;
    if (config_.sending.upload_cap_bps > 0)
      rc.max_bps = rc.max_bps > 0 ? std::min(rc.max_bps, config_.sending.upload_cap_bps)
                                  : config_.sending.upload_cap_bps;
    rate_control_.emplace(rc);
    send_queue_.set_rate(rate_control_->rate_bps(), Time{0});
  }
  learn(config_.bootstrap);
  for (const auto& b : config_.bootstrap)
    if (auto* p = peers_.find(b)) p->bootstrap = true;
  // The sessions the trees run on are the last to make room for newcomers.
  session_.set_pinned([this](const Endpoint& e) {
    const Peer* p = peers_.find(e);
    return p && (p->parent_in || p->child_in || p->bootstrap);
  });
}

// ---- inputs -------------------------------------------------------------------------------------------

void Swarm::handle_datagram(const Endpoint& from, std::span<const std::uint8_t> datagram, Time now) {
  handle_datagram(from, datagram, now, now);
}

void Swarm::handle_datagram(const Endpoint& from, std::span<const std::uint8_t> datagram, Time now, Time received_at) {
  now_ = now;
  received_at_ = std::min(received_at, now);
  stats_.downloaded_bytes += datagram.size();
  if (peers_.is_banned(from, now)) return;
  // Checking the magic first keeps the tracker list out of the path of every peer datagram.
  if (!wire::has_magic(datagram) && tracker_.is_tracker(from)) {
    tracker_.handle_datagram(from, datagram, now);
    learn(tracker_.take_peers());
    flush_tracker();
    return;
  }
  // Nothing reaches the swarm that has not come over a session: an address proven, a tag checked.
  const auto in = session_.receive(from, datagram, now);
  take_session_events(now);
  if (!in) return;
  auto message = wire::decode(in->type, in->body);
  if (!message) {
    ++stats_.malformed_dropped;
    return;
  }
  Peer* peer = peers_.upsert(from);
  if (!peer) return;  // table full of parents and children: nothing new fits
  peer->heard = true;
  peer->suspended = false;
  peer->unanswered_probes = 0;
  peer->last_heard = now;
  sender_session_ = in->session;
  std::visit([&](const auto& m) { on(from, *peer, m, now); }, *message);
}

// Handshake datagrams go out as control traffic: they are few, small and budgeted by the session layer.
void Swarm::flush_session() {
  while (auto t = session_.poll_transmit()) {
    const auto size = static_cast<std::uint16_t>(t->bytes.size());
    send_queue_.enqueue(SendClass::control, Outgoing{t->to, std::move(t->bytes), nullptr, 0, size}, now_);
  }
}

void Swarm::on(const Endpoint& from, Peer& peer, const wire::Fragment& m, Time now) {
  if (is_past_epoch(m.epoch)) {
    ++stats_.old_epoch_dropped;
    return;
  }
  if (!expects_fragment(peer, m.epoch, m.seq, now)) {
    ++stats_.unsolicited_fragments;
    return;
  }
  if (m.epoch == our_epoch_tag() && !within_window(m.seq)) {
    ++stats_.out_of_window;
    return;
  }
  peer.unanswered_requests = 0;
  ChunkStore::Assembled assembled;
  switch (store_.add_fragment(m, sender_session_, now, assembled)) {
    case ChunkStore::FragmentResult::duplicate:
      check_trial_fragment(peer, m, now);
      ++stats_.duplicate_fragments;
      return;
    case ChunkStore::FragmentResult::stale:
      ++stats_.duplicate_fragments;
      return;
    case ChunkStore::FragmentResult::stored:
      return;
    case ChunkStore::FragmentResult::refused:
      ++stats_.partials_refused;
      return;
    case ChunkStore::FragmentResult::completed:
      break;
  }
  Chunk& chunk = assembled.chunk;
  // Verify before forward: nothing leaves this node, to a peer or a player, before this check.
  const bool genuine = config_.verify ? config_.verify(chunk) : verify_chunk(config_.stream_key, chunk);
  if (!genuine) {
    // Blame only what is proven: a chunk all of whose fragments came over this one session. One pieced
    // together from several senders blames nobody.
    ++stats_.forged_rejected;
    if (assembled.sole_sender) reject_forged(from, now);
    return;
  }
  peer.last_delivered = now;
  if ((!epoch_ || chunk.epoch != epoch_->id) && !follow_epoch(chunk, now)) return;
  accept_verified(std::move(chunk), &from, now);
}

void Swarm::on(const Endpoint&, Peer& peer, const wire::Have& m, Time now) {
  note_tree(peer, m.tree, now);
  peer.census_heard = true;
  peer.subtree_listeners = m.subtree_listeners;
  peer.listeners = m.listeners;
  peer.listeners_peak = m.listeners_peak;
  peer.delay.sample(m.time_us, received_at_);
  // Tell the sender at once how its map's trip went: its congestion control needs fresh news. A peer that
  // is neither parent nor child gets an answer only while it is one of our few map sources: left
  // unanswered, it stops sending them.
  if (peer.child_in || peer.parent_in || takes_maps_from(peer, now)) {
    if (!peer.child_in && !peer.parent_in) peer.took_map_at = now;
    send(peer.endpoint, wire::Ack{m.time_us, queue_delay_of(peer)});
  }
  peer.have_epoch = m.epoch;
  const bool has_chunks = std::find(m.bits.begin(), m.bits.end(), true) != m.bits.end();
  if (peer.proven_root && has_chunks && !root_live_since_) root_live_since_ = now;
  if (!is_broadcaster()) note_epoch_claim(peer, m.epoch, m.join_seq, has_chunks, now);
  if (store_.epoch() && m.epoch != our_epoch_tag()) {
    peer.clear_map();  // a map of another session says nothing of what we lack
    return;
  }
  // A map of chunks far past our newest is nonsense: the stream cannot be that far ahead of us.
  if (!store_.empty() && !within_window(m.base_seq)) {
    ++stats_.out_of_window;
    peer.clear_map();
    return;
  }
  peer.have_base = m.base_seq;
  peer.have_bits = m.bits;
  peer.newest_have.reset();
  for (std::size_t i = m.bits.size(); i-- > 0;) {
    if (!m.bits[i]) continue;
    peer.newest_have = m.base_seq + i;
    note_newest(m.base_seq + i, now);
    break;
  }
}

void Swarm::on(const Endpoint& from, Peer& peer, const wire::Request& m, Time) {
  // Only peers that introduced themselves get data.
  if (!peer.said_hello || !config_.repair.answers_requests || m.epoch != our_epoch_tag()) return;
  auto chunk = store_.get_shared(m.seq);
  if (!chunk) return;
  if (is_broadcaster()) {
    // The broadcaster's upload is the swarm's bottleneck: repairs get a bounded share of it.
    const auto cost = static_cast<double>(chunk->payload.size());
    if (root_repair_tokens_ < cost) {
      ++stats_.requests_refused;
      return;
    }
    root_repair_tokens_ -= cost;
  }
  ++stats_.requests_served;
  // A join point asked for is most likely a newcomer's start: it goes ahead of other repairs.
  push_chunk(chunk, from, m.fragment_mask, chunk->is_join_point() ? SendClass::key : SendClass::repair);
}

void Swarm::on(const Endpoint&, Peer& peer, const wire::Ack& m, Time now) {
  if (!peer.sent_stamp(m.echo_us)) return;  // not an answer to a map we sent this session
  peer.unanswered_maps = 0;
  // The answer comes at once: a round trip we measured ourselves, which ranks children and parents.
  const auto rtt = Time{static_cast<std::int32_t>(clock32(received_at_) - m.echo_us)};
  if (rtt >= Time{0} && rtt < 10s) peer.note_rtt(rtt);
  note_our_queue_delay(peer, m.your_queue_delay_ms, now);
}

// A neighbour's word on our uplink, kept with that neighbour: when it leaves, its word goes with it.
void Swarm::note_our_queue_delay(Peer& peer, std::uint16_t delay_ms, Time now) {
  if (delay_ms == wire::no_feedback) return;
  peer.our_queue_delay = std::chrono::milliseconds(delay_ms);
  peer.our_queue_delay_at = now;
}

std::uint16_t Swarm::queue_delay_of(const Peer& peer) const {
  const auto delay = peer.delay.queue_delay();
  if (!delay) return wire::no_feedback;
  return static_cast<std::uint16_t>(
      std::min<std::int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(*delay).count(), wire::no_feedback - 1));
}

// What answering a probe costs: a welcome listing `peers`, and a buffer map.
std::size_t Swarm::probe_answer_bytes(std::size_t peers) const {
  return 64 + peers * wire::endpoint_size + 48 + config_.repair.repair_window_chunks / 8;
}

double Swarm::root_reply_cap() const {
  return static_cast<double>(config_.root.reply_burst *
                             probe_answer_bytes(config_.membership.peers_per_message));
}

void Swarm::publish(Chunk chunk, Time now) {
  now_ = now;
  if (!epoch_ || chunk.epoch != epoch_->id) {
    // A broadcaster's first chunk, or the first of a session started anew within this object.
    if (epoch_) past_epochs_.push_back(our_epoch_tag());
    epoch_ = Epoch{chunk.epoch, chunk.epoch_start_us};
    store_.reset(wire::epoch_tag(chunk.epoch));
    ++stats_.epochs_started;
  }
  ++stats_.chunks_published;
  const auto size = static_cast<double>(chunk.payload.size());
  if (last_publish_ > Time{0} && now > last_publish_) {
    const double bps = size * 8 / std::chrono::duration<double>(now - last_publish_).count();
    published_bps_ += (std::min(bps, 1e9) - published_bps_) / 64;  // over a second or two of chunks
  }
  last_publish_ = now;
  // With one or two viewers (one leaving as the next arrives) the broadcaster is the only holder of what a
  // newcomer lacks, and its children take little of its uplink: repairs may take as much as the stream.
  // (Not before anyone comes: a flash crowd would meet a broadcaster with a full repair budget to spend.)
  const auto heard = viewers_heard_lately();
  const double repair_share =
      heard >= 1 && heard <= 2 ? config_.root.lone_repair_share : config_.root.repair_share;
  root_repair_tokens_ = std::min(root_repair_tokens_ + size * repair_share, 64 * size);
  root_reply_tokens_ = std::min(root_reply_tokens_ + size * config_.root.reply_share, root_reply_cap());
  accept_verified(std::move(chunk), nullptr, now);
}

void Swarm::note_newest(std::uint64_t seq, Time now) {
  if (seq < newest_seen_ && now - stream_last_seen_ < config_.trees.parent_silence_timeout) return;
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
  // A parent is judged by the chunks it completes, not by fragments: one whose uplink loses part of every
  // chunk delivers nothing, and must look as silent as it is.
  if (from && trees_[s].parent == *from) {
    trees_[s].last_chunk = now;
    trees_[s].delivered = true;
  }
  if (!is_broadcaster()) {
    ++stats_.chunks_received;
    if (!want_from_ || seq < *want_from_) want_from_ = want_from_ ? std::min(*want_from_, seq) : seq;
  }
  verified_at_[seq % verified_at_.size()] = {seq, now};
  auto shared = config_.intern ? config_.intern(std::move(chunk)) : std::make_shared<const Chunk>(std::move(chunk));
  // Children that forward in this tree go first: their whole subtrees wait on them. A child that has
  // fallen silent (gone, most likely) gets nothing.
  std::vector<const Peer*> children;
  peers_.for_each([&](const Peer& p) {
    if (is_active_child(p, s) && (!from || p.endpoint != *from) && !p.has_chunk(seq)) children.push_back(&p);
  });
  std::sort(children.begin(), children.end(), [s](const Peer* a, const Peer* b) {
    const bool fa = a->tree.home == s, fb = b->tree.home == s;
    if (fa != fb) return fa;
    if (fa && a->tree.children != b->tree.children) return a->tree.children > b->tree.children;
    return a->endpoint < b->endpoint;
  });
  const auto cls = shared->is_join_point() ? SendClass::key : SendClass::push;
  for (const Peer* p : children) push_chunk(shared, p->endpoint, 0xffff, cls, true);
  if (!is_broadcaster()) events_.push_back(ChunkVerified{shared, from ? *from : Endpoint{}});
  store_.insert_verified(std::move(shared));
}

void Swarm::reject_forged(const Endpoint& sender, Time now) {
  Peer* peer = peers_.find(sender);
  if (!peer || ++peer->forged_chunks < config_.membership.forged_chunks_before_ban) return;
  // One that says it is one hop below the broadcaster holds one of its slots: the broadcaster is told,
  // as of a withholder (its subtree gets nothing genuine from it either).
  if (peer->tree.depth == 1 && peer->tree.home < trees_.size() && !is_broadcaster())
    report_to_broadcaster(peer->tree.home, sender);
  forget_peer(sender, now);
  peers_.ban(sender, now + config_.membership.ban_duration, now);
}

bool Swarm::expects_fragment(const Peer& peer, std::uint32_t epoch, std::uint64_t seq, Time now) const {
  const auto s = substream_of(seq);
  if (peer.parent_in & bit(s)) return true;
  if (trees_[s].pending == peer.endpoint) return true;  // its catch-up may overtake its welcome
  // A broadcaster that restarted pushes its new epoch before we know it: its proof is enough.
  if (peer.proven_root && epoch != our_epoch_tag()) return true;
  if (epoch == our_epoch_tag() || !store_.epoch()) {
    if (const auto hole = holes_.find(seq); hole != holes_.end())
      for (const auto& a : hole->second.asked)
        if (a == peer.endpoint) return true;
  }
  return std::any_of(asked_.begin(), asked_.end(), [&](const Asked& a) {
    return a.to == peer.endpoint && a.seq == seq && now - a.at < 2 * config_.repair.repair_retry + 1s;
  });
}

// Repairs are remembered with their hole (the last few peers asked); the rare other requests (a join
// point of an epoch we do not know yet) in a small ring.
void Swarm::note_asked(const Endpoint& to, std::uint64_t seq, Time now) {
  if (const auto hole = holes_.find(seq); hole != holes_.end()) {
    auto& asked = hole->second.asked;
    asked[hole->second.attempts % asked.size()] = to;
    return;
  }
  asked_[next_asked_++ % asked_.size()] = Asked{to, seq, now};
}

// Sequence numbers are 32 bits on the wire and 64 here, so nothing wraps; this bounds how far past our
// newest chunk anyone may make us look (or book holes, or hold partial chunks).
bool Swarm::within_window(std::uint64_t seq) const {
  if (store_.empty()) return seq <= wire::max_seq;
  return seq <= store_.latest_seq() + config_.repair.seq_ahead;
}

// ---- timers --------------------------------------------------------------------------------------------

void Swarm::handle_timeout(Time now) {
  now_ = now;
  if (now >= session_.next_timeout()) {
    session_.handle_timeout(now);  // handshakes sent again or given up, idle sessions closed
    take_session_events(now);
  }
  if (now < next_tick_) return;
  next_tick_ = now + config_.tick_interval;
  control_rate(now);
  const bool housekeeping = now - last_housekeeping_ >= config_.housekeeping_interval;
  if (housekeeping) {
    last_housekeeping_ = now;
    expire_peers(now);
    suspend_silent_children(now);
  }
  // Trees are looked after every housekeeping interval, and at every tick while one lacks a parent:
  // a viewer that is joining, or has lost a parent, must not wait to subscribe.
  const bool orphaned = std::any_of(trees_.begin(), trees_.end(), [](const Tree& t) { return !t.parent; });
  if (!is_broadcaster() && (housekeeping || orphaned)) maintain_parents(now);
  if (orphaned) tracker_.hurry(now);
  tracker_.handle_timeout(now);
  flush_tracker();
  send_haves(now);
  if (now - last_peer_exchange_ >= config_.membership.peer_exchange_interval) exchange_peers(now);
  if (!is_broadcaster()) repair(now);
}

void Swarm::flush_tracker() {
  while (auto t = tracker_.poll_transmit()) {
    const auto size = static_cast<std::uint16_t>(t->bytes.size());
    send_queue_.enqueue(SendClass::control, Outgoing{t->to, std::move(t->bytes), nullptr, 0, size}, now_);
  }
}

// Congestion control: neighbours' reports arrive with their answers to our maps; here the rate follows
// them. One voice per neighbour: its latest fresh report, or, if a parent or child is alive but has stopped
// answering our maps for a while, a loss (our maps are drowning in a full queue; others may just have
// their fill of maps). A neighbour that fell silent altogether
// has left, or lost its own link, and says nothing of ours.
void Swarm::control_rate(Time now) {
  if (!rate_control_) return;
  const double before = rate_control_->rate_bps();
  // A neighbour answers each of our maps (every have_interval): its latest answer stands until the next.
  const auto fresh = config_.repair.have_interval * 3 / 2;
  std::vector<Time> delays;
  peers_.for_each([&](const Peer& p) {
    if (p.our_queue_delay && now - p.our_queue_delay_at <= fresh) delays.push_back(*p.our_queue_delay);
    else if ((p.child_in || p.parent_in) && p.unanswered_maps >= 3 && now - p.first_unanswered_map >= 1s &&
             now - p.last_heard <= 500ms)
      delays.push_back(1s);
  });
  // The broadcaster's rate never falls below what its children need of the stream: neighbours with
  // sessions can still lie about its queue (Sybils that never ack its maps look like a drowning link),
  // and a broadcaster paced below its own stream serves nobody whatever its link.
  if (is_broadcaster() && published_bps_ > 0)
    rate_control_->set_min_bps(
        std::max(config_.sending.rate_control.min_bps, config_.root.rate_floor * published_bps_));
  rate_control_->update(RateInputs{.queue_delays = delays,
                                   .sent_bytes = send_queue_.sent_bytes(),
                                   .push_demand_bytes = send_queue_.push_demand_bytes(),
                                   .rate_limited = send_queue_.take_rate_limited()},
                        now);
  if (rate_control_->rate_bps() != before) send_queue_.set_rate(rate_control_->rate_bps(), now);
  if (rate_control_->take_overloaded()) shed_child(now);
}

// ---- outputs -------------------------------------------------------------------------------------------

void Swarm::close(Time now) {
  now_ = now;
  peers_.for_each([&](Peer& p) {
    if (p.child_in || p.parent_in || p.said_hello) send(p.endpoint, wire::Bye{});
  });
  tracker_.stop(now);
  flush_tracker();
}

std::optional<Transmit> Swarm::poll_transmit(Time now) {
  for (;;) {
    auto out = send_queue_.poll(now);
    if (!out) return std::nullopt;
    if (!out->chunk && !out->framed) return Transmit{out->to, std::move(out->bytes)};  // trackers, handshakes
    Transmit t{out->to, {}};
    if (!out->chunk) {
      // Framed when it leaves, not when it was queued: packet numbers go out in order.
      if (session_.seal(out->to, out->bytes[0], std::span(out->bytes).subspan(1), t.bytes)) return t;
    } else {
      const auto seq = out->chunk->seq.value;
      const auto& verified = verified_at_[seq % verified_at_.size()];
      if (out->live && out->fragment + 1u == wire::fragment_count(out->chunk->payload.size()) && verified.first == seq)
        forward_wait_ += (now - verified.second - forward_wait_) / 16;
      wire::encode_fragment(*out->chunk, out->fragment, scratch_);
      if (session_.seal(out->to, wire::fragment_type, scratch_, t.bytes)) return t;
    }
    ++stats_.no_session_dropped;  // its session ended while it waited
  }
}

Time Swarm::poll_timeout() const {
  const auto ready = send_queue_.next_ready();
  const auto next = std::min(next_tick_, session_.next_timeout());
  return ready ? std::min(*ready, next) : next;  // the tracker client is served at ticks
}

std::optional<SwarmEvent> Swarm::poll_event() {
  if (events_.empty()) return std::nullopt;
  std::optional<SwarmEvent> e(std::move(events_.front()));
  events_.pop_front();
  return e;
}

void Swarm::add_peers(const std::vector<Endpoint>& endpoints, bool bootstrap) {
  learn(endpoints);
  if (!bootstrap) return;
  for (const auto& e : endpoints) {
    if (config_.bootstrap.size() >= max_bootstrap_peers) break;
    if (std::find(config_.bootstrap.begin(), config_.bootstrap.end(), e) != config_.bootstrap.end()) continue;
    config_.bootstrap.push_back(e);
    if (auto* p = peers_.find(e)) p->bootstrap = true;
  }
}

SwarmStats Swarm::stats(Time now) const {
  SwarmStats s = stats_;
  s.uploaded_bytes = send_queue_.sent_bytes();
  s.send_queue_dropped = send_queue_.dropped();
  s.send_rate_bps = send_queue_.rate_bps();
  s.peers = 0;
  s.children = 0;
  peers_.for_each([&](const Peer& p) {
    if (p.heard && now - p.last_heard <= config_.membership.peer_timeout) ++s.peers;
    s.children += static_cast<std::uint64_t>(std::popcount(p.child_in));
  });
  s.parents = static_cast<std::uint64_t>(std::count_if(trees_.begin(), trees_.end(), [](const Tree& t) { return t.parent.has_value(); }));
  s.has_parent = s.parents == trees_.size();
  s.depth = my_depth();
  s.latency_ms = my_latency_ms();
  s.tracker_announces = tracker_.stats().announces;
  s.tracker_peers = tracker_.stats().peers_learned;
  if (epoch_) {
    s.epoch = epoch_->id;
    s.epoch_start_us = epoch_->start_us;
  }
  s.listeners = census_.listeners;
  s.listeners_peak = census_.peak;
  s.held_chunk_bytes = store_.held_bytes();
  s.held_partials = store_.partial_count();
  s.held_peers = peers_.size();
  s.held_holes = holes_.size();
  s.held_queued_bytes = send_queue_.queued_bytes();
  s.session = session_.stats();
  const auto seen = observed();
  s.observed_address = seen.address;
  s.observed_votes = seen.votes;
  s.symmetric_nat = seen.symmetric;
  s.reachable = reachable_;
  return s;
}

void Swarm::push_chunk(const std::shared_ptr<const Chunk>& chunk, const Endpoint& to, std::uint16_t fragment_mask,
                       SendClass cls, bool live) {
  const auto payload = chunk->payload.size();
  const auto count = wire::fragment_count(payload);
  const auto total = wire::chunk_body_size(payload);
  for (std::size_t i = 0; i < count; ++i) {
    if (!(fragment_mask & (1u << i))) continue;
    const auto body = std::min(wire::fragment_body_size, total - i * wire::fragment_body_size);
    const auto size = static_cast<std::uint16_t>(wire::session_framing + wire::fragment_header_size + body);
    Outgoing out{to, {}, chunk, static_cast<std::uint8_t>(i), size};
    out.owed = cls != SendClass::repair;
    out.live = live;
    send_queue_.enqueue(cls, std::move(out), now_);
  }
}

void Swarm::send(const Endpoint& to, wire::Message message) {
  Peer* peer = peers_.find(to);
  const bool established = session_.established(to);
  if (auto* h = std::get_if<wire::Hello>(&message)) {
    // A hello that opens a session rides in the handshake, a round trip after it is stamped: the
    // handshake itself times that trip, so this one carries no clock.
    h->time_us = established ? clock32(now_) | 1u : 0;  // 0 means "no time"
    if (peer && established) peer->note_stamp(h->time_us);
  } else if (auto* have = std::get_if<wire::Have>(&message)) {
    have->time_us = clock32(now_) | 1u;
    if (peer && established) {
      peer->note_stamp(have->time_us);
      if (peer->unanswered_maps++ == 0) peer->first_unanswered_map = now_;
    }
  }
  const auto type = wire::type_of(message);
  std::vector<std::uint8_t> bytes{type};
  wire::encode(message, scratch_);
  if (!established) {
    // Only our own hellos open sessions; anything else for a peer we have no session with has no one
    // to go to.
    if (type == wire::type_of(wire::Hello{})) {
      session_.connect(to, type, scratch_, now_);
      flush_session();
    } else {
      ++stats_.no_session_dropped;
    }
    return;
  }
  bytes.insert(bytes.end(), scratch_.begin(), scratch_.end());
  // Control messages go at once: a slow welcome is a slow join. The broadcaster's budget for strangers
  // keeps a flash crowd's welcomes from starving the stream.
  const auto size = static_cast<std::uint16_t>(bytes.size() - 1 + wire::session_framing + session::packet_number_size);
  Outgoing out{to, std::move(bytes), nullptr, 0, size};
  out.framed = true;
  send_queue_.enqueue(SendClass::control, std::move(out), now_);
}

}  // namespace p2plive
