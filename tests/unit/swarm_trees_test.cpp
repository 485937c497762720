// The shape of the push trees, in virtual time: how a viewer placed deep during a join climbs once a
// faster parent has shown that it delivers.
#include <gtest/gtest.h>

#include "swarm_fixture.hpp"

namespace p2plive {
namespace {

using test::Net;
using test::SwarmTest;

struct TreesTest : SwarmTest {
  // One tree, so that every viewer forwards in it; the broadcaster has a single slot there.
  SwarmConfig one_tree(wire::Role role, std::uint64_t seed, std::size_t max_children) {
    auto c = config(role, seed);
    c.trees.substreams = 1;
    c.trees.max_children = max_children;
    return c;
  }
  Endpoint join(Net& net, std::uint16_t port, std::size_t max_children) {
    const auto at = Endpoint::loopback(port);
    net.add(at, one_tree(wire::Role::viewer, port, max_children));
    return at;
  }
  int depth(Net& net, const Endpoint& v) { return net.at(v).stats(net.now()).depth; }
};

// Placed three hops down because both parents one hop down were full, a viewer moves up when one of them
// has room again. That parent never sent it a chunk, so its place is only a claim until a trial: asked for
// a chunk the viewer holds, it answers with the very bytes the viewer verified, and the viewer moves.
TEST_F(TreesTest, AViewerPlacedDeepMovesUpOnceAFasterParentPassesATrial) {
  Net net(50ms);  // a hop costs enough here for one fewer to be worth a move
  net.add(broadcaster, one_tree(wire::Role::broadcaster, 1, 1));
  auto top_config = one_tree(wire::Role::viewer, 2000, 2);
  top_config.trees.idle_forwarder_grace = 1h;  // its two children keep their slots, idle or not
  const auto top = Endpoint::loopback(2000);
  net.add(top, top_config);
  net.run_until(2s);
  const std::vector<Endpoint> middle{join(net, 2001, 8), join(net, 2002, 8)};
  stream(net, 6s);
  ASSERT_EQ(depth(net, top), 1);
  for (const auto& m : middle) ASSERT_EQ(depth(net, m), 2) << m.to_string();
  const auto deep = join(net, 2003, 8);
  stream(net, 10s);
  ASSERT_EQ(depth(net, deep), 3);
  // The other middle forwarder leaves: the top has a slot again.
  net.remove(middle[net.at(middle[0]).stats(net.now()).children == 1 ? 1 : 0]);
  stream(net, 22s);
  EXPECT_EQ(depth(net, deep), 2);
  EXPECT_GE(net.at(deep).stats(net.now()).parent_trials, 1u);
  // It kept playing through the move.
  const auto got = seqs(net.delivered(deep));
  std::size_t held = 0;
  for (auto seq = next_seq - 150; seq + 10 < next_seq; ++seq) held += got.count(seq);
  EXPECT_EQ(held, 140u);
}

}  // namespace
}  // namespace p2plive
