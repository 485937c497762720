// Cuts the MPEG-TS byte stream into chunks: at most max_duration of stream or max_chunk_payload bytes,
// always on a 188-byte TS packet boundary, and a new chunk at every join point.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "p2plive/chunk.hpp"

namespace p2plive {

class Chunker {
 public:
  explicit Chunker(std::chrono::microseconds max_duration = max_chunk_duration,
                   std::size_t max_bytes = max_chunk_payload);

  // `media_time` is the stream time of the packet these bytes belong to.
  void append(std::span<const std::uint8_t> bytes, std::chrono::microseconds media_time);
  // Closes the current chunk; the next one starts a join point.
  void mark_join_point();
  // Closes the current chunk if it holds any whole TS packet.
  void flush();

  // Finished chunks, unsigned, with seq set and timestamp_us left for the caller.
  bool has_chunk() const { return !ready_.empty(); }
  Chunk pop_chunk();

 private:
  void close_current();

  std::chrono::microseconds max_duration_;
  std::size_t max_bytes_;
  ChunkSeq next_seq_{0};
  std::vector<std::uint8_t> current_;
  bool pending_join_ = false;
  std::chrono::microseconds current_start_{0};
  std::deque<Chunk> ready_;
};

}  // namespace p2plive
