// Live HLS from the verified stream: a segment is cut at every join point (so each one starts with PAT,
// PMT and a keyframe), and only the last few are kept. Pure data: the caller passes the chunks' broadcast
// timestamps, which give the segment durations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "http/live_buffer.hpp"

namespace p2plive::http {

struct HlsConfig {
  std::size_t max_segments = 6;                        // in the playlist, and all that is kept
  std::size_t max_segment_bytes = 16 * 1024 * 1024;    // a longer run without a keyframe is dropped
};

class HlsWindow {
 public:
  explicit HlsWindow(HlsConfig config = {}) : config_(config) {}

  void push(SharedBytes chunk, bool join_point, std::uint64_t timestamp_us);
  // A new broadcast session follows: the segment being cut is dropped, and the next one is marked as a
  // discontinuity (new timestamps, new continuity counters).
  void start_over();
  // The live playlist, or nullopt while no segment is complete.
  std::optional<std::string> playlist() const;
  // A segment's chunks, if it is still in the window.
  const std::vector<SharedBytes>* segment(std::uint64_t index) const;

 private:
  struct Segment {
    std::uint64_t index = 0;
    std::uint64_t start_us = 0;
    double duration_s = 0;
    std::size_t bytes = 0;
    std::vector<SharedBytes> chunks;
  };

  HlsConfig config_;
  std::deque<Segment> done_;
  std::optional<Segment> open_;
  std::uint64_t next_index_ = 0;
  bool discontinuity_after_ = false;  // a dropped run: the next segment does not follow the last one
  std::optional<std::uint64_t> discontinuity_at_;
};

}  // namespace p2plive::http
