// A chunk: a signed slice of the MPEG-TS byte stream, at most ~50 ms or 16 KiB, starting on a TS packet.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "p2plive/key.hpp"

namespace p2plive {

struct ChunkSeq {
  std::uint64_t value = 0;
  friend auto operator<=>(const ChunkSeq&, const ChunkSeq&) = default;
  ChunkSeq next() const { return {value + 1}; }
};

namespace chunk_flags {
inline constexpr std::uint8_t join_point = 0x01;  // starts with PAT/PMT and a video keyframe
inline constexpr std::uint8_t known = join_point;
}  // namespace chunk_flags

inline constexpr std::size_t max_chunk_payload = 16 * 1024;
inline constexpr std::size_t ts_packet_size = 188;

struct Chunk {
  ChunkSeq seq;
  std::uint64_t timestamp_us = 0;  // broadcaster's unix time when the chunk was cut
  std::uint8_t flags = 0;
  std::vector<std::uint8_t> payload;
  std::array<std::uint8_t, 64> signature{};

  bool is_join_point() const { return (flags & chunk_flags::join_point) != 0; }
};

// The signature covers a domain tag, the stream key, seq, timestamp, flags, payload length and payload.
void sign_chunk(const SecretKey& key, Chunk& chunk);
bool verify_chunk(const PublicKey& key, const Chunk& chunk);

}  // namespace p2plive
