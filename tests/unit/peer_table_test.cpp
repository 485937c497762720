// The peer table's bounded storage and its lookup index, against a plain map of what it should hold.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "protocol/membership/peer_table.hpp"

namespace p2plive {
namespace {

TEST(PeerTable, FindsWhatItHoldsThroughAnyMixOfInsertsAndErases) {
  std::mt19937_64 rng(5);
  PeerTable table(64);
  std::map<Endpoint, bool> held;
  // Few distinct addresses, so that inserts, repeats and erases all collide in the index often.
  const auto random_endpoint = [&] { return Endpoint::v4(0x0a000000u + static_cast<std::uint32_t>(rng() % 150), 7000 + rng() % 2); };
  for (int step = 0; step < 20000; ++step) {
    const auto e = random_endpoint();
    if (rng() % 3 == 0) {
      table.erase(e);
      held.erase(e);
    } else if (held.size() < 64 || held.count(e)) {
      ASSERT_NE(table.upsert(e), nullptr);
      held[e] = true;
    }
    ASSERT_EQ(table.size(), held.size());
    const auto probe = random_endpoint();
    const auto* found = table.find(probe);
    ASSERT_EQ(found != nullptr, held.count(probe) == 1) << "step " << step;
    if (found) {
      ASSERT_EQ(found->endpoint, probe);
    }
  }
  std::size_t visited = 0;
  table.for_each([&](const Peer& p) {
    ++visited;
    EXPECT_TRUE(held.count(p.endpoint));
  });
  EXPECT_EQ(visited, held.size());
}

TEST(PeerTable, AFullTableMakesRoomButKeepsParentsAndChildren) {
  PeerTable table(4);
  for (std::uint32_t i = 0; i < 4; ++i) {
    auto* p = table.upsert(Endpoint::v4(0x0a000001u + i, 1));
    ASSERT_NE(p, nullptr);
    p->heard = true;
    p->last_heard = Time{i};
    p->child_in = i < 3 ? 1 : 0;  // only the last is neither parent nor child
  }
  ASSERT_NE(table.upsert(Endpoint::v4(0x0b000000u, 1)), nullptr);
  EXPECT_EQ(table.find(Endpoint::v4(0x0a000004u, 1)), nullptr);  // the one that could go went
  for (std::uint32_t i = 0; i < 3; ++i) EXPECT_NE(table.find(Endpoint::v4(0x0a000001u + i, 1)), nullptr);
  table.find(Endpoint::v4(0x0b000000u, 1))->child_in = 1;
  EXPECT_EQ(table.upsert(Endpoint::v4(0x0c000000u, 1)), nullptr);  // all parents and children now
}

}  // namespace
}  // namespace p2plive
