#include <gtest/gtest.h>

#include "playout/playout.hpp"

namespace p2plive {
namespace {

Chunk chunk(std::uint64_t seq, bool join = false) {
  Chunk c;
  c.seq = ChunkSeq{seq};
  c.flags = join ? chunk_flags::join_point : 0;
  c.payload = {static_cast<std::uint8_t>(seq)};
  return c;
}

std::vector<std::uint64_t> played(Playout& p) {
  std::vector<std::uint64_t> out;
  while (auto c = p.poll_output()) out.push_back(c->seq.value);
  return out;
}

TEST(Playout, StartsAtTheFirstJoinPoint) {
  Playout p;
  p.push(chunk(5), Time{0});
  p.push(chunk(6), Time{0});
  EXPECT_FALSE(p.started());
  EXPECT_TRUE(played(p).empty());
  p.push(chunk(7, true), Time{0});
  p.push(chunk(8), Time{0});
  EXPECT_EQ(played(p), (std::vector<std::uint64_t>{7, 8}));
}

TEST(Playout, AnEarlierJoinPointThatArrivesLateStillWinsBeforeStart) {
  Playout p;
  p.push(chunk(11), Time{0});
  p.push(chunk(10, true), Time{0});
  EXPECT_EQ(played(p), (std::vector<std::uint64_t>{10, 11}));
}

TEST(Playout, ReordersChunks) {
  Playout p;
  p.push(chunk(1, true), Time{0});
  p.push(chunk(3), Time{0});
  p.push(chunk(2), Time{1000});
  p.push(chunk(4), Time{2000});
  EXPECT_EQ(played(p), (std::vector<std::uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(p.stats().chunks_missing, 0u);
}

TEST(Playout, SkipsAHoleAtTheDeadlineAndCountsItMissing) {
  Playout p(PlayoutConfig{.gap_timeout = 500ms});
  p.push(chunk(1, true), Time{0});
  p.push(chunk(3), 10ms);
  p.push(chunk(4), 20ms);
  EXPECT_EQ(played(p), (std::vector<std::uint64_t>{1}));
  ASSERT_TRUE(p.poll_timeout().has_value());
  EXPECT_EQ(*p.poll_timeout(), 510ms);
  p.handle_timeout(509ms);
  EXPECT_TRUE(played(p).empty());
  p.handle_timeout(510ms);
  EXPECT_EQ(played(p), (std::vector<std::uint64_t>{3, 4}));
  EXPECT_EQ(p.stats().chunks_missing, 1u);
  p.push(chunk(2), 600ms);  // too late now
  EXPECT_TRUE(played(p).empty());
  EXPECT_EQ(p.stats().chunks_late, 1u);
}

TEST(Playout, AFullBufferSkipsAheadWhateverTheHolesAge) {
  Playout p(PlayoutConfig{.gap_timeout = 1h, .max_buffered_chunks = 4});
  p.push(chunk(0, true), Time{0});
  for (std::uint64_t s = 2; s < 8; ++s) p.push(chunk(s), Time{0});
  const auto out = played(p);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.front(), 0u);
  EXPECT_EQ(out.back(), 7u);
}

}  // namespace
}  // namespace p2plive
