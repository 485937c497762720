#include <cmath>
#include <nlohmann/json.hpp>

#include "p2plive/simulator.hpp"

namespace p2plive::sim {
namespace {

double ms(Time t) { return static_cast<double>(t.count()) / 1000.0; }

nlohmann::ordered_json cdf_json(const Histogram& h) {
  auto points = nlohmann::ordered_json::array();
  for (const auto& [x, y] : h.cdf()) points.push_back({x, y});
  return points;
}

// The census against the truth, from 10 s after the crowd's arrival (a count climbs the trees a map
// interval per hop): the largest and the mean error of the broadcaster's count, and the largest of the
// viewers' 5th and 95th percentiles, in % of the viewers there.
nlohmann::ordered_json listeners_json(const Report& r) {
  const auto settled = std::chrono::duration_cast<std::chrono::seconds>(
      (r.scenario.visits.empty() ? r.scenario.join_window : Time{0}) + 10s);
  double worst = 0, sum = 0, viewer_worst = 0;
  std::size_t seconds = 0, unknown_max = 0;
  auto series = nlohmann::ordered_json::array();
  for (std::size_t t = 0; t < r.listeners_by_second.size(); ++t) {
    const auto& x = r.listeners_by_second[t];
    if (r.listeners_by_second.size() <= 600)
      series.push_back({x.truth, x.broadcaster, x.viewer_p5, x.viewer_p50, x.viewer_p95});
    if (static_cast<std::int64_t>(t) < settled.count() || x.truth == 0) continue;
    const auto error = [&](std::uint32_t v) {
      return 100.0 * std::abs(double(v) - double(x.truth)) / double(x.truth);
    };
    worst = std::max(worst, error(x.broadcaster));
    sum += error(x.broadcaster);
    viewer_worst = std::max({viewer_worst, error(x.viewer_p5), error(x.viewer_p95)});
    unknown_max = std::max<std::size_t>(unknown_max, x.viewers_unknown);
    ++seconds;
  }
  return {{"from_second", settled.count()},
          {"broadcaster_error_pct_max", worst},
          {"broadcaster_error_pct_mean", seconds ? sum / double(seconds) : 0.0},
          {"viewer_p5_p95_error_pct_max", viewer_worst},
          {"viewers_unknown_max", unknown_max},
          {"by_second_truth_broadcaster_p5_p50_p95", series}};
}

}  // namespace

std::string Report::to_json(bool with_cdf, bool with_viewers) const {
  const auto& s = scenario;
  nlohmann::ordered_json j;
  j["scenario"] = {{"viewers", s.viewers},
                   {"duration_s", ms(s.duration) / 1000},
                   {"join_window_s", ms(s.join_window) / 1000},
                   {"churn_per_minute", s.churn_per_minute},
                   {"withholding_share", s.withholding_share},
                   {"bitrate_bps", s.bitrate_bps},
                   {"loss", s.loss},
                   {"share_below_bitrate", s.share_below_bitrate},
                   {"broadcaster_children", s.broadcaster_children},
                   {"broadcaster_upload", s.broadcaster_upload},
                   {"substreams", s.substreams},
                   {"chunk_ms", ms(s.chunk_interval)},
                   {"congestion_control", !s.oracle_caps},
                   {"tracker", s.tracker},
                   {"fan_out", s.fan_out},
                   {"on_time_deadline_ms", ms(s.on_time_deadline)},
                   {"visits", s.visits.size()},
                   {"arrivals_per_second", s.arrivals_per_second},
                   {"mean_watch_s", ms(s.mean_watch) / 1000},
                   {"kill_share", s.kill_share},
                   {"kill_at_s", ms(s.kill_at) / 1000},
                   {"loopback", s.loopback},
                   {"open_share", s.open_share},
                   {"symmetric_share", s.symmetric_share},
                   {"restarts", s.restarts.size()},
                   {"restart_gap_s", ms(s.restart_gap) / 1000},
                   {"seed", s.seed}};
  j["viewers_total"] = viewers_total;
  j["chunks_published"] = chunks_published;
  j["delay_ms_p50"] = delay_ms.percentile(0.50);
  j["delay_ms_p99"] = delay_ms.percentile(0.99);
  j["join_ms_p50"] = join_ms.percentile(0.50);
  j["join_ms_p95"] = join_ms.percentile(0.95);
  j["chunks_on_time"] = on_time_ratio();
  j["viewer_on_time_pct_p1_p10_p50"] = {viewer_on_time_pct.percentile(0.01), viewer_on_time_pct.percentile(0.1),
                                        viewer_on_time_pct.percentile(0.5)};
  auto by_second = nlohmann::ordered_json::array();
  for (std::size_t t = 0; t < expected_by_second.size(); ++t) {
    const auto on_time = t < on_time_by_second.size() ? on_time_by_second[t] : 0;
    by_second.push_back(
        expected_by_second[t]
            ? std::round(1000.0 * static_cast<double>(std::min(on_time, expected_by_second[t])) /
                         static_cast<double>(expected_by_second[t])) /
                  10
            : 100.0);
  }
  j["on_time_pct_by_second"] = by_second;
  j["listeners"] = listeners_json(*this);
  // Playback as players see it (the Playout class), from each viewer's first keyframe.
  j["first_frame_ms_p50"] = first_frame_ms.percentile(0.50);
  j["first_frame_ms_p95"] = first_frame_ms.percentile(0.95);
  j["played"] = played_ratio();
  j["smooth"] = smooth_ratio();
  j["min_viewer_played_pct"] = min_viewer_played_pct;
  j["min_viewer_smooth_pct"] = min_viewer_smooth_pct;
  j["viewer_played_pct_p1_p10_p50"] = {viewer_played_pct.percentile(0.01), viewer_played_pct.percentile(0.1),
                                       viewer_played_pct.percentile(0.5)};
  j["viewers_never_joined"] = viewers_never_joined;
  j["restarts"] = restarts;
  j["rss_mb_by_minute"] = rss_mb_by_minute;
  j["held_by_minute"] = nlohmann::ordered_json::array();
  for (const auto& h : held_by_minute)
    j["held_by_minute"].push_back({{"broadcaster_kib", h.broadcaster_kib}, {"viewer_kib_max", h.viewer_kib_max},
                                   {"broadcaster_peers", h.broadcaster_peers}, {"viewer_peers_max", h.viewer_peers_max},
                                   {"holes_max", h.holes_max}, {"partials_max", h.partials_max}});
  j["resumed"] = resume_ms.count();
  j["resume_ms_p50"] = resume_ms.percentile(0.50);
  j["resume_ms_p95"] = resume_ms.percentile(0.95);
  j["min_viewer_received"] = min_viewer_received;
  j["max_stall_ms"] = max_stall_ms;
  j["broadcaster_upload_ratio"] = broadcaster_upload_ratio;
  j["max_hops"] = max_hops;
  j["hops_p50"] = hops.percentile(0.50);
  j["hops_p99"] = hops.percentile(0.99);
  auto by_hops = nlohmann::ordered_json::array();
  for (std::size_t h = 1; h < delay_sum_ms_by_hops.size(); ++h) {
    const auto n = h + 1 < delay_sum_ms_by_hops.size() ? hops.count_at(static_cast<double>(h)) : hops.count_from(static_cast<double>(h));
    if (n > 0) by_hops.push_back({{"hops", h}, {"share", static_cast<double>(n) / static_cast<double>(hops.count())},
                                  {"delay_ms_mean", delay_sum_ms_by_hops[h] / static_cast<double>(n)}});
  }
  j["delay_by_hops"] = by_hops;
  j["overhead_ratio"] = overhead_ratio;
  j["duplicate_ratio"] = duplicate_ratio;
  j["datagrams"] = datagrams;
  j["queue_drops"] = queue_drops;
  j["uplink_drops"] = uplink_drops;
  j["broadcaster_uplink_drops"] = broadcaster_uplink_drops;
  j["probes_unanswered_by_broadcaster"] = probes_unanswered;
  j["withholders_evicted_by_broadcaster"] = withholders_evicted;
  {
    auto nat = nlohmann::ordered_json::object();
    static constexpr const char* classes[] = {"open", "filtering", "symmetric"};
    for (std::size_t c = 0; c < 3; ++c) {
      if (viewers_by_nat[c] == 0) continue;
      nat[classes[c]] = {{"viewers", viewers_by_nat[c]},
                         {"chunks_on_time", expected_by_nat[c] ? static_cast<double>(on_time_by_nat[c]) /
                                                                     static_cast<double>(expected_by_nat[c])
                                                               : 0.0},
                         {"min_viewer_on_time_pct", min_on_time_pct_by_nat[c]}};
    }
    j["by_nat"] = nat;
    j["nat_dropped"] = nat_dropped;
    j["introductions_followed"] = introductions_followed;
    j["introduced_sessions"] = introduced_sessions;
    // Of the introductions viewers followed, the share that opened a direct session: what libp2p calls a
    // hole punch's success (70 % in its measurements of the real internet).
    j["introduction_success"] = introductions_followed ? static_cast<double>(introduced_sessions) /
                                                             static_cast<double>(introductions_followed)
                                                       : 0.0;
  }
  // Bytes sent per message type, as a share of the media bytes sent: where the overhead goes.
  {
    static constexpr const char* names[] = {"tracker", "hello",   "welcome", "peers",    "fragment",
                                            "have",    "request", "bye",     "report",   "ack",
                                            "accept",  "initial", "retry",   "introduce"};
    const double media = static_cast<double>(bytes_by_type[4]);
    auto shares = nlohmann::ordered_json::object();
    for (std::size_t t = 0; t < bytes_by_type.size(); ++t)
      if (bytes_by_type[t] > 0 && media > 0)
        shares[t < std::size(names) ? names[t] : std::to_string(t)] = 100 * static_cast<double>(bytes_by_type[t]) / media;
    j["bytes_pct_of_fragments_by_type"] = shares;
    // The broadcaster's upload by message type, in bitrates: where its 2x goes.
    auto mine = nlohmann::ordered_json::object();
    const double seconds = ms(scenario.duration) / 1000;
    for (std::size_t t = 0; t < broadcaster_bytes_by_type.size(); ++t)
      if (broadcaster_bytes_by_type[t] > 0)
        mine[t < std::size(names) ? names[t] : std::to_string(t)] =
            static_cast<double>(broadcaster_bytes_by_type[t]) * 8 / seconds / scenario.bitrate_bps;
    j["broadcaster_upload_by_type"] = mine;
  }
  j["children_shed"] = children_shed;
  j["broadcaster_children_shed"] = broadcaster_children_shed;
  j["send_rate_pct_of_uplink_p10_p50_p90"] = {send_rate_share.percentile(0.1), send_rate_share.percentile(0.5),
                                              send_rate_share.percentile(0.9)};
  j["uplink_use_pct_p50_p90_p99"] = {uplink_use.percentile(0.5), uplink_use.percentile(0.9), uplink_use.percentile(0.99)};
  j["events"] = events;
  j["wall_seconds"] = wall_seconds;
  j["peak_rss_mb"] = peak_rss_mb;
  if (with_viewers) {
    auto list = nlohmann::ordered_json::array();
    for (const auto& v : playback)
      list.push_back({{"arrived_s", ms(v.arrived) / 1000}, {"left_s", ms(v.left) / 1000}, {"says_goodbye", v.says_goodbye},
                      {"first_frame_ms", v.first_frame_ms}, {"played_pct", v.played_pct}, {"smooth_pct", v.smooth_pct},
                      {"expected", v.expected}});
    j["viewers"] = list;
    j["broadcaster_rate_kbps"] = broadcaster_rate_kbps;
  }
  if (with_cdf) {
    j["delay_cdf"] = cdf_json(delay_ms);
    j["join_cdf"] = cdf_json(join_ms);
  }
  return j.dump();
}

}  // namespace p2plive::sim
