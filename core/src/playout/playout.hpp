// Puts verified chunks back in order for a player. Playback starts at a join point; a hole that is still
// open after gap_timeout is skipped, so one lost chunk never stalls the stream for ever. Sans-IO, like the
// swarm: the caller passes "now".
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>

#include "p2plive/chunk.hpp"
#include "protocol/time.hpp"

namespace p2plive {

struct PlayoutConfig {
  Time gap_timeout = 1s;
  std::size_t max_buffered_chunks = 1024;  // beyond this, skip ahead whatever the hole's age
};

struct PlayoutStats {
  std::uint64_t chunks_played = 0;
  std::uint64_t chunks_missing = 0;  // skipped over, never arrived in time
  std::uint64_t chunks_late = 0;     // arrived after being skipped (or before the start)
};

class Playout {
 public:
  explicit Playout(PlayoutConfig config = {}) : config_(config) {}

  void push(Chunk chunk, Time now);
  void handle_timeout(Time now);
  std::optional<Time> poll_timeout() const;
  // The next chunk to play, in sequence order.
  std::optional<Chunk> poll_output();

  bool started() const { return next_.has_value(); }
  const PlayoutStats& stats() const { return stats_; }

 private:
  void release_ready();
  void skip_to(std::uint64_t seq);

  PlayoutConfig config_;
  std::optional<std::uint64_t> next_;
  std::map<std::uint64_t, Chunk> waiting_;
  std::optional<Time> gap_since_;
  std::deque<Chunk> ready_;
  PlayoutStats stats_;
};

}  // namespace p2plive
