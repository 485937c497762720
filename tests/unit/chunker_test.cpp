#include <gtest/gtest.h>

#include "media/chunker.hpp"

namespace p2plive {
namespace {

using std::chrono::milliseconds;

std::vector<std::uint8_t> ts_packets(std::size_t n, std::uint8_t tag) {
  std::vector<std::uint8_t> v(n * ts_packet_size, tag);
  for (std::size_t i = 0; i < n; ++i) v[i * ts_packet_size] = 0x47;
  return v;
}

std::vector<Chunk> drain(Chunker& c) {
  std::vector<Chunk> out;
  while (c.has_chunk()) out.push_back(c.pop_chunk());
  return out;
}

TEST(Chunker, EveryJoinPointStartsANewFlaggedChunk) {
  Chunker c;
  c.append(ts_packets(3, 1), milliseconds(0));
  c.mark_join_point();
  c.append(ts_packets(2, 2), milliseconds(10));
  c.append(ts_packets(2, 3), milliseconds(20));
  c.mark_join_point();
  c.append(ts_packets(1, 4), milliseconds(30));
  c.flush();
  const auto chunks = drain(c);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_FALSE(chunks[0].is_join_point());
  EXPECT_TRUE(chunks[1].is_join_point());
  EXPECT_EQ(chunks[1].payload[1], 2);  // the keyframe's bytes open the chunk
  EXPECT_EQ(chunks[1].payload.size(), 4 * ts_packet_size);
  EXPECT_TRUE(chunks[2].is_join_point());
  for (std::size_t i = 0; i < chunks.size(); ++i) EXPECT_EQ(chunks[i].seq.value, i);
}

TEST(Chunker, ChunksHoldAtMost25msOfStream) {
  Chunker c;
  for (int t = 0; t <= 100; t += 5) c.append(ts_packets(1, static_cast<std::uint8_t>(t)), milliseconds(t));
  c.flush();
  const auto chunks = drain(c);
  ASSERT_EQ(chunks.size(), 5u);  // 0-20, 25-45, 50-70, 75-95, 100
  for (const auto& chunk : chunks) EXPECT_LE(chunk.payload.size(), 5 * ts_packet_size);
}

TEST(Chunker, ChunksHoldAtMost16KiBInWholeTsPackets) {
  Chunker c;
  c.append(ts_packets(300, 9), milliseconds(0));
  c.flush();
  std::size_t total = 0;
  for (const auto& chunk : drain(c)) {
    EXPECT_LE(chunk.payload.size(), max_chunk_payload);
    EXPECT_EQ(chunk.payload.size() % ts_packet_size, 0u);
    EXPECT_EQ(chunk.payload[0], 0x47);
    total += chunk.payload.size();
  }
  EXPECT_EQ(total, 300 * ts_packet_size);
}

TEST(Chunker, APartialTsPacketWaitsForTheRest) {
  Chunker c;
  auto bytes = ts_packets(2, 5);
  c.append(std::span(bytes).first(300), milliseconds(0));
  c.flush();
  auto chunks = drain(c);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].payload.size(), ts_packet_size);
  c.append(std::span(bytes).subspan(300), milliseconds(1));
  c.flush();
  chunks = drain(c);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].payload.size(), ts_packet_size);
  EXPECT_EQ(chunks[0].payload[0], 0x47);
}

}  // namespace
}  // namespace p2plive
