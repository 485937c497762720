#include "protocol/session/session_layer.hpp"

#include <algorithm>
#include <cstring>

namespace p2plive::session {
namespace {

MacKey random_key(Crypto& crypto) {
  MacKey k{};
  crypto.random(k);
  return k;
}

constexpr std::size_t retry_size = 3 + 4 + token_size + 32;
// A datagram this small cannot pay for a Retry within the 3x rule.
constexpr std::size_t min_answered_size = (retry_size + 2) / 3;
constexpr std::size_t max_early_body = 256;

}  // namespace

SessionLayer::SessionLayer(SessionConfig config, std::shared_ptr<Crypto> crypto)
    : config_(std::move(config)),
      crypto_(std::move(crypto)),
      retry_prefix_(config_.retry_bytes_per_prefix, config_.retry_bytes_per_prefix, config_.prefix_buckets,
                    random_key(*crypto_)),
      handshake_prefix_(config_.handshakes_per_prefix, config_.handshakes_per_prefix, config_.prefix_buckets,
                        random_key(*crypto_)),
      retry_total_(config_.retry_bytes_total, config_.retry_bytes_total),
      handshake_total_(config_.handshakes_total, config_.handshakes_total) {}

// ---- keys and tokens -------------------------------------------------------------------------------------

void SessionLayer::rotate(Time now) {
  const auto index = static_cast<std::uint32_t>(std::max<std::int64_t>(now / config_.key_period, 0));
  if (have_period_ && index == current_.index) return;
  if (have_period_ && index == current_.index + 1) {
    previous_ = current_;  // its tokens and key stay good for one more period
  } else {
    previous_ = Period{index - 1, random_key(*crypto_), {}};  // nothing was issued under it
  }
  current_ = Period{index, random_key(*crypto_), crypto_->kx_keypair()};
  if (previous_.kx.pk == KxPublic{}) previous_.kx = current_.kx;
  have_period_ = true;
}

const SessionLayer::Period* SessionLayer::period(std::uint32_t index) const {
  if (index == current_.index) return &current_;
  if (index == previous_.index) return &previous_;
  return nullptr;
}

namespace {
std::array<std::uint8_t, 26> token_input(const Endpoint& e, std::uint32_t period, std::uint32_t issued) {
  std::array<std::uint8_t, 26> in{};
  std::copy(e.address.begin(), e.address.end(), in.begin());
  in[16] = static_cast<std::uint8_t>(e.port >> 8);
  in[17] = static_cast<std::uint8_t>(e.port);
  std::memcpy(in.data() + 18, &period, 4);
  std::memcpy(in.data() + 22, &issued, 4);
  return in;
}
}  // namespace

Token SessionLayer::mint_token(const Endpoint& to, Time now) {
  Token t{current_.index, clock32(now), 0};
  t.mac = crypto_->mac(current_.token_key, token_input(to, t.period, t.issued));
  return t;
}

const SessionLayer::Period* SessionLayer::check_token(const Endpoint& from, const Token& t, Time now) const {
  const Period* p = period(t.period);
  if (!p) return nullptr;
  // Issued by us, for this address, in this period or the last one, and not in the future.
  if (static_cast<std::int32_t>(clock32(now) - t.issued) < 0) return nullptr;
  if (crypto_->mac(p->token_key, token_input(from, t.period, t.issued)) != t.mac) return nullptr;
  return p;
}

void SessionLayer::send_retry(const Endpoint& to, Time now) {
  // Stateless, but not free: the bytes it sends are charged to the asker's prefix and to everybody.
  if (!retry_prefix_.take(to, retry_size, now) || !retry_total_.take(retry_size, now)) {
    ++stats_.retries_limited;
    return;
  }
  ++stats_.retries_sent;
  out_.push_back(Transmit{to, encode_retry(config_.stream_tag, Retry{mint_token(to, now), current_.kx.pk})});
}

// ---- inputs ------------------------------------------------------------------------------------------------

std::optional<Inbound> SessionLayer::receive(const Endpoint& from, std::span<const std::uint8_t> datagram, Time now) {
  rotate(now);
  if (is_session_datagram(datagram)) return on_framed(from, datagram, now);
  const auto handshake = decode_handshake(datagram, config_.stream_tag);
  if (!handshake) {
    ++stats_.malformed;
    return std::nullopt;
  }
  if (const auto* initial = std::get_if<Initial>(&*handshake)) return on_initial(from, *initial, now);
  on_retry(from, std::get<Retry>(*handshake), now);
  return std::nullopt;
}

std::optional<Inbound> SessionLayer::on_initial(const Endpoint& from, const Initial& m, Time now) {
  if (!m.token) {
    send_retry(from, now);
    return std::nullopt;
  }
  const Period* p = check_token(from, *m.token, now);
  if (!p) {
    ++stats_.bad_tokens;
    return std::nullopt;
  }
  // From here on the sender has proved it receives datagrams at its address.
  std::optional<Handshake> crossed;
  if (auto h = handshakes_.find(from); h != handshakes_.end()) {
    if (h->second.ours.pk == m.client_key) {  // our own Initial came back: that address is us
      ++stats_.self_connections;
      ids_.erase(h->second.local);
      handshakes_.erase(h);
      events_.push_back(Closed{from, true});
      return std::nullopt;
    }
    // Both sides connecting at once: the lower key's handshake wins, on both sides alike.
    if (h->second.ours.pk < m.client_key) return std::nullopt;
    crossed = std::move(h->second);
    ids_.erase(crossed->local);
    handshakes_.erase(h);
  }
  const auto id = key_id(m.client_key);
  Session* existing = nullptr;
  if (auto s = sessions_.find(from); s != sessions_.end()) {
    existing = &s->second;
    const bool same = existing->client_key_id == id;
    if (!same && now - existing->last_heard < config_.replace_after_silence) {
      ++stats_.replace_refused;  // the session it would replace still speaks: a replay, most likely
      return std::nullopt;
    }
  }
  if (!handshake_prefix_.take(from, 1, now) || !handshake_total_.take(1, now)) {
    ++stats_.handshakes_limited;
    return std::nullopt;
  }
  DirectionKeys keys;
  if (!crypto_->kx_server(p->kx, m.client_key, keys) || crypto_->mac(keys.rx, m.authenticated) != m.tag) {
    ++stats_.bad_tags;
    return std::nullopt;
  }
  const bool repeat = existing && existing->client_key_id == id;  // our Accept was lost: say it again
  Session* s = existing;
  if (!repeat) {
    if (existing) {
      ++stats_.replaced;
      erase_session(from);
    }
    s = open_session(from, now);
    if (!s) return std::nullopt;
    s->remote = m.client_id;
    s->keys = keys;
    s->client_key_id = id;
    ++stats_.handshakes_accepted;
  }
  s->last_heard = now;
  Accept accept{s->local, std::nullopt};
  if (crypto_->can_prove())
    accept.proof = crypto_->prove(proof_transcript(config_.stream_tag, m.client_key, p->kx.pk, m.client_id, s->local));
  const auto body = encode_accept(accept);
  std::vector<std::uint8_t> out;
  seal(from, accept_type, body, out);
  out_.push_back(Transmit{from, std::move(out)});
  if (repeat) return std::nullopt;
  events_.push_back(
      Opened{from, false, Time{static_cast<std::int32_t>(clock32(now) - m.token->issued)}, true});
  // Our own first message, from the handshake that lost the tie, goes in this session instead.
  if (crossed && crossed->early_type != 0) {
    std::vector<std::uint8_t> early;
    if (seal(from, crossed->early_type, crossed->early_body, early)) out_.push_back(Transmit{from, std::move(early)});
  }
  if (m.early_type == 0) return std::nullopt;
  return Inbound{m.early_type, m.early_body, s->local};
}

void SessionLayer::on_retry(const Endpoint& from, const Retry& m, Time now) {
  auto h = handshakes_.find(from);
  if (h == handshakes_.end()) {
    // The peer does not know the session we used (it restarted): handshake again beside it. The old
    // session stays until the new one works, so a forged Retry costs us one Initial and nothing else.
    // (The broadcaster leaves it to the viewer: only the side that answers a handshake proves the stream.)
    auto s = sessions_.find(from);
    if (s == sessions_.end() || crypto_->can_prove() || now - s->second.last_rehandshake < config_.rehandshake_interval ||
        handshakes_.size() >= config_.max_handshakes)
      return;
    s->second.last_rehandshake = now;
    ++stats_.rehandshakes;
    ++stats_.handshakes_started;
    Handshake fresh;
    fresh.peer = from;
    fresh.ours = crypto_->kx_keypair();
    fresh.local = fresh_id();
    ids_[fresh.local] = from;
    h = handshakes_.emplace(from, std::move(fresh)).first;
  } else if (now - h->second.last_retry < config_.handshake_retry / 2) {
    return;  // a burst of Retries (forged, or duplicated) is answered once
  }
  Handshake& hs = h->second;
  hs.last_retry = now;
  hs.token = m.token;
  hs.server_key = m.server_key;
  if (!crypto_->kx_client(hs.ours, hs.server_key, hs.keys)) {
    hs.token.reset();
    return;
  }
  hs.attempts = 0;
  send_initial(hs, now);
}

std::optional<Inbound> SessionLayer::on_framed(const Endpoint& from, std::span<const std::uint8_t> datagram, Time now) {
  const auto f = decode_framed(datagram);
  if (!f) {
    ++stats_.malformed;
    return std::nullopt;
  }
  const auto owner = ids_.find(f->to);
  if (owner == ids_.end() || owner->second != from) {
    ++stats_.unknown_connections;
    // We may have restarted and lost the session: a Retry lets the sender handshake again at once.
    if (datagram.size() >= min_answered_size) send_retry(from, now);
    return std::nullopt;
  }
  if (auto s = sessions_.find(from); s != sessions_.end() && s->second.local == f->to) {
    Session& session = s->second;
    if (crypto_->mac(session.keys.rx, f->authenticated) != f->tag) {
      ++stats_.bad_tags;
      return std::nullopt;
    }
    if (f->packet_number && !fresh_packet(session, *f->packet_number)) {
      ++stats_.replays;
      return std::nullopt;
    }
    session.last_heard = now;
    if (f->type == accept_type) return std::nullopt;  // a repeated Accept
    return Inbound{f->type, f->body, session.local};
  }
  if (auto h = handshakes_.find(from); h != handshakes_.end() && h->second.local == f->to && h->second.token)
    finish_handshake(h->second, *f, now);
  return std::nullopt;
}

void SessionLayer::finish_handshake(Handshake& h, const Framed& f, Time now) {
  if (crypto_->mac(h.keys.rx, f.authenticated) != f.tag) {
    ++stats_.bad_tags;
    return;
  }
  if (f.type != accept_type) return;  // overtook its Accept: the sender says it again
  const auto accept = decode_accept(f.body);
  if (!accept) {
    ++stats_.malformed;
    return;
  }
  bool proven = false;
  if (accept->proof) {
    proven = crypto_->check_proof(
        proof_transcript(config_.stream_tag, h.ours.pk, h.server_key, h.local, accept->server_id), *accept->proof);
    if (!proven) {
      ++stats_.bad_proofs;  // it holds the session keys, and lies about the stream: no session with it
      return;
    }
  }
  const Endpoint peer = h.peer;
  const Handshake done = std::move(h);
  handshakes_.erase(peer);
  if (sessions_.count(peer)) {
    ++stats_.replaced;
    erase_session(peer);
  }
  Session* s = open_session(peer, now);
  if (!s) return;
  ids_.erase(s->local);  // open_session picked an ID; ours was chosen in the handshake
  s->local = done.local;
  ids_[s->local] = peer;
  s->remote = accept->server_id;
  s->keys = done.keys;
  s->client_key_id = key_id(done.ours.pk);
  s->proven = proven;
  if (f.packet_number) fresh_packet(*s, *f.packet_number);
  ++stats_.handshakes_completed;
  events_.push_back(Opened{peer, proven, now - done.sent_at});
}

bool SessionLayer::fresh_packet(Session& s, std::uint32_t packet) {
  if (packet == 0) return false;
  if (packet > s.largest_packet) {
    const auto shift = packet - s.largest_packet;
    s.seen = shift >= 64 ? 1 : (s.seen << shift) | 1;
    s.largest_packet = packet;
    return true;
  }
  const auto back = s.largest_packet - packet;
  if (back >= 64) return false;
  const auto bit = std::uint64_t{1} << back;
  if (s.seen & bit) return false;
  s.seen |= bit;
  return true;
}

// ---- outputs -----------------------------------------------------------------------------------------------

bool SessionLayer::proven(const Endpoint& peer) const {
  const auto s = sessions_.find(peer);
  return s != sessions_.end() && s->second.proven;
}

void SessionLayer::connect(const Endpoint& peer, std::uint8_t type, std::span<const std::uint8_t> body, Time now) {
  rotate(now);
  if (sessions_.count(peer)) return;
  const bool early = type != 0 && body.size() <= max_early_body;
  if (auto h = handshakes_.find(peer); h != handshakes_.end()) {
    if (early) {  // the newest message is the one worth carrying
      h->second.early_type = type;
      h->second.early_body.assign(body.begin(), body.end());
    }
    return;
  }
  if (handshakes_.size() >= config_.max_handshakes) return;
  ++stats_.handshakes_started;
  Handshake h;
  h.peer = peer;
  h.ours = crypto_->kx_keypair();
  h.local = fresh_id();
  if (early) {
    h.early_type = type;
    h.early_body.assign(body.begin(), body.end());
  }
  ids_[h.local] = peer;
  send_initial(handshakes_.emplace(peer, std::move(h)).first->second, now);
}

void SessionLayer::send_initial(Handshake& h, Time now) {
  ++h.attempts;
  h.sent_at = now;
  h.next_send = now + config_.handshake_retry * (1 << std::min<std::uint32_t>(h.attempts - 1, 4));
  if (!h.token) {
    out_.push_back(Transmit{h.peer, encode_token_request(config_.stream_tag)});
    return;
  }
  auto d = encode_initial(config_.stream_tag, *h.token, h.ours.pk, h.local, h.early_type, h.early_body);
  append_tag(d, crypto_->mac(h.keys.tx, d));
  out_.push_back(Transmit{h.peer, std::move(d)});
}

bool SessionLayer::seal(const Endpoint& peer, std::uint8_t type, std::span<const std::uint8_t> body,
                        std::vector<std::uint8_t>& out) {
  const auto it = sessions_.find(peer);
  if (it == sessions_.end()) return false;
  Session& s = it->second;
  std::optional<std::uint32_t> packet;
  if (carries_packet_number(type)) {
    if (s.next_packet == UINT32_MAX) {  // numbers run out (years of control traffic): a new session then
      erase_session(peer);
      events_.push_back(Closed{peer});
      return false;
    }
    packet = s.next_packet++;
  }
  begin_framed(out, s.remote, type, packet);
  out.insert(out.end(), body.begin(), body.end());
  append_tag(out, crypto_->mac(s.keys.tx, out));
  return true;
}

void SessionLayer::close(const Endpoint& peer) {
  erase_session(peer);
  if (auto h = handshakes_.find(peer); h != handshakes_.end()) {
    ids_.erase(h->second.local);
    handshakes_.erase(h);
  }
}

void SessionLayer::handle_timeout(Time now) {
  rotate(now);
  std::vector<Endpoint> failed;
  for (auto& [peer, h] : handshakes_) {
    if (now < h.next_send) continue;
    if (h.attempts >= config_.handshake_attempts) failed.push_back(peer);
    else send_initial(h, now);
  }
  for (const auto& peer : failed) {
    ++stats_.handshakes_failed;
    ids_.erase(handshakes_.at(peer).local);
    handshakes_.erase(peer);
    if (!sessions_.count(peer)) events_.push_back(Closed{peer});
  }
  if (now - last_scan_ < 1s) return;
  last_scan_ = now;
  std::vector<Endpoint> idle;
  for (const auto& [peer, s] : sessions_)
    if (now - s.last_heard > config_.idle_timeout) idle.push_back(peer);
  for (const auto& peer : idle) {
    erase_session(peer);
    events_.push_back(Closed{peer});
  }
}

Time SessionLayer::next_timeout() const {
  Time next = last_scan_ + 1s;
  for (const auto& [peer, h] : handshakes_) next = std::min(next, h.next_send);
  return next;
}

std::optional<Transmit> SessionLayer::poll_transmit() {
  if (out_.empty()) return std::nullopt;
  std::optional<Transmit> t(std::move(out_.front()));
  out_.pop_front();
  return t;
}

std::optional<SessionEvent> SessionLayer::poll_event() {
  if (events_.empty()) return std::nullopt;
  std::optional<SessionEvent> e(std::move(events_.front()));
  events_.pop_front();
  return e;
}

// ---- the table ---------------------------------------------------------------------------------------------

SessionLayer::Session* SessionLayer::open_session(const Endpoint& peer, Time now) {
  if (sessions_.size() >= config_.max_sessions) {
    // Room goes to the newcomer at the cost of the quietest session the swarm does not depend on.
    const Session* quietest = nullptr;
    for (const auto& [e, s] : sessions_)
      if ((!pinned_ || !pinned_(e)) && (!quietest || s.last_heard < quietest->last_heard)) quietest = &s;
    if (!quietest) return nullptr;
    const Endpoint gone = quietest->peer;
    erase_session(gone);
    events_.push_back(Closed{gone});
    ++stats_.evicted;
  }
  Session& s = sessions_[peer];
  s.peer = peer;
  s.local = fresh_id();
  s.last_heard = now;
  ids_[s.local] = peer;
  return &s;
}

void SessionLayer::erase_session(const Endpoint& peer) {
  const auto it = sessions_.find(peer);
  if (it == sessions_.end()) return;
  ids_.erase(it->second.local);
  sessions_.erase(it);
}

ConnectionId SessionLayer::fresh_id() {
  for (;;) {
    std::array<std::uint8_t, sizeof(ConnectionId)> b{};
    crypto_->random(b);
    ConnectionId id = 0;
    std::memcpy(&id, b.data(), sizeof id);
    if (id != 0 && !ids_.count(id)) return id;
  }
}

std::uint64_t SessionLayer::key_id(const KxPublic& key) const {
  std::uint64_t v = 0;
  std::memcpy(&v, key.data(), sizeof v);
  return v;
}

}  // namespace p2plive::session
