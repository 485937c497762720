#include "protocol/swarm_config.hpp"

namespace p2plive {

// Only what would make the swarm misbehave rather than merely perform differently: a bound of zero where
// the code divides or waits by it, windows smaller than what they must hold, a tree count the wire
// cannot carry.
std::vector<std::string> SwarmConfig::validate() const {
  std::vector<std::string> problems;
  const auto need = [&](bool ok, const char* what) {
    if (!ok) problems.emplace_back(what);
  };
  need(trees.substreams >= 1 && trees.substreams <= wire::max_substreams, "trees.substreams must be 1 to 16");
  need(membership.max_peers >= 1, "membership.max_peers must be at least 1");
  need(membership.peers_per_message <= wire::max_peers_per_message,
       "membership.peers_per_message must be at most 32");
  need(repair.window_chunks >= trees.substreams, "repair.window_chunks must hold a chunk of every substream");
  need(repair.repair_window_chunks >= 1 && repair.repair_window_chunks <= repair.window_chunks,
       "repair.repair_window_chunks must be 1 to repair.window_chunks");
  need(repair.window_bytes >= max_chunk_payload, "repair.window_bytes must hold a chunk of the largest size");
  need(repair.max_partial_chunks >= 1, "repair.max_partial_chunks must be at least 1");
  need(repair.have_interval > Time{0}, "repair.have_interval must be positive");
  need(tick_interval > Time{0} && housekeeping_interval > Time{0},
       "tick and housekeeping intervals must be positive");
  need(membership.hello_interval > Time{0}, "membership.hello_interval must be positive");
  need(sending.upload_cap_bps >= 0, "sending.upload_cap_bps must not be negative");
  need(sending.max_queued_datagrams >= 1, "sending.max_queued_datagrams must be at least 1");
  need(root.repair_share >= 0 && root.lone_repair_share >= 0 && root.reply_share >= 0,
       "root shares must not be negative");
  return problems;
}

}  // namespace p2plive
