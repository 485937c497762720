// What the dock shows about a live broadcast, from the core's once-a-second stats. Pure, so tested alone.
//
// Listeners are the core's census (summed up the push trees, core/PROTOCOL.md "How many listen"), with
// its peak; until the first count arrives the dock shows direct peers as a floor. Health says what limits the
// stream: no viewers, dropped frames (upload too slow for the bitrate), or encoder settings that slow joins.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace p2plive::plugin {

struct StatsSample {
  double time_s = 0;
  std::uint64_t peers = 0;
  std::uint64_t uploaded_bytes = 0;
  std::uint64_t packets_dropped = 0;
  std::uint64_t listeners = 0;  // the census: 0 until the trees have counted
  std::uint64_t listeners_peak = 0;
  std::string reachability;  // the stats fields of the same names (p2plive/stats.hpp)
  std::string external_address;
};

enum class Health { offline, waiting_for_viewers, good, slow_joins, dropping };

struct DockStats {
  std::uint64_t direct_peers = 0;
  std::uint64_t swarm_at_least = 0;  // listeners, or direct peers while no count has come
  std::uint64_t listeners_peak = 0;
  double upload_kbps = 0;
  Health health = Health::offline;
};

class StatsTracker {
 public:
  // `encoder_poor`: the video encoder's keyframe interval or latency is poor for P2P.
  DockStats update(const StatsSample& sample, bool encoder_poor);
  DockStats offline();

 private:
  std::optional<StatsSample> last_;
  double upload_kbps_ = 0;
  double dropping_until_s_ = 0;  // a drop keeps the warning up for a while, so the streamer sees it
};

}  // namespace p2plive::plugin
