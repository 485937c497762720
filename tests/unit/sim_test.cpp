// The swarm on a simulated network: generous bounds here; the targets are measured by the benchmark.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "p2plive/simulator.hpp"

namespace p2plive::sim {
namespace {

// Sanitizer builds are ten times slower: they run the same scenarios with at most 60 viewers.
std::size_t scaled(std::size_t viewers) {
  const char* sanitized = std::getenv("P2PLIVE_SANITIZED");
  return sanitized && std::string(sanitized) == "1" ? std::min<std::size_t>(60, viewers) : viewers;
}

Scenario base(std::size_t viewers, Time duration) {
  Scenario s;
  s.viewers = scaled(viewers);
  s.duration = duration;
  s.join_window = 3s;
  s.seed = 11;
  return s;
}

// Small swarms in short runs swing from seed to seed (a few unlucky joins move the whole figure): a
// figure that a test holds a bound to is the median over three seeds. The first is the scenario's own
// seed, so that runs[0] is simulate(s).
std::vector<Report> over_seeds(Scenario s) {
  std::vector<Report> runs;
  for (const std::uint64_t seed : {s.seed, s.seed + 1, s.seed + 2}) {
    s.seed = seed;
    runs.push_back(simulate(s));
  }
  return runs;
}

template <typename Figure>
double median(const std::vector<Report>& runs, Figure figure) {
  std::vector<double> v;
  for (const auto& r : runs) v.push_back(figure(r));
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

TEST(Simulator, OneSeedGivesOneResult) {
  auto s = base(60, 8s);
  s.loss = 0.01;
  s.churn_per_minute = 0.3;
  const auto a = simulate(s), b = simulate(s);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.datagrams, b.datagrams);
  EXPECT_EQ(a.chunks_on_time, b.chunks_on_time);
  EXPECT_EQ(a.delay_ms.percentile(0.5), b.delay_ms.percentile(0.5));
  EXPECT_EQ(a.delay_ms.percentile(0.99), b.delay_ms.percentile(0.99));
  EXPECT_EQ(a.max_hops, b.max_hops);
  s.seed = 12;
  EXPECT_NE(simulate(s).datagrams, a.datagrams);
}

TEST(Simulator, FiveHundredViewersGetTheirChunksAndTheBroadcasterStaysNearTwiceTheBitrate) {
  // Some seeds leave one substream late for a few seconds of the join, even at the broadcaster's own
  // children (its send queue empty): seeds 11–18 give 87–100 % on time, median 99.3 (wire v5: 83–100,
  // median 99.8). The median holds the bound, every run holds the rest.
  const auto runs = over_seeds(base(500, 15s));
  const auto& r = runs[0];
  SCOPED_TRACE(r.to_json());
  EXPECT_EQ(r.viewers_never_joined, 0u);
  EXPECT_GE(r.min_viewer_received, 0.98);
  // The 1 s on-time target is the benchmark's to measure.
  EXPECT_GE(median(runs, [](const Report& x) { return x.on_time_ratio(); }), 0.9);
  EXPECT_LE(r.broadcaster_upload_ratio, 3.0);
  EXPECT_GT(r.max_hops, 1);  // the viewers carry the stream
}

TEST(Simulator, CongestionControlKeepsEveryUplinkFromOverflowing) {
  // No peer is told its uplink; each finds a rate from its neighbours' delay reports. The network model
  // drops a datagram that would queue for more than 500 ms at a link; that must stay rare, even for the 20 %
  // of peers whose uplink is below the bitrate. Measured with seeds 11 to 18: 0.1 to 0.4 % (most of it
  // while the slow peers' rates come down from where every node starts); on time 82 to 100 %, median 99 %.
  const auto runs = over_seeds(base(200, 12s));
  const auto& r = runs[0];
  SCOPED_TRACE(r.to_json());
  EXPECT_GT(r.datagrams, 100'000u);
  EXPECT_LT(r.queue_drops * 40, r.datagrams);
  EXPECT_GE(median(runs, [](const Report& x) { return x.on_time_ratio(); }), 0.9);
}

TEST(Simulator, CongestionControlHoldsACappedLinkNearItsCapWithoutLossExplosions) {
  // The broadcaster's uplink carries 1.5 times the bitrate, and it starts with children owed twice the
  // bitrate. It must find its link and use most of it, shed what the link cannot carry (the children
  // find other parents), and not turn the excess into a standing queue that drops its datagrams.
  // Measured with seeds 11 to 18: 80 to 104 % of the link offered; 0.5 to 11 % of its datagrams dropped,
  // most in the first seconds while it learns the link; a child shed in most runs. What the viewers get
  // is not held here: with seed 11 all of it on time, with most other seeds a fifth to a third (thirty
  // viewers leave little room around a starved root; core/BENCHMARKS.md, "A starved broadcaster").
  auto s = base(30, 25s);
  s.broadcaster_upload = 1.5;
  s.broadcaster_children = 8;
  s.warmup = 10s;  // what counts is where it settles
  const auto runs = over_seeds(s);
  const auto& r = runs[0];
  SCOPED_TRACE(r.to_json());
  const double upload = median(runs, [](const Report& x) { return x.broadcaster_upload_ratio; });
  EXPECT_GE(upload, 0.75 * s.broadcaster_upload);
  // What it sends, counted before its link drops the excess (bounded below): seeds 11–13 offer 1.51 to
  // 1.56 times the bitrate to a link of 1.5.
  EXPECT_LE(upload, 1.1 * s.broadcaster_upload);
  EXPECT_LT(median(runs, [](const Report& x) {
              return static_cast<double>(x.broadcaster_uplink_drops) / static_cast<double>(x.broadcaster_datagrams);
            }),
            0.15);  // sending at twice the link would drop a quarter
  EXPECT_GE(median(runs, [](const Report& x) { return static_cast<double>(x.broadcaster_children_shed); }), 1.0);
}

TEST(Simulator, ViewersRecoverWhenTheirParentsLeave) {
  // Measured with seeds 11 to 13: 98.8 to 99.1 % on time with 200 viewers; with the sanitizers' 60, seed
  // 11 gives 95.9 % (a few unlucky moves in a small tree), 12 and 13 all of it.
  auto s = base(200, 30s);
  s.churn_per_minute = 0.1;
  const auto calm = over_seeds(s);
  SCOPED_TRACE(calm[0].to_json());
  EXPECT_GT(calm[0].viewers_total, s.viewers);  // some left and were replaced
  EXPECT_GE(median(calm, [](const Report& x) { return x.on_time_ratio(); }), 0.98);
  EXPECT_LE(median(calm, [](const Report& x) { return x.max_stall_ms; }), 3000);
  // Ten times the churn still leaves nobody stuck for long.
  s.churn_per_minute = 1.0;
  s.duration = 20s;
  const auto runs = over_seeds(s);
  EXPECT_GE(median(runs, [](const Report& x) { return x.on_time_ratio(); }), 0.9);
  EXPECT_LE(median(runs, [](const Report& x) { return x.max_stall_ms; }), 3000);
}

TEST(Simulator, WithholdingPeersDoNotStopHonestViewers) {
  auto s = base(200, 20s);
  s.withholding_share = 0.2;
  const auto r = simulate(s);
  SCOPED_TRACE(r.to_json());
  EXPECT_EQ(r.viewers_never_joined, 0u);
  // Every honest viewer still gets nearly all of the stream, most of it on time. Measured with seed 11:
  // 93.4 % on time, the worst honest viewer 98.7 % received. Other seeds range from 76.5 % to 99.5 % on
  // time (core/BENCHMARKS.md); the 99 % target is the benchmark's.
  EXPECT_GE(r.on_time_ratio(), 0.9);
  EXPECT_GE(r.min_viewer_received, 0.95);
}

TEST(Simulator, TheFanOutBaselineCostsTheBroadcasterACopyPerViewer) {
  auto s = base(40, 8s);
  s.fan_out = true;
  const auto r = simulate(s);
  // Measured over the whole run, joins included: most of a copy per viewer.
  EXPECT_GE(r.broadcaster_upload_ratio, 0.6 * static_cast<double>(s.viewers));
  EXPECT_GE(r.on_time_ratio(), 0.99);
}

}  // namespace
}  // namespace p2plive::sim

namespace p2plive::sim {
namespace {

// The small swarms that used to break: simulated on one machine's loopback, as the twin benchmark runs them
// against real processes (tests/bench/twin_bench.py).
TEST(SimulatedSmallSwarms, ViewersWhoComeAndGoEachPlayWhatWasPublishedAfterTheirFirstKeyframe) {
  Scenario s;
  s.loopback = true;
  s.bitrate_bps = 1.6e6;
  s.visits = come_and_go(8, 2.3, 4, 12);
  s.duration = s.visits.back().leave + 1s;
  s.seed = 3;
  const auto r = simulate(s);
  SCOPED_TRACE(r.to_json(false, true));
  ASSERT_EQ(r.playback.size(), 9u);
  for (const auto& v : r.playback) {
    EXPECT_GE(v.first_frame_ms, 0);
    EXPECT_LE(v.first_frame_ms, 1000);
    EXPECT_GE(v.played_pct, 95.0);
    EXPECT_GE(v.smooth_pct, 99.0);
  }
  // The broadcaster never starves its one viewer on an open path: its rate stays above the stream's.
  for (std::size_t t = 3; t < r.broadcaster_rate_kbps.size(); ++t) EXPECT_GE(r.broadcaster_rate_kbps[t], 1600) << t << " s";
  EXPECT_EQ(simulate(s).events, r.events);  // seeded: one seed, one run
}

TEST(SimulatedSmallSwarms, ViewersThatStayThroughRestartsPlayEachNewSessionWithinThreeSeconds) {
  Scenario s;
  s.loopback = true;
  s.viewers = 6;
  s.join_window = 1s;
  s.duration = 24s;
  s.restarts = {8s, 16s};  // a Stop/Start, then a crash
  s.seed = 5;
  const auto r = simulate(s);
  SCOPED_TRACE(r.to_json());
  EXPECT_EQ(r.restarts, 2u);
  EXPECT_EQ(r.resume_ms.count(), 2u * s.viewers);
  EXPECT_LE(r.resume_ms.percentile(1.0), 3000);
  EXPECT_GE(r.played_ratio(), 0.97);  // of the last session, from its first keyframe
}

TEST(SimulatedSmallSwarms, FortyViewersWithAThirdKilledKeepPlaying) {
  Scenario s;
  s.loopback = true;
  s.viewers = scaled(40);
  s.join_window = 2s;
  s.duration = 20s;
  s.kill_share = 0.3;
  s.kill_at = 10s;
  s.seed = 7;
  const auto r = simulate(s);
  SCOPED_TRACE(r.to_json());
  EXPECT_GE(r.smooth_ratio(), 0.99);
  EXPECT_GE(r.min_viewer_played_pct, 95.0);
}

// The census: the broadcaster sums its children's subtrees up each tree, and every viewer shows the middle of
// what its parents pass down. Once the crowd is in (and a count has had time to climb and come back down),
// the broadcaster's count and what 90 % of the viewers show stay within 10 % of the viewers there.
TEST(Simulation, EveryViewerShowsAListenerCountWithinTenPercentOfTheTruth) {
  auto s = base(200, 16s);
  const auto r = simulate(s);
  ASSERT_EQ(r.listeners_by_second.size(), 17u);
  for (std::size_t t = 10; t < r.listeners_by_second.size(); ++t) {
    const auto& x = r.listeners_by_second[t];
    ASSERT_EQ(x.truth, s.viewers) << "second " << t;
    const auto within = [&](std::uint32_t v) {
      return std::abs(double(v) - double(x.truth)) <= 0.1 * x.truth;
    };
    EXPECT_TRUE(within(x.broadcaster)) << "second " << t << ": the broadcaster counts " << x.broadcaster;
    EXPECT_TRUE(within(x.viewer_p5) && within(x.viewer_p95))
        << "second " << t << ": viewers show " << x.viewer_p5 << " to " << x.viewer_p95
        << " (5th to 95th percentile)";
    EXPECT_EQ(x.viewers_unknown, 0u) << "second " << t;
  }
}

}  // namespace
}  // namespace p2plive::sim
