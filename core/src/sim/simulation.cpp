// The simulated world: peers that arrive, leave and restart, and the datagrams between them. What each
// viewer got is reckoned in simulation_figures.cpp.
#include "sim/simulation.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "protocol/big_endian.hpp"

namespace p2plive::sim {
namespace {

constexpr std::uint16_t sim_port = 7000;

// Where a datagram's bytes are counted (sim_report.cpp names them): 0 the tracker, 1 to 9 the swarm's
// messages, 10 the session's Accept, 11 and 12 the handshake's Initial and Retry.
std::size_t type_slot(std::span<const std::uint8_t> d) {
  if (const auto type = session::framed_type(d))
    return type == session::accept_type ? 10 : type == wire::type_of(wire::Introduce{}) ? 13 : type & 15;
  return d.size() > 2 && d[2] == session::initial_kind ? 11 : 12;
}

// The simulator's stand-in for Ed25519: a keyed mix of the header and the payload's ends. It still tells a
// genuine chunk from an altered one; it just costs nanoseconds, not tens of microseconds.
std::uint64_t sim_tag(const Chunk& c) {
  std::uint64_t h = 0x9e3779b97f4a7c15ull ^ c.seq.value ^ (c.timestamp_us << 1) ^ (std::uint64_t{c.flags} << 56) ^
                    (c.payload.size() << 32) ^ (c.epoch * 0xff51afd7ed558ccdull) ^ (c.epoch_start_us << 7);
  const std::size_t n = std::min<std::size_t>(8, c.payload.size());
  for (std::size_t i = 0; i < n; ++i) h = (h ^ c.payload[i]) * 0x100000001b3ull;
  for (std::size_t i = c.payload.size() - n; i < c.payload.size(); ++i) h = (h ^ c.payload[i]) * 0x100000001b3ull;
  return h;
}
void sim_sign(Chunk& c) {
  const auto tag = sim_tag(c);
  c.signature.fill(0);
  std::memcpy(c.signature.data(), &tag, sizeof tag);
}
bool sim_verify(const Chunk& c) {
  const auto tag = sim_tag(c);
  return std::memcmp(c.signature.data(), &tag, sizeof tag) == 0;
}

// The process's high-water mark of resident memory (Linux reports ru_maxrss in KiB).
double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// The process's resident memory now (for long runs: does anything grow?).
double rss_mb() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

// On loopback every process shares one machine: links far faster than any stream, and no distance.
LinkProfile loopback_link() { return LinkProfile{.upload_bps = 1e9, .download_bps = 1e9, .one_way_delay = 50us}; }

}  // namespace

// Peer i lives at 10.B.C.A, where A B C are the bytes of i high to low: up to 65,536 peers each have a
// /24 of their own, as viewers from many households do (the session layer budgets strangers per prefix).
Endpoint endpoint_of(std::size_t index) {
  const auto i = static_cast<std::uint32_t>(index);
  return Endpoint::v4(0x0a000000u | ((i & 0xffff) << 8) | ((i >> 16) & 0xff), sim_port);
}
std::size_t index_of(const Endpoint& e) {
  return (std::size_t{e.address[15]} << 16) | (std::size_t{e.address[13]} << 8) | e.address[14];
}

Simulation::Simulation(const Scenario& s)
    : s_(s), rng_(s.seed), network_(NetworkConfig{s.loss, 500ms, s.seed * 7919 + 1}), tracker_(s.seed * 31 + 7) {
  report_.scenario = s;
  payload_size_ = std::min<std::size_t>(
      max_chunk_payload, static_cast<std::size_t>(s.bitrate_bps * static_cast<double>(s.chunk_interval.count()) / 8e6));
  payload_size_ -= payload_size_ % ts_packet_size;
  sessions_.push_back(Session{0x5eed5eed00000001ull, 0, Time{0}});
}

Report Simulation::run() {
  const auto wall_start = std::chrono::steady_clock::now();
  add_broadcaster();
  add_tracker();
  std::uniform_real_distribution<> unit(0, 1);
  if (!s_.visits.empty()) {
    for (const auto& v : s_.visits) add_viewer(v.arrive, v.leave, v.says_goodbye);
  } else {
    for (std::size_t i = 0; i < s_.viewers; ++i) {
      const auto at = Time{static_cast<std::int64_t>(unit(rng_) * static_cast<double>(s_.join_window.count()))};
      add_viewer(at, watch_end(at), rng_() & 1);
    }
  }
  queue_.push(Time{0}, {Event::Kind::publish});
  if (s_.churn_per_minute > 0) queue_.push(1s, {Event::Kind::churn});
  if (s_.arrivals_per_second > 0) queue_.push(next_arrival(), {Event::Kind::arrive});
  if (s_.kill_share > 0) queue_.push(s_.kill_at, {Event::Kind::kill});
  for (const auto at : s_.restarts) queue_.push(at, {Event::Kind::restart});

  Event e;
  Time next_second{0};
  while (queue_.pop(s_.duration, now_, e)) {
    if (now_ >= next_second) {
      if (s_.on_second) s_.on_second(now_, report_.events);
      sample_listeners();
      const auto& b = peers_[broadcaster_index];
      if (report_.broadcaster_rate_kbps.size() < 3600)
        report_.broadcaster_rate_kbps.push_back(b.swarm ? b.swarm->stats(now_).send_rate_bps / 1000 : 0);
      if (now_ % 60s < 1s) {
        report_.rss_mb_by_minute.push_back(rss_mb());
        report_.held_by_minute.push_back(held_now());
      }
      next_second = now_ - now_ % 1s + 1s;
    }
    ++report_.events;
    dispatch(e);
  }
  finish();
  report_.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  report_.peak_rss_mb = peak_rss_mb();
  return std::move(report_);
}

SwarmConfig Simulation::base_config(wire::Role role) {
  SwarmConfig c;
  c.role = role;
  c.rng_seed = rng_();
  c.verify = sim_verify;
  // The very same session state machine, with a keyed hash standing in for X25519 and Ed25519.
  c.crypto = session::cheap_crypto(c.rng_seed ^ 0x5e55, role == wire::Role::broadcaster);
  c.session.prefix_buckets = role == wire::Role::broadcaster ? 1024 : 16;  // 100,000 nodes' memory
  c.repair.window_chunks = 128;                                            // ~6 s: enough for repair
  c.intern = [this](Chunk&& chunk) { return intern(std::move(chunk)); };
  c.trees.substreams = s_.substreams;
  c.sending.congestion_control = !s_.oracle_caps;
  if (s_.tracker) {
    c.trackers = {endpoint_of(tracker_index)};
    c.announce_port = sim_port;
  }
  return c;
}

// A tracker on a server's link, as opentracker would run.
void Simulation::add_tracker() {
  network_.add_peer(LinkProfile{.upload_bps = 100e6, .download_bps = 100e6, .one_way_delay = 10ms});
  peers_.push_back(SimPeer{});
}

SwarmConfig Simulation::broadcaster_config() {
  auto c = base_config(wire::Role::broadcaster);
  c.intern = [this](Chunk&& chunk) {
    auto shared = std::make_shared<const Chunk>(std::move(chunk));
    published_[published_index(shared->epoch, shared->seq.value) % published_ring] = shared;
    return shared;
  };
  // The fan-out baseline is a server with the uplink it needs, paced at it.
  if (s_.oracle_caps || s_.fan_out) {
    c.sending.congestion_control = false;
    c.sending.upload_cap_bps = network_.profile(broadcaster_index).upload_bps * 0.95;
  }
  c.trees.max_children = s_.fan_out ? (s_.viewers + 16) * c.trees.substreams : s_.broadcaster_children;
  if (s_.fan_out) {  // a server answers everyone who asks, with no budget for strangers
    c.root.reply_share = 1;
    c.root.reply_burst = s_.viewers + 16;
  }
  c.membership.max_peers = std::max<std::size_t>(c.membership.max_peers, c.trees.max_children + 16);
  return c;
}

void Simulation::add_broadcaster() {
  LinkProfile link;
  link.upload_bps = s_.bitrate_bps * (s_.fan_out ? static_cast<double>(s_.viewers) * 1.5 : s_.broadcaster_upload);
  link.download_bps = 100e6;
  link.one_way_delay = 5ms;
  if (s_.loopback) link = loopback_link();
  network_.add_peer(link);
  SimPeer b;
  peers_.push_back(std::move(b));
  peers_[broadcaster_index].swarm = std::make_unique<Swarm>(broadcaster_config());
  peers_[broadcaster_index].alive = true;
  arm(broadcaster_index);
}

// A viewer arriving at `at`; `leave` < 0 stays to the end.
void Simulation::add_viewer(Time at, Time leave, bool says_goodbye) {
  const auto index = peers_.size();
  auto link = s_.loopback ? loopback_link() : draw_link(PopulationConfig{s_.bitrate_bps, s_.share_below_bitrate, 0}, rng_);
  network_.add_peer(link);
  SimPeer p;
  p.joined = at;
  p.says_goodbye = says_goodbye;
  p.withholding = std::uniform_real_distribution<>(0, 1)(rng_) < s_.withholding_share;
  // Drawn only when there are NATs, so that runs without them stay the runs they were, seed for seed.
  if (s_.open_share < 1 || s_.symmetric_share > 0) {
    const double u = std::uniform_real_distribution<>(0, 1)(rng_);
    nat_.set_class(index, u < s_.open_share                        ? NatClass::open
                          : u < s_.open_share + s_.symmetric_share ? NatClass::symmetric
                                                                   : NatClass::filtering);
  }
  peers_.push_back(std::move(p));
  ++report_.viewers_total;
  queue_.push(at, {Event::Kind::timer, static_cast<std::uint32_t>(index)});  // its first timer brings it to life
  if (leave >= at) queue_.push(leave, {Event::Kind::leave, static_cast<std::uint32_t>(index)});
}

void Simulation::start_viewer(std::size_t index) {
  auto& p = peers_[index];
  auto c = base_config(wire::Role::viewer);
  c.bootstrap = {endpoint_of(broadcaster_index)};
  // A viewer offers as many children in its home tree as half its upload carries, as an upload cap set
  // by its user would: the other half answers repairs and absorbs bursts. Each child there costs
  // bitrate / k.
  const auto capacity =
      network_.profile(index).upload_bps / s_.bitrate_bps * static_cast<double>(c.trees.substreams);
  c.trees.max_children = s_.fan_out ? 0 : static_cast<std::size_t>(std::clamp(capacity / 2, 0.0, 16.0));
  if (s_.oracle_caps) c.sending.upload_cap_bps = network_.profile(index).upload_bps * 0.95;
  p.swarm = std::make_unique<Swarm>(std::move(c));
  p.alive = true;
}

// Poisson arrivals and exponential watch times (when the scenario asks for them).
Time Simulation::exponential(double mean_us) {
  return Time{static_cast<std::int64_t>(std::exponential_distribution<>(1.0 / mean_us)(rng_))};
}
Time Simulation::next_arrival() { return now_ + exponential(1e6 / s_.arrivals_per_second); }
Time Simulation::watch_end(Time at) {
  return s_.mean_watch > Time{0} ? at + exponential(static_cast<double>(s_.mean_watch.count())) : Time{-1};
}

void Simulation::arrive() {
  add_viewer(now_, watch_end(now_), rng_() & 1);
  queue_.push(next_arrival(), {Event::Kind::arrive});
}

// A viewer leaves, politely (a goodbye to its peers, as Ctrl-C sends) or not (kill -9).
void Simulation::depart(std::size_t index, bool says_goodbye) {
  auto& p = peers_[index];
  if (!p.alive) {
    p.left = now_;  // it had not started yet: it never will
    return;
  }
  if (says_goodbye) {
    p.swarm->close(now_);
    after_input(index);
  }
  leave(index);
}

// A share of the viewers present vanish at once, without a word.
void Simulation::kill() {
  std::vector<std::size_t> alive;
  for (std::size_t i = 2; i < peers_.size(); ++i)
    if (peers_[i].alive) alive.push_back(i);
  std::shuffle(alive.begin(), alive.end(), rng_);
  const auto victims = static_cast<std::size_t>(std::lround(s_.kill_share * static_cast<double>(alive.size())));
  for (std::size_t n = 0; n < victims && n < alive.size(); ++n) depart(alive[n], false);
}

void Simulation::churn() {
  // Each second, replace churn_per_minute / 60 of the viewers: half leave politely, half just vanish.
  const double expected = s_.churn_per_minute * static_cast<double>(s_.viewers) / 60.0;
  auto leaving = static_cast<std::size_t>(expected);
  if (std::uniform_real_distribution<>(0, 1)(rng_) < expected - static_cast<double>(leaving)) ++leaving;
  // The viewers alive now, in index order; a victim leaves the list, and its replacement is not alive yet.
  std::vector<std::size_t> alive;
  if (leaving > 0)
    for (std::size_t i = 1; i < peers_.size(); ++i)
      if (peers_[i].alive && i != broadcaster_index) alive.push_back(i);
  for (std::size_t n = 0; n < leaving; ++n) {
    if (alive.empty()) break;
    const auto pick = alive.begin() + static_cast<std::ptrdiff_t>(rng_() % alive.size());
    const auto victim = *pick;
    alive.erase(pick);
    if (rng_() & 1) {
      peers_[victim].swarm->close(now_);
      after_input(victim);
    }
    leave(victim);
    add_viewer(now_);
  }
  queue_.push(now_ + 1s, {Event::Kind::churn});
}

Report::Held Simulation::held_now() const {
  Report::Held h;
  const auto kib = [](const SwarmStats& st) { return static_cast<double>(st.held_chunk_bytes + st.held_queued_bytes) / 1024; };
  for (std::size_t i = 0; i < peers_.size(); ++i) {
    const auto& p = peers_[i];
    if (!p.alive || !p.swarm) continue;
    const auto st = p.swarm->stats(now_);
    if (i == broadcaster_index) {
      h.broadcaster_kib = kib(st);
      h.broadcaster_peers = st.held_peers;
    } else {
      h.viewer_kib_max = std::max(h.viewer_kib_max, kib(st));
      h.viewer_peers_max = std::max(h.viewer_peers_max, st.held_peers);
    }
    h.holes_max = std::max(h.holes_max, st.held_holes);
    h.partials_max = std::max(h.partials_max, st.held_partials);
  }
  return h;
}

void Simulation::leave(std::size_t index) {
  auto& p = peers_[index];
  p.alive = false;
  p.left = now_;
  account(index);
  p.swarm.reset();
}

// The broadcaster stops (OBS's Stop, with goodbyes) or crashes, and starts again restart_gap later at the
// same address: a new session (epoch) whose chunks count from 0.
void Simulation::restart_broadcaster(bool says_goodbye) {
  auto& b = peers_[broadcaster_index];
  if (!b.alive) return;
  if (says_goodbye) {
    b.swarm->close(now_);
    after_input(broadcaster_index);
  }
  b.alive = false;
  b.swarm.reset();
  broadcasting_ = false;
  queue_.push(now_ + s_.restart_gap, {Event::Kind::resume});
}

void Simulation::resume_broadcaster() {
  auto& b = peers_[broadcaster_index];
  b.swarm = std::make_unique<Swarm>(broadcaster_config());
  b.alive = true;
  b.timer_due = Time{-1};
  sessions_.push_back(Session{sessions_.back().epoch + 1, report_.chunks_published, now_});
  broadcasting_ = true;
  for (std::size_t i = 2; i < peers_.size(); ++i)
    if (peers_[i].alive) peers_[i].awaiting_resume = now_;
  arm(broadcaster_index);
}

std::uint64_t Simulation::published_index(std::uint64_t epoch, std::uint64_t seq) const {
  for (auto it = sessions_.rbegin(); it != sessions_.rend(); ++it)
    if (it->epoch == epoch) return it->base + seq;
  return seq;  // not a session of this run (a forgery): any index, its bytes are checked anyway
}

// A viewer's verified chunk becomes the broadcaster's shared copy when it is the same chunk. Anything else
// (a forgery that got past the cheap check) keeps a copy of its own, as a real node would.
std::shared_ptr<const Chunk> Simulation::intern(Chunk&& c) {
  const auto& original = published_[published_index(c.epoch, c.seq.value) % published_ring];
  if (original && original->epoch == c.epoch && original->seq == c.seq && original->timestamp_us == c.timestamp_us &&
      original->flags == c.flags && original->signature == c.signature && original->payload == c.payload)
    return original;
  return std::make_shared<const Chunk>(std::move(c));
}

void Simulation::dispatch(Event& e) {
  switch (e.kind) {
    case Event::Kind::publish: return publish();
    case Event::Kind::churn: return churn();
    case Event::Kind::arrive: return arrive();
    case Event::Kind::leave: return depart(e.peer, peers_[e.peer].says_goodbye);
    case Event::Kind::kill: return kill();
    case Event::Kind::restart: return restart_broadcaster(restarts_done_++ % 2 == 0);
    case Event::Kind::resume: return resume_broadcaster();
    case Event::Kind::unreachable: {
      auto& p = peers_[e.peer];
      if (!p.alive) return;
      p.swarm->handle_unreachable(endpoint_of(e.from), now_);
      return after_input(e.peer);
    }
    case Event::Kind::timer: {
      auto& p = peers_[e.peer];
      if (!p.alive && p.left < Time{0} && !p.swarm && e.peer != broadcaster_index) start_viewer(e.peer);
      else if (!p.alive || now_ != p.timer_due) return;
      p.swarm->handle_timeout(now_);
      if (e.peer != broadcaster_index) {
        p.playout.handle_timeout(now_);
        play(p);
      }
      return after_input(e.peer);
    }
    case Event::Kind::reach: {
      if (!nat_.admits(e.from, e.peer, now_)) {  // the receiver's home router drops it
        release_datagram(e.datagram);
        return;
      }
      // At the receiver's downlink. A datagram that finds it idle is delivered at once (its last
      // microseconds of serialization are not worth an event); one that must queue waits its turn.
      const auto done = network_.reach(e.peer, datagrams_[e.datagram].size, now_);
      if (!done) {
        release_datagram(e.datagram);
        return;
      }
      if (*done - now_ > 1ms) {
        e.kind = Event::Kind::deliver;
        queue_.push(*done, e);
        return;
      }
      [[fallthrough]];
    }
    case Event::Kind::deliver: {
      if (e.peer == tracker_index) return answer_tracker_request(e);
      auto& p = peers_[e.peer];
      const bool alive = p.alive;
      if (alive) p.swarm->handle_datagram(endpoint_of(e.from), bytes_of(e.datagram), now_);
      release_datagram(e.datagram);
      if (alive) after_input(e.peer);
      return;
    }
  }
}

void Simulation::answer_tracker_request(const Event& e) {
  auto reply = tracker_.handle(endpoint_of(e.from), bytes_of(e.datagram), now_);
  release_datagram(e.datagram);
  if (!reply) return;
  bytes_sent_ += reply->size();
  report_.bytes_by_type[0] += reply->size();
  const auto arrival = network_.send(tracker_index, e.from, reply->size(), now_);
  if (arrival)
    queue_.push(*arrival, {Event::Kind::reach, e.from, static_cast<std::uint32_t>(tracker_index), store_datagram(std::move(*reply))});
}

void Simulation::publish() {
  queue_.push(now_ + s_.chunk_interval, {Event::Kind::publish});
  if (!broadcasting_) return;  // between a stop and the next start
  const auto& session = sessions_.back();
  const auto seq = report_.chunks_published - session.base;
  Chunk c;
  c.epoch = session.epoch;
  c.epoch_start_us = static_cast<std::uint64_t>(session.started.count()) + 1;
  c.seq = ChunkSeq{seq};
  c.timestamp_us = static_cast<std::uint64_t>(now_.count());
  c.flags = seq % static_cast<std::uint64_t>(s_.chunks_per_keyframe) == 0 ? chunk_flags::join_point : 0;
  c.payload.assign(payload_size_, static_cast<std::uint8_t>(report_.chunks_published));
  sim_sign(c);
  publish_times_.push_back(now_);
  ++report_.chunks_published;
  peers_[broadcaster_index].swarm->publish(std::move(c), now_);
  after_input(broadcaster_index);
}

void Simulation::arm(std::size_t index) {
  auto& p = peers_[index];
  const auto due = std::max(p.swarm->poll_timeout(), now_);
  if (due == p.timer_due) return;
  p.timer_due = due;
  queue_.push(due, {Event::Kind::timer, static_cast<std::uint32_t>(index)});
}

void Simulation::after_input(std::size_t index) {
  auto& p = peers_[index];
  while (auto t = p.swarm->poll_transmit(now_)) {
    const auto to = index_of(t->to);
    const bool ours = wire::has_magic(t->bytes);
    const bool is_fragment = session::framed_type(t->bytes) == wire::fragment_type;  // withholders drop these
    if (p.withholding && is_fragment) continue;
    ++report_.datagrams;
    bytes_sent_ += t->bytes.size();
    // Type 0 stands for anything that is not ours: the tracker protocol.
    report_.bytes_by_type[ours ? type_slot(t->bytes) : 0] += t->bytes.size();
    if (is_fragment) fragment_bytes_ += t->bytes.size() - session::fragment_overhead;
    if (index == broadcaster_index) {
      broadcaster_bytes_ += t->bytes.size();
      ++report_.broadcaster_datagrams;
      report_.broadcaster_bytes_by_type[ours ? type_slot(t->bytes) : 0] += t->bytes.size();
    }
    if (to >= peers_.size()) continue;
    nat_.sent(index, to, now_);
    const auto arrival = network_.send(index, to, t->bytes.size(), now_);
    if (!arrival) continue;
    // On one machine a killed process's port answers at once with ICMP port unreachable; across the
    // internet a home router mostly drops such datagrams without a word.
    if (s_.loopback && to != tracker_index && !peers_[to].alive && (peers_[to].left >= Time{0} || to == broadcaster_index)) {
      queue_.push(*arrival + (*arrival - now_), {Event::Kind::unreachable, static_cast<std::uint32_t>(index),
                                                 static_cast<std::uint32_t>(to)});
      continue;
    }
    queue_.push(*arrival, {Event::Kind::reach, static_cast<std::uint32_t>(to), static_cast<std::uint32_t>(index),
                           store_datagram(std::move(t->bytes))});
  }
  while (auto ev = p.swarm->poll_event()) {
    if (auto* verified = std::get_if<ChunkVerified>(&*ev)) on_verified(index, *verified);
    else if (index != broadcaster_index) on_new_session(p, std::get<EpochStarted>(*ev).epoch);
  }
  arm(index);
}

void Simulation::release_datagram(std::uint32_t i) {
  datagrams_[i] = {};
  free_datagrams_.push_back(i);
}

// Most datagrams in flight are fragments of published chunks, exactly as the broadcaster's encoder would
// write them. Those are kept as (chunk, fragment) and encoded again on delivery: at 100,000 peers their
// bytes would otherwise fill gigabytes. Anything else (a forgery, a control message) keeps its bytes.
std::uint32_t Simulation::store_datagram(std::vector<std::uint8_t> bytes) {
  InFlight d;
  d.size = static_cast<std::uint16_t>(bytes.size());
  const auto key = fragment_key(bytes);
  if (const Chunk* chunk = key ? published_fragment_source(*key) : nullptr) {
    d.index = published_index(chunk->epoch, chunk->seq.value);
    d.fragment = key->index;
    d.connection = static_cast<session::ConnectionId>(get_be(bytes, 1, session::connection_id_size));
    d.tag = get_be(bytes, bytes.size() - session::tag_size, 8);
    d.canonical = true;
    canonical_bytes(d, scratch_);
    d.canonical = scratch_ == bytes;
  }
  if (!d.canonical) d.bytes = std::move(bytes);
  if (free_datagrams_.empty()) {
    datagrams_.push_back(std::move(d));
    return static_cast<std::uint32_t>(datagrams_.size() - 1);
  }
  const auto i = free_datagrams_.back();
  free_datagrams_.pop_back();
  datagrams_[i] = std::move(d);
  return i;
}

std::span<const std::uint8_t> Simulation::bytes_of(std::uint32_t i) {
  const auto& d = datagrams_[i];
  if (!d.canonical) return d.bytes;
  canonical_bytes(d, scratch_);
  return scratch_;
}

void Simulation::canonical_bytes(const InFlight& d, std::vector<std::uint8_t>& out) const {
  session::begin_framed(out, d.connection, wire::fragment_type, std::nullopt);
  wire::encode_fragment(*published_[d.index % published_ring], d.fragment, body_scratch_);
  out.insert(out.end(), body_scratch_.begin(), body_scratch_.end());
  session::append_tag(out, d.tag);
}

// The epoch tag, seq and index a session datagram names, if it carries a fragment.
std::optional<wire::FragmentKey> Simulation::fragment_key(const std::vector<std::uint8_t>& bytes) {
  if (bytes.size() < session::fragment_overhead || session::framed_type(bytes) != wire::fragment_type)
    return std::nullopt;
  return wire::peek_fragment(std::span(bytes).subspan(session::session_header_size));
}

// The published chunk a fragment claims to be part of, if it is still in the ring.
const Chunk* Simulation::published_fragment_source(const wire::FragmentKey& key) const {
  const auto seq = key.seq;
  for (auto it = sessions_.rbegin(); it != sessions_.rend(); ++it) {
    if (wire::epoch_tag(it->epoch) != key.epoch) continue;
    const auto& chunk = published_[(it->base + seq) % published_ring];
    return chunk && chunk->epoch == it->epoch && chunk->seq.value == seq ? chunk.get() : nullptr;
  }
  return nullptr;
}

}  // namespace p2plive::sim
