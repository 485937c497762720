// A chunk: a signed slice of the MPEG-TS byte stream, at most 25 ms or 16 KiB, starting on a TS packet.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <chrono>
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
// Every hop stores a whole chunk before it checks and forwards it, so a chunk's length in time is paid again
// at each hop. 25 ms keeps that small at low bitrates; above ~5 Mbit/s the 16 KiB bound cuts sooner anyway.
inline constexpr std::chrono::microseconds max_chunk_duration{25'000};
inline constexpr std::size_t ts_packet_size = 188;

struct Chunk {
  // The broadcast session: a random id and the broadcaster's unix time when it began. Every start of a
  // broadcast (OBS's Start, a restart after a crash) is a new epoch whose chunks count from 0 again.
  std::uint64_t epoch = 0;
  std::uint64_t epoch_start_us = 0;
  ChunkSeq seq;
  std::uint64_t timestamp_us = 0;  // broadcaster's unix time when the chunk was cut
  std::uint8_t flags = 0;
  std::vector<std::uint8_t> payload;
  std::array<std::uint8_t, 64> signature{};

  bool is_join_point() const { return (flags & chunk_flags::join_point) != 0; }
};

// The signature covers a domain tag, the stream key, the epoch and its start, seq, timestamp, flags, payload
// length and payload.
void sign_chunk(const SecretKey& key, Chunk& chunk);
bool verify_chunk(const PublicKey& key, const Chunk& chunk);

}  // namespace p2plive
