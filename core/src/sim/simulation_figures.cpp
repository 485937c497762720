// What each simulated viewer got: delays, hops and chunks on time as the swarm delivers them, and its
// player's share of the stream (the same Playout class the viewer node runs), summed into the report.
#include <algorithm>

#include "sim/playback.hpp"
#include "sim/simulation.hpp"

namespace p2plive::sim {
namespace {

// Runs of up to this many viewers list each one's playback in the report.
constexpr std::size_t max_listed_viewers = 1000;

double ms(Time t) { return static_cast<double>(t.count()) / 1000.0; }

void add_at_second(std::vector<std::uint64_t>& counts, Time t) {
  const auto second = static_cast<std::size_t>(std::max<std::int64_t>(0, t / 1s));
  if (counts.size() <= second) counts.resize(second + 1);
  ++counts[second];
}

}  // namespace

void Simulation::on_verified(std::size_t index, const ChunkVerified& v) {
  auto& p = peers_[index];
  const auto seq = v.chunk->seq.value;
  const auto place = published_index(v.chunk->epoch, seq);
  if (place >= publish_times_.size()) return;  // not a chunk of this run
  const auto published = publish_times_[place];
  const auto delay = now_ - published;
  // Chunks from a viewer's first seconds are its join (measured below), not the swarm's steady delay.
  if (published >= p.joined + s_.warmup) report_.delay_ms.add(ms(delay));
  if (!p.has_joined && v.chunk->is_join_point()) {
    p.has_joined = true;
    report_.join_ms.add(ms(now_ - p.joined));
  }
  const auto from = index_of(v.from);
  const std::uint8_t hops =
      from == broadcaster_index ? 1 : static_cast<std::uint8_t>(std::min(254, peers_[from].hops[place % hop_ring] + 1));
  p.hops[place % hop_ring] = hops;
  report_.max_hops = std::max<int>(report_.max_hops, hops);
  if (published >= p.joined + s_.warmup) {
    report_.hops.add(hops);
    report_.delay_sum_ms_by_hops[std::min<std::size_t>(hops, 16)] += ms(delay);
  }
  if (counts_on_time(p, published)) {
    ++p.received;
    if (delay <= s_.on_time_deadline) {
      ++p.on_time;
      add_at_second(report_.on_time_by_second, published);
    }
  }
  note_progress(p);
  p.playout.push(v.chunk, now_);
  play(p);
}

// The broadcaster started a new session: the viewer's player starts afresh, as the viewer node's does.
void Simulation::on_new_session(SimPeer& p, std::uint64_t epoch) {
  p.playout.restart();
  for (const auto& s : sessions_)
    if (s.epoch == epoch) p.epoch_base = s.base;
}

// What the viewer's player gets now.
void Simulation::play(SimPeer& p) {
  while (p.playout.poll_output()) {
    if (p.first_frame < Time{0}) p.first_frame = now_;
    // After a restart: from the new session's first chunk to the player, as restart_bench.py measures.
    if (p.awaiting_resume >= Time{0} && p.epoch_base == sessions_.back().base) {
      report_.resume_ms.add(ms(now_ - std::max(p.awaiting_resume, publish_times_[std::min(sessions_.back().base, publish_times_.size() - 1)])));
      p.awaiting_resume = Time{-1};
    }
  }
}

// The census against the truth: what the broadcaster counts, and what every viewer shows. (The first
// hour's seconds; the figures' summary is sim_report.cpp's.)
void Simulation::sample_listeners() {
  if (report_.listeners_by_second.size() >= 3600) return;
  Report::ListenerSample sample;
  std::vector<std::uint32_t> shown;
  for (std::size_t i = 0; i < peers_.size(); ++i) {
    const auto& p = peers_[i];
    if (!p.alive || !p.swarm) continue;
    const auto count = p.swarm->listener_count().listeners;
    if (i == broadcaster_index) {
      sample.broadcaster = count;
      continue;
    }
    ++sample.truth;
    if (count == 0)
      ++sample.viewers_unknown;
    else
      shown.push_back(count);
  }
  if (!shown.empty()) {
    std::sort(shown.begin(), shown.end());
    const auto at = [&](double q) {
      return shown[static_cast<std::size_t>(q * static_cast<double>(shown.size() - 1))];
    };
    sample.viewer_p5 = at(0.05);
    sample.viewer_p50 = at(0.5);
    sample.viewer_p95 = at(0.95);
  }
  report_.listeners_by_second.push_back(sample);
}

// A viewer's playback, as tests/bench/twin_bench.py reckons a real one's from its last stats line.
void Simulation::account_playback(SimPeer& p) {
  const Time end = p.left >= Time{0} ? p.left : s_.duration;
  p.playout.handle_timeout(end);
  play(p);
  ViewerPlayback v;
  v.arrived = p.joined;
  v.left = end;
  v.says_goodbye = p.says_goodbye;
  if (p.first_frame >= Time{0}) v.first_frame_ms = ms(p.first_frame - p.joined);
  if (const auto start = p.playout.start_seq()) {
    // The newest chunk of its session published a deadline before it left.
    const auto due = std::upper_bound(publish_times_.begin(), publish_times_.end(), end - s_.on_time_deadline);
    const auto due_place = static_cast<std::uint64_t>(due - publish_times_.begin());
    PlaybackCounts c{*start, *p.playout.next_seq(), p.playout.stats().chunks_missing, 0};
    c.newest_due = due_place > p.epoch_base ? due_place - 1 - p.epoch_base : 0;
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

bool Simulation::counts_on_time(const SimPeer& p, Time published) const {
  const Time end = p.left >= Time{0} ? p.left : s_.duration;
  return published >= p.joined + s_.warmup && published + s_.on_time_deadline <= end;
}

// The gap since this viewer's previous new chunk, once it is past its warm-up.
void Simulation::note_progress(SimPeer& p) {
  if (now_ < p.joined + s_.warmup) return;
  if (p.last_chunk >= Time{0}) p.max_stall = std::max(p.max_stall, now_ - p.last_chunk);
  p.last_chunk = now_;
}

// Adds a viewer's figures to the report, when it leaves or at the end.
void Simulation::account(std::size_t index) {
  auto& p = peers_[index];
  if (index == broadcaster_index) return;
  account_playback(p);
  // The chunks counts_on_time() accepts: published in [joined + warmup, end - deadline], times sorted.
  const Time end = p.left >= Time{0} ? p.left : s_.duration;
  const auto first = std::lower_bound(publish_times_.begin(), publish_times_.end(), p.joined + s_.warmup);
  const auto last = std::upper_bound(first, publish_times_.end(), end - s_.on_time_deadline);
  const auto expected = static_cast<std::uint64_t>(last - first);
  report_.chunks_expected += expected;
  for (auto t = first; t != last; ++t) add_at_second(report_.expected_by_second, *t);
  report_.chunks_on_time += std::min(p.on_time, expected);
  if (expected >= 100) report_.viewer_on_time_pct.add(100.0 * static_cast<double>(std::min(p.on_time, expected)) / static_cast<double>(expected));
  const auto nat = static_cast<std::size_t>(nat_.class_of(index));
  ++report_.viewers_by_nat[nat];
  report_.expected_by_nat[nat] += expected;
  report_.on_time_by_nat[nat] += std::min(p.on_time, expected);
  if (expected >= 100)
    report_.min_on_time_pct_by_nat[nat] =
        std::min(report_.min_on_time_pct_by_nat[nat],
                 100.0 * static_cast<double>(std::min(p.on_time, expected)) / static_cast<double>(expected));
  if (expected >= 100 && !p.withholding) {  // honest viewers that stayed ~5 s past their warm-up
    const double share = static_cast<double>(std::min(p.received, expected)) / static_cast<double>(expected);
    report_.min_viewer_received = std::min(report_.min_viewer_received, share);
  }
  note_progress(p);
  report_.max_stall_ms = std::max(report_.max_stall_ms, ms(p.max_stall));
  if (!p.has_joined && end - p.joined > s_.warmup) ++report_.viewers_never_joined;
}

void Simulation::finish() {
  for (std::size_t i = 2; i < peers_.size(); ++i)
    if (peers_[i].alive) account(i);
  std::uint64_t duplicates = 0, fragments = 0;
  for (std::size_t i = 2; i < peers_.size(); ++i) {
    if (!peers_[i].swarm) continue;
    const auto st = peers_[i].swarm->stats(now_);
    duplicates += st.duplicate_fragments;
    report_.introductions_followed += st.introductions_followed;
    report_.introduced_sessions += st.introduced_sessions;
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
  if (const auto& b = peers_[broadcaster_index].swarm) {
    const auto st = b->stats(now_);
    report_.broadcaster_children_shed = st.children_shed;
    report_.probes_unanswered = st.probes_unanswered;
    report_.withholders_evicted = st.withholders_evicted;
  }
  report_.nat_dropped = nat_.dropped();
  report_.restarts = restarts_done_;
}

}  // namespace p2plive::sim
