#include "p2plive/simulator.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <memory>
#include <queue>
#include <random>
#include <vector>

#include "protocol/swarm.hpp"
#include "sim/network_model.hpp"

namespace p2plive::sim {
namespace {

constexpr std::size_t broadcaster_index = 0;
constexpr std::uint8_t fragment_type = 4;  // wire type of Fragment: withholding peers drop these
constexpr std::size_t hop_ring = 256;

Endpoint endpoint_of(std::size_t index) { return Endpoint::v4(0x0a000000u + static_cast<std::uint32_t>(index), 7000); }
std::size_t index_of(const Endpoint& e) {
  return (std::size_t{e.address[13]} << 16) | (std::size_t{e.address[14]} << 8) | e.address[15];
}

// The simulator's stand-in for Ed25519: a keyed mix of the header and the payload's ends. It still tells a
// genuine chunk from an altered one; it just costs nanoseconds, not tens of microseconds.
std::uint64_t sim_tag(const Chunk& c) {
  std::uint64_t h = 0x9e3779b97f4a7c15ull ^ c.seq.value ^ (c.timestamp_us << 1) ^ (std::uint64_t{c.flags} << 56) ^
                    (c.payload.size() << 32);
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

struct Event {
  enum class Kind : std::uint8_t { deliver, timer, publish, churn };
  Time at;
  std::uint64_t order;
  Kind kind;
  std::uint32_t peer = 0;
  std::uint32_t from = 0;
  std::vector<std::uint8_t> bytes{};
  bool operator>(const Event& o) const { return at != o.at ? at > o.at : order > o.order; }
};

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
    std::uniform_real_distribution<> unit(0, 1);
    for (std::size_t i = 0; i < s_.viewers; ++i) {
      const auto at = Time{static_cast<std::int64_t>(unit(rng_) * static_cast<double>(s_.join_window.count()))};
      add_viewer(at);
    }
    push({Time{0}, 0, Event::Kind::publish});
    if (s_.churn_per_minute > 0) push({1s, 0, Event::Kind::churn});

    while (!queue_.empty() && queue_.top().at <= s_.duration) {
      Event e = std::move(const_cast<Event&>(queue_.top()));
      queue_.pop();
      now_ = e.at;
      ++report_.events;
      dispatch(e);
    }
    finish();
    report_.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    return std::move(report_);
  }

 private:
  void push(Event e) {
    e.order = order_++;
    queue_.push(std::move(e));
  }

  SwarmConfig base_config(wire::Role role) {
    SwarmConfig c;
    c.role = role;
    c.rng_seed = rng_();
    c.verify = sim_verify;
    c.window_chunks = 128;  // ~6 s: enough for repair, small enough for 100,000 peers in memory
    return c;
  }

  void add_broadcaster() {
    LinkProfile link;
    link.upload_bps = s_.bitrate_bps * (s_.fan_out ? static_cast<double>(s_.viewers) * 1.5 : 4.0);
    link.download_bps = 100e6;
    link.one_way_delay = 5ms;
    network_.add_peer(link);
    auto c = base_config(wire::Role::broadcaster);
    c.upload_cap_bps = link.upload_bps * 0.95;
    c.max_children = s_.fan_out ? s_.viewers + 16 : s_.broadcaster_children;
    c.max_peers = std::max<std::size_t>(c.max_peers, c.max_children + 16);
    peers_.push_back(Peer{std::make_unique<Swarm>(std::move(c)), Time{0}, Time{-1}, true});
    arm(broadcaster_index);
  }

  void add_viewer(Time at) {
    const auto index = peers_.size();
    auto link = draw_link(PopulationConfig{s_.bitrate_bps, s_.share_below_bitrate, 0}, rng_);
    network_.add_peer(link);
    Peer p;
    p.joined = at;
    p.withholding = std::uniform_real_distribution<>(0, 1)(rng_) < s_.withholding_share;
    peers_.push_back(std::move(p));
    ++report_.viewers_total;
    Event e{at, 0, Event::Kind::timer, static_cast<std::uint32_t>(index)};
    push(std::move(e));  // the first timer event brings it to life
  }

  void start_viewer(std::size_t index) {
    auto& p = peers_[index];
    auto c = base_config(wire::Role::viewer);
    c.bootstrap = {endpoint_of(broadcaster_index)};
    // A viewer offers as many children as its upload carries with a quarter to spare (for buffer maps,
    // repair answers and bursts), as an upload cap set by its user would.
    const auto capacity = network_.profile(index).upload_bps / s_.bitrate_bps;
    c.max_children = s_.fan_out ? 0 : static_cast<std::size_t>(std::clamp(capacity / 1.25, 0.0, 4.0));
    c.upload_cap_bps = network_.profile(index).upload_bps * 0.95;
    p.swarm = std::make_unique<Swarm>(std::move(c));
    p.alive = true;
  }

  void dispatch(Event& e) {
    switch (e.kind) {
      case Event::Kind::publish: return publish();
      case Event::Kind::churn: return churn();
      case Event::Kind::timer: {
        auto& p = peers_[e.peer];
        if (!p.alive && p.left < Time{0} && !p.swarm) start_viewer(e.peer);
        else if (!p.alive || e.at != p.timer_due) return;
        p.swarm->handle_timeout(now_);
        return after_input(e.peer);
      }
      case Event::Kind::deliver: {
        auto& p = peers_[e.peer];
        if (!p.alive) return;
        p.swarm->handle_datagram(endpoint_of(e.from), e.bytes, now_);
        return after_input(e.peer);
      }
    }
  }

  void publish() {
    Chunk c;
    c.seq = ChunkSeq{report_.chunks_published};
    c.timestamp_us = static_cast<std::uint64_t>(now_.count());
    c.flags = report_.chunks_published % static_cast<std::uint64_t>(s_.chunks_per_keyframe) == 0 ? chunk_flags::join_point : 0;
    c.payload.assign(payload_size_, static_cast<std::uint8_t>(report_.chunks_published));
    sim_sign(c);
    publish_times_.push_back(now_);
    ++report_.chunks_published;
    peers_[broadcaster_index].swarm->publish(std::move(c), now_);
    after_input(broadcaster_index);
    push({now_ + s_.chunk_interval, 0, Event::Kind::publish});
  }

  void churn() {
    // Each second, replace churn_per_minute / 60 of the viewers: half leave politely, half just vanish.
    const double expected = s_.churn_per_minute * static_cast<double>(s_.viewers) / 60.0;
    auto leaving = static_cast<std::size_t>(expected);
    if (std::uniform_real_distribution<>(0, 1)(rng_) < expected - static_cast<double>(leaving)) ++leaving;
    for (std::size_t n = 0; n < leaving; ++n) {
      std::vector<std::size_t> alive;
      for (std::size_t i = 1; i < peers_.size(); ++i)
        if (peers_[i].alive) alive.push_back(i);
      if (alive.empty()) break;
      const auto victim = alive[rng_() % alive.size()];
      if (rng_() & 1) {
        peers_[victim].swarm->close(now_);
        after_input(victim);
      }
      leave(victim);
      add_viewer(now_);
    }
    push({now_ + 1s, 0, Event::Kind::churn});
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
    push({due, 0, Event::Kind::timer, static_cast<std::uint32_t>(index)});
  }

  void after_input(std::size_t index) {
    auto& p = peers_[index];
    while (auto t = p.swarm->poll_transmit(now_)) {
      const auto to = index_of(t->to);
      const bool is_fragment = t->bytes.size() > 3 && t->bytes[3] == fragment_type;
      if (p.withholding && is_fragment) continue;
      ++report_.datagrams;
      bytes_sent_ += t->bytes.size();
      if (is_fragment) fragment_bytes_ += t->bytes.size() - wire::header_size - wire::fragment_header_size;
      if (index == broadcaster_index) broadcaster_bytes_ += t->bytes.size();
      if (to >= peers_.size()) continue;
      const auto arrival = network_.transmit(index, to, t->bytes.size(), now_);
      if (!arrival) continue;
      push({*arrival, 0, Event::Kind::deliver, static_cast<std::uint32_t>(to), static_cast<std::uint32_t>(index),
            std::move(t->bytes)});
    }
    while (auto ev = p.swarm->poll_event()) on_verified(index, std::get<ChunkVerified>(*ev));
    arm(index);
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
    if (counts_on_time(p, published)) {
      ++p.received;
      if (delay <= s_.on_time_deadline) ++p.on_time;
    }
    note_progress(p);
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
    // The chunks counts_on_time() accepts: published in [joined + warmup, end - deadline], times sorted.
    const Time end = p.left >= Time{0} ? p.left : s_.duration;
    const auto first = std::lower_bound(publish_times_.begin(), publish_times_.end(), p.joined + s_.warmup);
    const auto last = std::upper_bound(first, publish_times_.end(), end - s_.on_time_deadline);
    const auto expected = static_cast<std::uint64_t>(last - first);
    report_.chunks_expected += expected;
    report_.chunks_on_time += std::min(p.on_time, expected);
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
    }
    fragments = fragment_bytes_ / wire::fragment_body_size + 1;
    const double seconds = static_cast<double>(now_.count()) / 1e6;
    report_.broadcaster_upload_ratio = static_cast<double>(broadcaster_bytes_) * 8 / seconds / s_.bitrate_bps;
    const double media_share = static_cast<double>(payload_size_) / static_cast<double>(payload_size_ + 64);
    const double media_bytes = static_cast<double>(fragment_bytes_) * media_share;
    report_.overhead_ratio = media_bytes > 0 ? static_cast<double>(bytes_sent_) / media_bytes - 1 : 0;
    report_.duplicate_ratio = static_cast<double>(duplicates) / static_cast<double>(fragments);
    report_.queue_drops = network_.dropped_by_queue();
  }

  Scenario s_;
  std::mt19937_64 rng_;
  NetworkModel network_;
  Report report_;
  std::size_t payload_size_ = 0;
  std::vector<Peer> peers_;
  std::vector<Time> publish_times_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  std::uint64_t order_ = 0;
  Time now_{0};
  std::uint64_t bytes_sent_ = 0, fragment_bytes_ = 0, broadcaster_bytes_ = 0;
};

}  // namespace

Report simulate(const Scenario& scenario) { return Simulation(scenario).run(); }

}  // namespace p2plive::sim
