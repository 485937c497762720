#include "p2plive/simulator.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "playout/playout.hpp"
#include "protocol/swarm.hpp"
#include "sim/event_queue.hpp"
#include "sim/network_model.hpp"
#include "sim/playback.hpp"
#include "sim/tracker_model.hpp"

namespace p2plive::sim {
namespace {

constexpr std::size_t broadcaster_index = 0;
constexpr std::size_t tracker_index = 1;  // there whether the scenario uses it or not; viewers follow
constexpr std::uint16_t sim_port = 7000;
constexpr std::size_t hop_ring = 256;
// The broadcaster's latest chunks, which every viewer's store shares instead of keeping its own copy. Twice a
// viewer's window: a chunk older than that is no longer repaired, and would just get its own copy.
constexpr std::size_t published_ring = 256;

Endpoint endpoint_of(std::size_t index) { return Endpoint::v4(0x0a000000u + static_cast<std::uint32_t>(index), sim_port); }
std::size_t index_of(const Endpoint& e) {
  return (std::size_t{e.address[13]} << 16) | (std::size_t{e.address[14]} << 8) | e.address[15];
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

// Runs of up to this many viewers list each one's playback in the report.
constexpr std::size_t max_listed_viewers = 1000;

// The process's high-water mark of resident memory (Linux reports ru_maxrss in KiB).
double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

struct Peer {
  std::unique_ptr<Swarm> swarm;
  Time joined{0};
  Time left{-1};
  bool alive = false;
  bool withholding = false;
  Time timer_due{-1};
  bool has_joined = false;  // verified its first join point
  std::uint64_t on_time = 0;
  std::uint64_t received = 0;  // in its measured window, on time or not
  Time last_chunk{-1};
  Time max_stall{0};
  bool says_goodbye = true;  // when it leaves
  Playout playout;           // what its player gets, exactly as the viewer node's
  Time first_frame{-1};
  std::array<std::uint8_t, hop_ring> hops{};
};

class Simulation {
 public:
  explicit Simulation(const Scenario& s)
      : s_(s), rng_(s.seed), network_(NetworkConfig{s.loss, 500ms, s.seed * 7919 + 1}) {
    report_.scenario = s;
    payload_size_ = std::min<std::size_t>(
        max_chunk_payload, static_cast<std::size_t>(s.bitrate_bps * static_cast<double>(s.chunk_interval.count()) / 8e6));
    payload_size_ -= payload_size_ % ts_packet_size;
  }

  Report run() {
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

    Event e;
    Time next_second{0};
    while (queue_.pop(s_.duration, now_, e)) {
      if (now_ >= next_second) {
        if (s_.on_second) s_.on_second(now_, report_.events);
        if (report_.broadcaster_rate_kbps.size() < 3600)
          report_.broadcaster_rate_kbps.push_back(peers_[broadcaster_index].swarm->stats(now_).send_rate_bps / 1000);
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

 private:
  SwarmConfig base_config(wire::Role role) {
    SwarmConfig c;
    c.role = role;
    c.rng_seed = rng_();
    c.verify = sim_verify;
    c.window_chunks = 128;  // ~6 s: enough for repair
    c.intern = [this](Chunk&& chunk) { return intern(std::move(chunk)); };
    c.substreams = s_.substreams;
    c.congestion_control = !s_.oracle_caps;
    if (s_.tracker) {
      c.trackers = {endpoint_of(tracker_index)};
      c.announce_port = sim_port;
    }
    return c;
  }

  // A tracker on a server's link, as opentracker would run.
  void add_tracker() {
    network_.add_peer(LinkProfile{.upload_bps = 100e6, .download_bps = 100e6, .one_way_delay = 10ms});
    peers_.push_back(Peer{});
  }

  void add_broadcaster() {
    LinkProfile link;
    link.upload_bps = s_.bitrate_bps * (s_.fan_out ? static_cast<double>(s_.viewers) * 1.5 : s_.broadcaster_upload);
    link.download_bps = 100e6;
    link.one_way_delay = 5ms;
    if (s_.loopback) link = loopback_link();
    network_.add_peer(link);
    auto c = base_config(wire::Role::broadcaster);
    c.intern = [this](Chunk&& chunk) {
      auto shared = std::make_shared<const Chunk>(std::move(chunk));
      published_[shared->seq.value % published_ring] = shared;
      return shared;
    };
    // The fan-out baseline is a server with the uplink it needs, paced at it.
    if (s_.oracle_caps || s_.fan_out) {
      c.congestion_control = false;
      c.upload_cap_bps = link.upload_bps * 0.95;
    }
    c.max_children = s_.fan_out ? (s_.viewers + 16) * c.substreams : s_.broadcaster_children;
    if (s_.fan_out) {  // a server answers everyone who asks, with no budget for strangers
      c.root_reply_share = 1;
      c.root_reply_burst = s_.viewers + 16;
    }
    c.max_peers = std::max<std::size_t>(c.max_peers, c.max_children + 16);
    Peer b;
    b.swarm = std::make_unique<Swarm>(std::move(c));
    b.alive = true;
    peers_.push_back(std::move(b));
    arm(broadcaster_index);
  }

  // On loopback every process shares one machine: links far faster than any stream, and no distance.
  static LinkProfile loopback_link() { return LinkProfile{.upload_bps = 1e9, .download_bps = 1e9, .one_way_delay = 50us}; }

  // A viewer arriving at `at`; `leave` < 0 stays to the end.
  void add_viewer(Time at, Time leave = Time{-1}, bool says_goodbye = true) {
    const auto index = peers_.size();
    auto link = s_.loopback ? loopback_link() : draw_link(PopulationConfig{s_.bitrate_bps, s_.share_below_bitrate, 0}, rng_);
    network_.add_peer(link);
    Peer p;
    p.joined = at;
    p.says_goodbye = says_goodbye;
    p.withholding = std::uniform_real_distribution<>(0, 1)(rng_) < s_.withholding_share;
    peers_.push_back(std::move(p));
    ++report_.viewers_total;
    queue_.push(at, {Event::Kind::timer, static_cast<std::uint32_t>(index)});  // its first timer brings it to life
    if (leave >= at) queue_.push(leave, {Event::Kind::leave, static_cast<std::uint32_t>(index)});
  }

  // Poisson arrivals and exponential watch times (when the scenario asks for them).
  Time exponential(double mean_us) {
    return Time{static_cast<std::int64_t>(std::exponential_distribution<>(1.0 / mean_us)(rng_))};
  }
  Time next_arrival() { return now_ + exponential(1e6 / s_.arrivals_per_second); }
  Time watch_end(Time at) {
    return s_.mean_watch > Time{0} ? at + exponential(static_cast<double>(s_.mean_watch.count())) : Time{-1};
  }

  void arrive() {
    add_viewer(now_, watch_end(now_), rng_() & 1);
    queue_.push(next_arrival(), {Event::Kind::arrive});
  }

  // A viewer leaves, politely (a goodbye to its peers, as Ctrl-C sends) or not (kill -9).
  void depart(std::size_t index, bool says_goodbye) {
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
  void kill() {
    std::vector<std::size_t> alive;
    for (std::size_t i = 1; i < peers_.size(); ++i)
      if (peers_[i].alive) alive.push_back(i);
    std::shuffle(alive.begin(), alive.end(), rng_);
    const auto victims = static_cast<std::size_t>(std::lround(s_.kill_share * static_cast<double>(alive.size())));
    for (std::size_t n = 0; n < victims && n < alive.size(); ++n) depart(alive[n], false);
  }

  void start_viewer(std::size_t index) {
    auto& p = peers_[index];
    auto c = base_config(wire::Role::viewer);
    c.bootstrap = {endpoint_of(broadcaster_index)};
    // A viewer offers as many children in its home tree as half its upload carries, as an upload cap set
    // by its user would: the other half answers repairs and absorbs bursts. Each child there costs
    // bitrate / k.
    const auto capacity = network_.profile(index).upload_bps / s_.bitrate_bps * static_cast<double>(c.substreams);
    c.max_children = s_.fan_out ? 0 : static_cast<std::size_t>(std::clamp(capacity / 2, 0.0, 16.0));
    if (s_.oracle_caps) c.upload_cap_bps = network_.profile(index).upload_bps * 0.95;
    p.swarm = std::make_unique<Swarm>(std::move(c));
    p.alive = true;
  }

  // A viewer's verified chunk becomes the broadcaster's shared copy when it is the same chunk. Anything else
  // (a forgery that got past the cheap check) keeps a copy of its own, as a real node would.
  std::shared_ptr<const Chunk> intern(Chunk&& c) {
    const auto& original = published_[c.seq.value % published_ring];
    if (original && original->seq == c.seq && original->timestamp_us == c.timestamp_us && original->flags == c.flags &&
        original->signature == c.signature && original->payload == c.payload)
      return original;
    return std::make_shared<const Chunk>(std::move(c));
  }

  void dispatch(Event& e) {
    switch (e.kind) {
      case Event::Kind::publish: return publish();
      case Event::Kind::churn: return churn();
      case Event::Kind::arrive: return arrive();
      case Event::Kind::leave: return depart(e.peer, peers_[e.peer].says_goodbye);
      case Event::Kind::kill: return kill();
      case Event::Kind::unreachable: {
        auto& p = peers_[e.peer];
        if (!p.alive) return;
        p.swarm->handle_unreachable(endpoint_of(e.from), now_);
        return after_input(e.peer);
      }
      case Event::Kind::timer: {
        auto& p = peers_[e.peer];
        if (!p.alive && p.left < Time{0} && !p.swarm) start_viewer(e.peer);
        else if (!p.alive || now_ != p.timer_due) return;
        p.swarm->handle_timeout(now_);
        if (e.peer != broadcaster_index) {
          p.playout.handle_timeout(now_);
          play(p);
        }
        return after_input(e.peer);
      }
      case Event::Kind::reach: {
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

  void answer_tracker_request(const Event& e) {
    auto reply = tracker_.handle(endpoint_of(e.from), bytes_of(e.datagram), now_);
    release_datagram(e.datagram);
    if (!reply) return;
    bytes_sent_ += reply->size();
    report_.bytes_by_type[0] += reply->size();
    const auto arrival = network_.send(tracker_index, e.from, reply->size(), now_);
    if (arrival)
      queue_.push(*arrival, {Event::Kind::reach, e.from, static_cast<std::uint32_t>(tracker_index), store_datagram(std::move(*reply))});
  }

  void publish() {
    Chunk c;
    c.epoch = epoch_;
    c.epoch_start_us = 1;
    c.seq = ChunkSeq{report_.chunks_published};
    c.timestamp_us = static_cast<std::uint64_t>(now_.count());
    c.flags = report_.chunks_published % static_cast<std::uint64_t>(s_.chunks_per_keyframe) == 0 ? chunk_flags::join_point : 0;
    c.payload.assign(payload_size_, static_cast<std::uint8_t>(report_.chunks_published));
    sim_sign(c);
    publish_times_.push_back(now_);
    ++report_.chunks_published;
    peers_[broadcaster_index].swarm->publish(std::move(c), now_);
    after_input(broadcaster_index);
    queue_.push(now_ + s_.chunk_interval, {Event::Kind::publish});
  }

  void churn() {
    // Each second, replace churn_per_minute / 60 of the viewers: half leave politely, half just vanish.
    const double expected = s_.churn_per_minute * static_cast<double>(s_.viewers) / 60.0;
    auto leaving = static_cast<std::size_t>(expected);
    if (std::uniform_real_distribution<>(0, 1)(rng_) < expected - static_cast<double>(leaving)) ++leaving;
    // The viewers alive now, in index order; a victim leaves the list, and its replacement is not alive yet.
    std::vector<std::size_t> alive;
    if (leaving > 0)
      for (std::size_t i = 1; i < peers_.size(); ++i)
        if (peers_[i].alive) alive.push_back(i);
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

  void leave(std::size_t index) {
    auto& p = peers_[index];
    p.alive = false;
    p.left = now_;
    account(index);
    p.swarm.reset();
  }

  void arm(std::size_t index) {
    auto& p = peers_[index];
    const auto due = std::max(p.swarm->poll_timeout(), now_);
    if (due == p.timer_due) return;
    p.timer_due = due;
    queue_.push(due, {Event::Kind::timer, static_cast<std::uint32_t>(index)});
  }

  void after_input(std::size_t index) {
    auto& p = peers_[index];
    while (auto t = p.swarm->poll_transmit(now_)) {
      const auto to = index_of(t->to);
      const bool ours = t->bytes.size() >= wire::header_size && wire::has_magic(t->bytes);
      const bool is_fragment = ours && t->bytes.size() > wire::header_size &&
                               t->bytes[3] == wire::fragment_type;  // withholding peers drop these
      if (p.withholding && is_fragment) continue;
      ++report_.datagrams;
      bytes_sent_ += t->bytes.size();
      // Type 0 stands for anything that is not ours: the tracker protocol.
      report_.bytes_by_type[ours ? t->bytes[3] & 15 : 0] += t->bytes.size();
      if (is_fragment) fragment_bytes_ += t->bytes.size() - wire::header_size - wire::fragment_header_size;
      if (index == broadcaster_index) {
        broadcaster_bytes_ += t->bytes.size();
        ++report_.broadcaster_datagrams;
      }
      if (to >= peers_.size()) continue;
      const auto arrival = network_.send(index, to, t->bytes.size(), now_);
      if (!arrival) continue;
      // On one machine a killed process's port answers at once with ICMP port unreachable; across the
      // internet a home router mostly drops such datagrams without a word.
      if (s_.loopback && to != tracker_index && peers_[to].left >= Time{0}) {
        queue_.push(*arrival + (*arrival - now_), {Event::Kind::unreachable, static_cast<std::uint32_t>(index),
                                                   static_cast<std::uint32_t>(to)});
        continue;
      }
      queue_.push(*arrival, {Event::Kind::reach, static_cast<std::uint32_t>(to), static_cast<std::uint32_t>(index),
                             store_datagram(std::move(t->bytes))});
    }
    while (auto ev = p.swarm->poll_event()) {
      if (auto* verified = std::get_if<ChunkVerified>(&*ev)) on_verified(index, *verified);
      else if (index != broadcaster_index) p.playout.restart();  // a new session (epoch) began
    }
    arm(index);
  }

  void release_datagram(std::uint32_t i) {
    datagrams_[i] = {};
    free_datagrams_.push_back(i);
  }

  // Most datagrams in flight are fragments of published chunks, exactly as the broadcaster's encoder would
  // write them. Those are kept as (seq, index) and encoded again on delivery: at 100,000 peers their bytes
  // would otherwise fill gigabytes. Anything else (a forgery, a control message) keeps its bytes.
  std::uint32_t store_datagram(std::vector<std::uint8_t> bytes) {
    InFlight d;
    d.size = static_cast<std::uint16_t>(bytes.size());
    if (const Chunk* chunk = published_fragment_source(bytes)) {
      d.seq = chunk->seq.value;
      d.index = bytes[wire::header_size + 8];
      wire::encode_fragment(tag_of(bytes), *chunk, d.index, scratch_);
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

  std::span<const std::uint8_t> bytes_of(std::uint32_t i) {
    const auto& d = datagrams_[i];
    if (!d.canonical) return d.bytes;
    wire::encode_fragment(stream_tag_, *published_[d.seq % published_ring], d.index, scratch_);
    return scratch_;
  }

  static wire::StreamTag tag_of(const std::vector<std::uint8_t>& bytes) { return {bytes[4], bytes[5], bytes[6], bytes[7]}; }

  // The published chunk a fragment datagram claims to be part of, if it is still in the ring.
  const Chunk* published_fragment_source(const std::vector<std::uint8_t>& bytes) const {
    if (bytes.size() < wire::header_size + wire::fragment_header_size || bytes[3] != wire::fragment_type ||
        tag_of(bytes) != stream_tag_)
      return nullptr;
    const auto seq = wire::peek_fragment_seq(bytes).value_or(0);
    const auto& chunk = published_[seq % published_ring];
    return chunk && chunk->seq.value == seq ? chunk.get() : nullptr;
  }

  void on_verified(std::size_t index, const ChunkVerified& v) {
    auto& p = peers_[index];
    const auto seq = v.chunk->seq.value;
    const auto published = publish_times_[seq];
    const auto delay = now_ - published;
    // Chunks from a viewer's first seconds are its join (measured below), not the swarm's steady delay.
    if (published >= p.joined + s_.warmup) report_.delay_ms.add(static_cast<double>(delay.count()) / 1000.0);
    if (!p.has_joined && v.chunk->is_join_point()) {
      p.has_joined = true;
      report_.join_ms.add(static_cast<double>((now_ - p.joined).count()) / 1000.0);
    }
    const auto from = index_of(v.from);
    const std::uint8_t hops =
        from == broadcaster_index ? 1 : static_cast<std::uint8_t>(std::min(254, peers_[from].hops[seq % hop_ring] + 1));
    p.hops[seq % hop_ring] = hops;
    report_.max_hops = std::max<int>(report_.max_hops, hops);
    if (published >= p.joined + s_.warmup) {
      report_.hops.add(hops);
      report_.delay_sum_ms_by_hops[std::min<std::size_t>(hops, 16)] += static_cast<double>(delay.count()) / 1000.0;
    }
    if (counts_on_time(p, published)) {
      ++p.received;
      if (delay <= s_.on_time_deadline) ++p.on_time;
    }
    note_progress(p);
    p.playout.push(v.chunk, now_);
    play(p);
  }

  // What the viewer's player gets now.
  void play(Peer& p) {
    while (p.playout.poll_output())
      if (p.first_frame < Time{0}) p.first_frame = now_;
  }

  // A viewer's playback, as tests/bench/twin_bench.py reckons a real one's from its last stats line.
  void account_playback(Peer& p) {
    const Time end = p.left >= Time{0} ? p.left : s_.duration;
    p.playout.handle_timeout(end);
    play(p);
    ViewerPlayback v;
    v.arrived = p.joined;
    v.left = end;
    v.says_goodbye = p.says_goodbye;
    if (p.first_frame >= Time{0}) v.first_frame_ms = static_cast<double>((p.first_frame - p.joined).count()) / 1000.0;
    if (const auto start = p.playout.start_seq()) {
      const auto due = std::upper_bound(publish_times_.begin(), publish_times_.end(), end - s_.on_time_deadline);
      PlaybackCounts c{*start, *p.playout.next_seq(), p.playout.stats().chunks_missing, 0};
      c.newest_due = due == publish_times_.begin() ? 0 : static_cast<std::uint64_t>(due - publish_times_.begin()) - 1;
      const auto shares = reckon_playback(c);
      v.played_pct = shares.played_pct;
      v.smooth_pct = shares.smooth_pct;
      v.expected = shares.expected;
      report_.playout_expected += shares.expected;
      report_.playout_played += shares.played;
      report_.playout_reached += shares.reached;
      report_.playout_skipped += c.missing;
    } else if (end - p.joined > s_.warmup) {
      v.expected = 1;  // it watched long enough to have started, and never did
    }
    if (v.first_frame_ms >= 0) report_.first_frame_ms.add(v.first_frame_ms);
    // Two seconds of stream (80 chunks of 25 ms) make a share worth judging.
    if (v.expected * static_cast<std::uint64_t>(s_.chunk_interval.count()) >= 2'000'000 || v.first_frame_ms < 0) {
      report_.viewer_played_pct.add(v.played_pct);
      report_.viewer_smooth_pct.add(v.smooth_pct);
      if (!p.withholding) {
        report_.min_viewer_played_pct = std::min(report_.min_viewer_played_pct, v.played_pct);
        report_.min_viewer_smooth_pct = std::min(report_.min_viewer_smooth_pct, v.first_frame_ms < 0 ? 0 : v.smooth_pct);
      }
    }
    if (report_.playback.size() < max_listed_viewers) report_.playback.push_back(v);
  }

  bool counts_on_time(const Peer& p, Time published) const {
    const Time end = p.left >= Time{0} ? p.left : s_.duration;
    return published >= p.joined + s_.warmup && published + s_.on_time_deadline <= end;
  }

  // The gap since this viewer's previous new chunk, once it is past its warm-up.
  void note_progress(Peer& p) {
    if (now_ < p.joined + s_.warmup) return;
    if (p.last_chunk >= Time{0}) p.max_stall = std::max(p.max_stall, now_ - p.last_chunk);
    p.last_chunk = now_;
  }

  // Adds a viewer's figures to the report, when it leaves or at the end.
  void account(std::size_t index) {
    auto& p = peers_[index];
    if (index == broadcaster_index) return;
    account_playback(p);
    // The chunks counts_on_time() accepts: published in [joined + warmup, end - deadline], times sorted.
    const Time end = p.left >= Time{0} ? p.left : s_.duration;
    const auto first = std::lower_bound(publish_times_.begin(), publish_times_.end(), p.joined + s_.warmup);
    const auto last = std::upper_bound(first, publish_times_.end(), end - s_.on_time_deadline);
    const auto expected = static_cast<std::uint64_t>(last - first);
    report_.chunks_expected += expected;
    report_.chunks_on_time += std::min(p.on_time, expected);
    if (expected >= 100) report_.viewer_on_time_pct.add(100.0 * static_cast<double>(std::min(p.on_time, expected)) / static_cast<double>(expected));
    if (expected >= 100 && !p.withholding) {  // honest viewers that stayed ~5 s past their warm-up
      const double share = static_cast<double>(std::min(p.received, expected)) / static_cast<double>(expected);
      report_.min_viewer_received = std::min(report_.min_viewer_received, share);
    }
    note_progress(p);
    report_.max_stall_ms = std::max(report_.max_stall_ms, static_cast<double>(p.max_stall.count()) / 1000.0);
    if (!p.has_joined && (p.left >= Time{0} ? p.left : s_.duration) - p.joined > s_.warmup) ++report_.viewers_never_joined;
  }

  void finish() {
    for (std::size_t i = 1; i < peers_.size(); ++i)
      if (peers_[i].alive) account(i);
    std::uint64_t duplicates = 0, fragments = 0;
    for (std::size_t i = 1; i < peers_.size(); ++i) {
      if (!peers_[i].swarm) continue;
      const auto st = peers_[i].swarm->stats(now_);
      duplicates += st.duplicate_fragments;
      report_.children_shed += st.children_shed;
      const double uplink = network_.profile(i).upload_bps;
      if (st.send_rate_bps > 0) report_.send_rate_share.add(100 * st.send_rate_bps / uplink);
      const double lived = static_cast<double>((now_ - peers_[i].joined).count()) / 1e6;
      if (lived > 0) report_.uplink_use.add(100 * static_cast<double>(st.uploaded_bytes) * 8 / lived / uplink);
    }
    fragments = fragment_bytes_ / wire::fragment_body_size + 1;
    const double seconds = static_cast<double>(now_.count()) / 1e6;
    report_.broadcaster_upload_ratio = static_cast<double>(broadcaster_bytes_) * 8 / seconds / s_.bitrate_bps;
    const double media_share = static_cast<double>(payload_size_) / static_cast<double>(wire::chunk_body_size(payload_size_));
    const double media_bytes = static_cast<double>(fragment_bytes_) * media_share;
    report_.overhead_ratio = media_bytes > 0 ? static_cast<double>(bytes_sent_) / media_bytes - 1 : 0;
    report_.duplicate_ratio = static_cast<double>(duplicates) / static_cast<double>(fragments);
    report_.queue_drops = network_.dropped_by_queue();
    report_.uplink_drops = network_.dropped_at_uplinks();
    report_.broadcaster_uplink_drops = network_.dropped_at_uplink(broadcaster_index);
    report_.broadcaster_children_shed = peers_[broadcaster_index].swarm->stats(now_).children_shed;
    report_.probes_unanswered = peers_[broadcaster_index].swarm->stats(now_).probes_unanswered;
    report_.withholders_evicted = peers_[broadcaster_index].swarm->stats(now_).withholders_evicted;
  }

  Scenario s_;
  std::mt19937_64 rng_;
  NetworkModel network_;
  TrackerModel tracker_{s_.seed * 31 + 7};
  Report report_;
  std::size_t payload_size_ = 0;
  std::vector<Peer> peers_;
  std::vector<Time> publish_times_;
  std::vector<std::shared_ptr<const Chunk>> published_ = std::vector<std::shared_ptr<const Chunk>>(published_ring);
  EventQueue queue_;
  struct InFlight {
    std::vector<std::uint8_t> bytes;  // empty when canonical
    std::uint64_t seq = 0;
    std::uint16_t size = 0;
    std::uint8_t index = 0;
    bool canonical = false;  // a published chunk's fragment, as its encoder writes it
  };
  std::vector<InFlight> datagrams_;  // the payloads of pending deliveries
  std::vector<std::uint8_t> scratch_;
  const wire::StreamTag stream_tag_ = wire::stream_tag(PublicKey{});
  std::vector<std::uint32_t> free_datagrams_;
  Time now_{0};
  std::uint64_t epoch_ = 0x5eed5eed00000001ull;  // the broadcast session
  std::uint64_t bytes_sent_ = 0, fragment_bytes_ = 0, broadcaster_bytes_ = 0;
};

}  // namespace

Report simulate(const Scenario& scenario) { return Simulation(scenario).run(); }

std::vector<Visit> come_and_go(std::size_t viewers, double first_s, double watch_s, double final_watch_s) {
  const auto at = [](double s) { return Time{static_cast<std::int64_t>(s * 1e6)}; };
  std::vector<Visit> visits;
  for (std::size_t i = 0; i < viewers; ++i) {
    const double arrive = first_s + static_cast<double>(i) * watch_s;
    visits.push_back(Visit{at(arrive), at(arrive + watch_s), i % 2 == 1});
  }
  const double last = first_s + static_cast<double>(viewers) * watch_s;
  visits.push_back(Visit{at(last), at(last + final_watch_s), true});
  return visits;
}

}  // namespace p2plive::sim
