// Muxes encoded packets to MPEG-TS with libavformat, without re-encoding, and reports where each video
// keyframe (with the PAT/PMT in front of it) starts in the byte stream, so chunks can be cut there.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "p2plive/error.hpp"
#include "p2plive/media.hpp"

namespace p2plive {

class TsMuxer {
 public:
  // Every TS byte, in order, in whole 188-byte packets.
  using BytesFn = std::function<void(std::span<const std::uint8_t>)>;
  // Called between two byte runs: the bytes after this call start a join point (PAT, PMT, keyframe).
  // Every video keyframe is one; a stream without video gets one about every second of audio.
  // Both callbacks run inside write() and finish(), on the caller's thread, and must not throw.
  using JoinPointFn = std::function<void()>;

  // `titles`: the program also carries timed ID3 (stream type 0x15), for set_title().
  static Result<std::unique_ptr<TsMuxer>> create(const std::vector<StreamInfo>& streams, BytesFn on_bytes,
                                                 JoinPointFn on_join_point, bool titles = false);
  virtual ~TsMuxer() = default;
  // Packets arrive in decode order across streams. Bad packets are rejected with an error, never a crash.
  virtual std::error_code write(const EncodedPacket& packet) = 0;
  // The track now playing: a timed ID3 tag goes out with the next packet, stamped with its time, and again
  // at every join point, so that a viewer who joins later learns it too. Ignored without `titles`.
  virtual void set_title(std::string_view title) = 0;
  // Writes anything buffered (the trailer); the muxer is finished afterwards.
  virtual void finish() = 0;
};

}  // namespace p2plive
