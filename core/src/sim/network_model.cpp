#include "sim/network_model.hpp"

#include <algorithm>
#include <cmath>

namespace p2plive::sim {
namespace {

Time serialization(std::size_t bytes, double bps) {
  return Time{static_cast<std::int64_t>(std::ceil(static_cast<double>(bytes) * 8e6 / bps))};
}

}  // namespace

std::size_t NetworkModel::add_peer(const LinkProfile& profile) {
  links_.push_back(Link{profile});
  return links_.size() - 1;
}

std::optional<Time> NetworkModel::send(std::size_t from, std::size_t to, std::size_t bytes, Time now) {
  auto& up = links_[from];
  const Time depart_start = std::max(now, up.up_free_at);
  if (depart_start - now > config_.max_queue_delay) {
    ++up_drops_;
    ++up.up_drops;
    return std::nullopt;
  }
  up.up_free_at = depart_start + serialization(bytes, up.profile.upload_bps);
  if (config_.loss > 0 && std::uniform_real_distribution<>(0, 1)(rng_) < config_.loss) {
    ++losses_;
    return std::nullopt;  // lost after using the uplink, as on a real path
  }
  return up.up_free_at + up.profile.one_way_delay + links_[to].profile.one_way_delay;
}

std::optional<Time> NetworkModel::reach(std::size_t to, std::size_t bytes, Time now) {
  auto& down = links_[to];
  const Time arrive_start = std::max(now, down.down_free_at);
  if (arrive_start - now > config_.max_queue_delay) {
    ++down_drops_;
    return std::nullopt;
  }
  down.down_free_at = arrive_start + serialization(bytes, down.profile.download_bps);
  return down.down_free_at;
}

LinkProfile draw_link(const PopulationConfig& config, std::mt19937_64& rng) {
  std::uniform_real_distribution<> unit(0, 1);
  LinkProfile link;
  // 5-50 ms one way to the core, so a path between two peers has a round trip of 20-200 ms.
  link.one_way_delay = Time{static_cast<std::int64_t>(5'000 + unit(rng) * 45'000)};
  if (unit(rng) < config.share_below_bitrate) {
    link.upload_bps = config.bitrate_bps * (0.2 + 0.7 * unit(rng));  // 0.2-0.9 x bitrate
  } else {
    link.upload_bps = config.bitrate_bps * (1.5 + 6.5 * unit(rng));  // 1.5-8 x bitrate
  }
  link.download_bps = std::max(link.upload_bps * 4, config.bitrate_bps * 3);
  return link;
}

}  // namespace p2plive::sim
