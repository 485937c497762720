// The live MPEG-TS as HTTP clients get it. Every chunk since the latest join point is kept, so a client
// that connects now starts at a keyframe at once instead of waiting up to a keyframe interval. Pure data:
// no sockets, no clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace p2plive::http {

// One chunk's bytes, shared by every client queue and the HLS window instead of copied into each.
using SharedBytes = std::shared_ptr<const std::vector<std::uint8_t>>;

class JoinBuffer {
 public:
  // A stream without keyframes for this long is not buffered: new clients then wait for the next one.
  explicit JoinBuffer(std::size_t max_bytes = 8 * 1024 * 1024) : max_bytes_(max_bytes) {}

  void push(SharedBytes chunk, bool join_point);
  // The chunks from the latest join point on; empty before the first join point (or after an overflow).
  const std::vector<SharedBytes>& since_join_point() const { return chunks_; }
  std::size_t bytes() const { return bytes_; }

 private:
  std::size_t max_bytes_;
  std::vector<SharedBytes> chunks_;
  std::size_t bytes_ = 0;
  bool open_ = false;  // a join point has started the current run
};

}  // namespace p2plive::http
