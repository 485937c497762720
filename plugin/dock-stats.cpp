#include "dock-stats.hpp"

#include <algorithm>

namespace p2plive::plugin {
namespace {
constexpr double drop_warning_s = 10;
constexpr double rate_smoothing = 0.5;  // new rate weight: steady, yet a change shows within 2-3 s
}  // namespace

DockStats StatsTracker::update(const StatsSample& sample, bool encoder_poor) {
  if (last_ && sample.uploaded_bytes >= last_->uploaded_bytes && sample.time_s > last_->time_s) {
    const double kbps = static_cast<double>(sample.uploaded_bytes - last_->uploaded_bytes) * 8.0 / 1000.0 /
                        (sample.time_s - last_->time_s);
    upload_kbps_ = upload_kbps_ == 0 ? kbps : rate_smoothing * kbps + (1 - rate_smoothing) * upload_kbps_;
  }
  if (last_ && sample.packets_dropped > last_->packets_dropped) dropping_until_s_ = sample.time_s + drop_warning_s;
  // A new session restarts its counters.
  if (last_ && sample.uploaded_bytes < last_->uploaded_bytes) upload_kbps_ = 0;
  last_ = sample;

  DockStats stats;
  stats.direct_peers = sample.peers;
  stats.swarm_at_least = sample.listeners > 0 ? sample.listeners : sample.peers;
  stats.listeners_peak = std::max(sample.listeners_peak, stats.swarm_at_least);
  stats.upload_kbps = upload_kbps_;
  if (sample.time_s < dropping_until_s_) {
    stats.health = Health::dropping;
  } else if (encoder_poor) {
    stats.health = Health::slow_joins;
  } else if (sample.peers == 0) {
    stats.health = Health::waiting_for_viewers;
  } else {
    stats.health = Health::good;
  }
  return stats;
}

DockStats StatsTracker::offline() {
  last_.reset();
  upload_kbps_ = 0;
  dropping_until_s_ = 0;
  return {};
}

}  // namespace p2plive::plugin
