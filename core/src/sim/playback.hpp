// How much of the stream one viewer's player got, from the numbers its playout keeps. A real viewer's
// --stats line carries the same numbers (play_start_seq, play_next_seq, chunks_missing), and
// tests/bench/twin_bench.py applies this same reckoning to real processes, so that the simulator and
// reality are compared on one definition.
#pragma once

#include <cstdint>

namespace p2plive::sim {

struct PlaybackCounts {
  std::uint64_t start_seq = 0;   // the join point playback started at
  std::uint64_t next_seq = 0;    // the next chunk it would play, when the viewer left
  std::uint64_t missing = 0;     // chunks it skipped
  std::uint64_t newest_due = 0;  // the newest chunk published at least a deadline before the viewer left
};

struct PlaybackShares {
  std::uint64_t expected = 0;  // chunks from start_seq to newest_due
  std::uint64_t played = 0;    // of those, played (a lower bound: every skip counts as one of them)
  std::uint64_t reached = 0;   // chunks playback got past, played or skipped
  double played_pct = 0;
  double smooth_pct = 0;       // of those reached, the share not skipped
};

inline PlaybackShares reckon_playback(const PlaybackCounts& c) {
  PlaybackShares s;
  if (c.newest_due >= c.start_seq) s.expected = c.newest_due - c.start_seq + 1;
  s.reached = c.next_seq > c.start_seq ? c.next_seq - c.start_seq : 0;
  const auto reached_due = c.next_seq > c.start_seq ? (c.next_seq - 1 < c.newest_due ? c.next_seq - 1 : c.newest_due) : 0;
  if (c.next_seq > c.start_seq && reached_due >= c.start_seq) {
    const auto span = reached_due - c.start_seq + 1;
    s.played = span > c.missing ? span - c.missing : 0;
  }
  s.played_pct = s.expected ? 100.0 * static_cast<double>(s.played) / static_cast<double>(s.expected) : 0;
  s.smooth_pct = s.reached ? 100.0 * (1 - static_cast<double>(c.missing) / static_cast<double>(s.reached)) : 0;
  return s;
}

}  // namespace p2plive::sim
