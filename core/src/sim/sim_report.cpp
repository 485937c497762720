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

}  // namespace

std::string Report::to_json(bool with_cdf) const {
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
                   {"fan_out", s.fan_out},
                   {"on_time_deadline_ms", ms(s.on_time_deadline)},
                   {"seed", s.seed}};
  j["viewers_total"] = viewers_total;
  j["chunks_published"] = chunks_published;
  j["delay_ms_p50"] = delay_ms.percentile(0.50);
  j["delay_ms_p99"] = delay_ms.percentile(0.99);
  j["join_ms_p50"] = join_ms.percentile(0.50);
  j["join_ms_p95"] = join_ms.percentile(0.95);
  j["chunks_on_time"] = on_time_ratio();
  j["viewers_never_joined"] = viewers_never_joined;
  j["min_viewer_received"] = min_viewer_received;
  j["max_stall_ms"] = max_stall_ms;
  j["broadcaster_upload_ratio"] = broadcaster_upload_ratio;
  j["max_hops"] = max_hops;
  j["overhead_ratio"] = overhead_ratio;
  j["duplicate_ratio"] = duplicate_ratio;
  j["datagrams"] = datagrams;
  j["queue_drops"] = queue_drops;
  j["events"] = events;
  j["wall_seconds"] = wall_seconds;
  j["peak_rss_mb"] = peak_rss_mb;
  if (with_cdf) {
    j["delay_cdf"] = cdf_json(delay_ms);
    j["join_cdf"] = cdf_json(join_ms);
  }
  return j.dump();
}

}  // namespace p2plive::sim
