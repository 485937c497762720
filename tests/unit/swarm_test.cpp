#include <gtest/gtest.h>

#include <map>
#include <set>

#include "swarm_fixture.hpp"

namespace p2plive {
namespace {

using test::Net;
using test::SwarmTest;

TEST_F(SwarmTest, EveryViewerGetsEveryChunkAfterJoining) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto viewers = add_viewers(net, 12);
  net.run_until(2s);  // joins happen before the stream starts
  stream(net, 12s);
  net.run_until(net.now() + 1s);

  for (const auto& v : viewers) {
    const auto got = seqs(net.delivered(v));
    EXPECT_EQ(got.size(), next_seq) << v.to_string();
    EXPECT_EQ(net.delivered(v).size(), got.size()) << "each chunk is delivered once";
    EXPECT_EQ(net.at(v).stats(net.now()).forged_rejected, 0u);
  }
  // The broadcaster feeds only its own children: far less than one copy per viewer.
  const auto up = net.at(broadcaster).stats(net.now()).uploaded_bytes;
  const std::uint64_t stream_bytes = next_seq * 3000;
  EXPECT_LT(up, stream_bytes * 5);
  EXPECT_GT(up, stream_bytes);
}

TEST_F(SwarmTest, RepairFillsHolesLeftByLoss) {
  Net net(5ms, 0.03, 9);
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto viewers = add_viewers(net, 8);
  net.run_until(3s);
  stream(net, 13s);
  net.run_until(net.now() + 2s);
  for (const auto& v : viewers) {
    const auto got = seqs(net.delivered(v));
    EXPECT_GE(got.size(), next_seq * 99 / 100) << v.to_string();
    EXPECT_GT(net.at(v).stats(net.now()).requests_sent, 0u);
  }
}

TEST_F(SwarmTest, ALateJoinerStartsAtTheLatestJoinPoint) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  add_viewers(net, 3);
  net.run_until(1s);
  stream(net, 4s);  // 60 chunks; join points at 0, 20, 40
  const auto late = Endpoint::loopback(3000);
  net.add(late, config(wire::Role::viewer, 77));
  stream(net, 7s);
  net.run_until(net.now() + 1s);
  const auto got = seqs(net.delivered(late));
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(*got.begin() % 20, 0u) << "first chunk " << *got.begin();
  EXPECT_GE(*got.begin(), 40u);
  EXPECT_EQ(*got.rbegin(), next_seq - 1);
}

TEST_F(SwarmTest, AViewerWhoseParentLeavesFindsAnother) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto viewers = add_viewers(net, 10);
  net.run_until(2s);
  stream(net, 5s);
  // Remove a viewer that has children, without a goodbye (a crash).
  Endpoint parent_of_someone{};
  for (const auto& v : viewers)
    if (net.at(v).stats(net.now()).children > 0) parent_of_someone = v;
  ASSERT_NE(parent_of_someone.port, 0);
  net.remove(parent_of_someone);
  const auto cut = next_seq;
  stream(net, 15s);
  for (const auto& v : viewers) {  // while the stream flows, everyone has a parent again
    if (v != parent_of_someone) {
      EXPECT_TRUE(net.at(v).stats(net.now()).has_parent) << v.to_string() << " parents " << net.at(v).stats(net.now()).parents;
    }
  }
  net.run_until(net.now() + 1s);
  for (const auto& v : viewers) {
    if (v == parent_of_someone) continue;
    const auto got = seqs(net.delivered(v));
    // Everything from the crash on arrives, by push from a new parent or by repair.
    for (auto s = cut; s < next_seq; ++s) EXPECT_TRUE(got.count(s)) << v.to_string() << " seq " << s;
  }
}

TEST_F(SwarmTest, ANoUploadViewerWatchesWithoutSendingAnyMedia) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  add_viewers(net, 6);
  auto quiet = config(wire::Role::viewer, 55);
  quiet.trees.max_children = 0;
  quiet.repair.answers_requests = false;
  const auto taker = Endpoint::loopback(3000);
  net.add(taker, quiet);
  std::uint64_t fragments_sent = 0;
  net.on_datagram = [&](const Endpoint& from, const Endpoint&, std::span<const std::uint8_t> bytes) {
    if (from == taker && session::framed_type(bytes) == wire::fragment_type) ++fragments_sent;
    return true;
  };
  net.run_until(2s);
  stream(net, 10s);
  net.run_until(net.now() + 1s);
  EXPECT_EQ(fragments_sent, 0u);
  EXPECT_EQ(net.at(taker).stats(net.now()).children, 0u);
  EXPECT_EQ(seqs(net.delivered(taker)).size(), next_seq);
}

TEST_F(SwarmTest, ChildrenAreCapped) {
  Net net;
  auto bc = config(wire::Role::broadcaster, 1);
  bc.trees.max_children = 2;
  net.add(broadcaster, bc);
  const auto viewers = add_viewers(net, 10);
  net.run_until(3s);
  EXPECT_EQ(net.at(broadcaster).stats(net.now()).children, 2u);  // over all its trees
  for (const auto& v : viewers)
    EXPECT_LE(net.at(v).stats(net.now()).children, SwarmConfig{}.trees.max_children);
}

TEST_F(SwarmTest, OneSeedGivesTheSameRun) {
  const auto seeded = [&](wire::Role role, std::uint64_t seed) { return config(role, seed); };
  auto run = [&] {
    next_seq = 0;
    Net net(5ms, 0.02, 3);
    net.add(broadcaster, seeded(wire::Role::broadcaster, 1));
    std::vector<Endpoint> viewers;
    for (std::uint16_t i = 0; i < 5; ++i) {
      viewers.push_back(Endpoint::loopback(static_cast<std::uint16_t>(2000 + i)));
      net.add(viewers.back(), seeded(wire::Role::viewer, 2100u + i));
    }
    net.run_until(1s);
    stream(net, 3s);
    std::vector<std::uint64_t> figures;
    for (const auto& v : viewers) {
      const auto s = net.at(v).stats(net.now());
      figures.insert(figures.end(), {s.uploaded_bytes, s.downloaded_bytes, s.requests_sent, s.depth});
    }
    return figures;
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace p2plive
