#include <gtest/gtest.h>

#include "playout/playout.hpp"

namespace p2plive {
namespace {

std::shared_ptr<const Chunk> chunk(std::uint64_t seq, bool join = false) {
  auto c = std::make_shared<Chunk>();
  c->seq = ChunkSeq{seq};
  c->flags = join ? chunk_flags::join_point : 0;
  c->payload = {static_cast<std::uint8_t>(seq)};
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
  EXPECT_EQ(p.start_seq(), 7u);
  EXPECT_EQ(p.stats().chunks_before_start, 2u);
  p.push(chunk(6), Time{0});  // catch-up that came too late to matter is not a late chunk
  EXPECT_EQ(p.stats().chunks_before_start, 3u);
  EXPECT_EQ(p.stats().chunks_late, 0u);
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

TEST(Playout, AMissingSubstreamCostsOneTimeoutNotOneTimeoutPerHole) {
  // Every fourth chunk never comes (a substream tree without a parent). The rest must still play, a
  // gap_timeout behind, rather than three chunks per timeout.
  Playout p(PlayoutConfig{.gap_timeout = 1s});
  std::size_t out = 0;
  for (std::uint64_t seq = 0; seq < 400; ++seq) {
    const auto now = Time{static_cast<std::int64_t>(seq) * 25'000};
    if (seq % 4 != 3) p.push(chunk(seq, seq % 40 == 0), now);
    p.handle_timeout(now);
    out += played(p).size();
  }
  EXPECT_GE(out, 300u - 40u - 1u);  // all but the last second's worth
  EXPECT_LE(p.stats().chunks_missing, 100u);
  EXPECT_GE(p.stats().chunks_missing, 85u);  // the last second's holes are still open
}

TEST(Playout, HolesThatAllOutlivedTheTimeoutAreSkippedAtOnce) {
  Playout p(PlayoutConfig{.gap_timeout = 500ms});
  p.push(chunk(0, true), Time{0});
  p.push(chunk(2), Time{0});
  p.push(chunk(4), Time{0});
  p.push(chunk(6), 100ms);
  EXPECT_EQ(played(p), (std::vector<std::uint64_t>{0}));
  p.handle_timeout(500ms);
  EXPECT_EQ(played(p), (std::vector<std::uint64_t>{2, 4}));  // 6 has waited only 400 ms
  EXPECT_EQ(*p.poll_timeout(), 600ms);
  p.handle_timeout(600ms);
  EXPECT_EQ(played(p), (std::vector<std::uint64_t>{6}));
  EXPECT_EQ(p.stats().chunks_missing, 3u);
}

TEST(Playout, ARestartPlaysTheNewSessionFromItsFirstJoinPoint) {
  Playout p;
  p.push(chunk(500, true), Time{0});
  p.push(chunk(501), Time{0});
  EXPECT_EQ(played(p).size(), 2u);
  p.restart();
  EXPECT_FALSE(p.started());
  p.push(chunk(1), 10ms);
  p.push(chunk(0, true), 10ms);
  p.push(chunk(2), 10ms);
  EXPECT_EQ(played(p), (std::vector<std::uint64_t>{0, 1, 2}));
  EXPECT_EQ(p.stats().restarts, 1u);
  EXPECT_EQ(p.stats().chunks_late, 0u);
  EXPECT_EQ(p.stats().chunks_played, 5u);
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
