#include "p2plive/stats.hpp"

#include <nlohmann/json.hpp>

namespace p2plive {

std::string to_json_line(const Stats& s, std::int64_t unix_ms) {
  const nlohmann::ordered_json j = {
      {"t", unix_ms},
      {"role", s.role},
      {"peers", s.peers},
      {"uploaded_bytes", s.uploaded_bytes},
      {"downloaded_bytes", s.downloaded_bytes},
      {"chunks_published", s.chunks_published},
      {"chunks_received", s.chunks_received},
      {"chunks_late", s.chunks_late},
      {"chunks_missing", s.chunks_missing},
      {"chunks_played", s.chunks_played},
      {"delay_ms_p50", s.delay_ms_p50},
      {"delay_ms_p99", s.delay_ms_p99},
      {"forged_rejected", s.forged_rejected},
      {"malformed_dropped", s.malformed_dropped},
      {"packets_dropped", s.packets_dropped},
      {"bytes_out", s.bytes_out},
      {"send_rate_kbit_s", s.send_rate_kbit_s},
      {"tracker_announces", s.tracker_announces},
      {"tracker_peers", s.tracker_peers},
      {"epoch", s.epoch},
      {"epoch_start_us", s.epoch_start_us},
      {"epochs_started", s.epochs_started},
      {"old_epoch_dropped", s.old_epoch_dropped},
      {"bad_tags", s.bad_tags},
      {"replays", s.replays},
      {"unknown_sessions", s.unknown_sessions},
      {"unsolicited_fragments", s.unsolicited_fragments},
      {"withholders_evicted", s.withholders_evicted},
      {"children", s.children},
      {"parents", s.parents},
      {"requests_sent", s.requests_sent},
      {"requests_served", s.requests_served},
      {"requests_refused", s.requests_refused},
      {"reachability", s.reachability},
      {"external_address", s.external_address},
      {"observed_address", s.observed_address},
      {"symmetric_nat", s.symmetric_nat},
      {"introductions_sent", s.introductions_sent},
      {"introductions_received", s.introductions_received},
      {"introduced_sessions", s.introduced_sessions},
      {"listeners", s.listeners},
      {"listeners_peak", s.listeners_peak},
      {"now_playing", s.now_playing},
      {"dht_nodes", s.dht_nodes},
      {"latest_seq", s.latest_seq},
      {"play_start_seq", s.play_start_seq},
      {"play_next_seq", s.play_next_seq},
      {"chunks_before_start", s.chunks_before_start},
      {"first_frame_ms", s.first_frame_ms},
      {"session_start_delay_ms", s.session_start_delay_ms},
  };
  return j.dump();
}

}  // namespace p2plive
