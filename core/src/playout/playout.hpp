// Puts verified chunks back in order for a player. Playback starts at a join point. No chunk waits behind a
// hole for longer than gap_timeout: once one has, every hole before it is skipped (counted missing). So a
// lost chunk costs at most that much delay once, and a substream that stops arriving altogether still plays
// the rest, a gap_timeout behind, instead of one hole per timeout. Sans-IO, like the swarm: the caller
// passes "now". Chunks are shared with the swarm's store, never copied.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "p2plive/chunk.hpp"
#include "protocol/time.hpp"

namespace p2plive {

struct PlayoutConfig {
  Time gap_timeout = 1s;
  std::size_t max_buffered_chunks = 1024;  // beyond this, skip ahead whatever the hole's age
};

struct PlayoutStats {
  std::uint64_t chunks_played = 0;
  std::uint64_t chunks_missing = 0;       // skipped over, never arrived in time
  std::uint64_t chunks_late = 0;          // arrived after their place was skipped
  std::uint64_t chunks_before_start = 0;  // older than the join point playback started at
  std::uint64_t restarts = 0;             // a new stream session (epoch) began after one had
};

class Playout {
 public:
  Playout() = default;
  explicit Playout(PlayoutConfig config) : config_(config) {}

  void push(std::shared_ptr<const Chunk> chunk, Time now);
  void handle_timeout(Time now);
  std::optional<Time> poll_timeout() const;
  // The next chunk to play, in sequence order; nullptr when none is ready.
  std::shared_ptr<const Chunk> poll_output();
  // The stream started again (a new epoch, numbered from 0): what waits is dropped, and playback starts
  // at the new session's first join point.
  void restart();

  bool started() const { return next_.has_value(); }
  std::optional<std::uint64_t> start_seq() const { return start_; }  // the join point playback began at
  std::optional<std::uint64_t> next_seq() const { return next_; }    // the next chunk to play
  const PlayoutStats& stats() const { return stats_; }

 private:
  struct Waiting {
    std::shared_ptr<const Chunk> chunk;
    Time arrived;
  };
  void release_ready();
  void skip_to(std::uint64_t seq);

  PlayoutConfig config_;
  std::optional<std::uint64_t> start_;
  std::optional<std::uint64_t> next_;
  std::map<std::uint64_t, Waiting> waiting_;  // small: what arrived ahead of a hole
  std::vector<std::shared_ptr<const Chunk>> ready_;  // taken from ready_head_ on (no deque: the simulator
  std::size_t ready_head_ = 0;                         // keeps a Playout for each of 100,000 viewers)
  PlayoutStats stats_;
};

}  // namespace p2plive
