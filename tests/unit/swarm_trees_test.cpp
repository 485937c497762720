// The shape of the push trees, in virtual time: how a viewer placed deep during a join climbs once a
// faster parent has shown that it delivers, and how a forwarder never takes a parent below itself.
#include <gtest/gtest.h>

#include <map>

#include "swarm_fixture.hpp"

namespace p2plive {
namespace {

using test::Agent;
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

// A member offers a forwarder the quickest place in its tree, one hop down, and proves it delivers: its
// map lists what the forwarder holds, and it answers the trial with the genuine chunk. But its answer to
// the subscription says it sits five hops down, deeper than the forwarder (it may have moved into the
// forwarder's own subtree since its map). The forwarder lets it go at once and keeps its parent: taking it
// could close a loop that no chunk enters.
TEST_F(TreesTest, AForwarderReleasesAParentThatAnswersFromBelowIt) {
  Net net(50ms);  // a hop costs enough here for one fewer to be worth a move
  net.add(broadcaster, one_tree(wire::Role::broadcaster, 1, 1));
  join(net, 2000, 2);
  net.run_until(2s);
  const auto forwarder = join(net, 2001, 8);
  net.run_until(4s);
  join(net, 2002, 0);  // the top's second child, a leaf: the top is full
  net.run_until(6s);
  join(net, 2003, 0);  // the forwarder's child
  stream(net, 9s);
  ASSERT_EQ(depth(net, forwarder), 2);
  ASSERT_EQ(net.at(forwarder).stats(net.now()).children, 1u);

  Agent& mover = net.add_agent(Endpoint::loopback(5000), key.public_key());
  std::map<std::uint64_t, Chunk> sent;
  std::size_t subscribed = 0, released = 0;
  int deepest = 0;
  for (int step = 0; step < 200; ++step) {
    const auto chunk = make_chunk();
    sent.emplace(chunk.seq.value, chunk);
    net.publish(broadcaster, chunk);
    if (step % 4 == 0) {  // a map: one hop down, with room, holding the last 8 chunks
      wire::Have have;
      have.tree = {0, 1, 1, 1, 1, 8, 0xffff};
      have.epoch = wire::epoch_tag(epoch);
      have.base_seq = next_seq - 8;
      have.bits.assign(8, true);
      mover.send(forwarder, have, net.now());
    }
    for (auto& [from, m] : mover.received) {
      if (const auto* r = std::get_if<wire::Request>(&m); r && sent.count(r->seq)) {
        for (std::size_t i = 0; i < wire::fragment_count(sent[r->seq].payload.size()); ++i)
          mover.send_fragment(from, sent[r->seq], i);
        continue;
      }
      const auto* h = std::get_if<wire::Hello>(&m);
      if (!h) continue;
      if (h->substream == 0 && !h->subscribe && subscribed > 0) ++released;
      subscribed += h->subscribe && h->substream == 0;
      wire::Welcome w;
      w.accepted = h->subscribe;
      w.substream = h->substream;
      // Its map said one hop down; its answer to a subscription says five.
      w.tree = {0, static_cast<std::uint8_t>(h->subscribe ? 5 : 1), 1, 1, 1, 8, 0xffff};
      w.time_echo_us = h->time_us;
      w.epoch = wire::epoch_tag(epoch);
      w.has_chunks = true;
      w.latest_seq = w.latest_join_seq = next_seq - 1;
      w.push_from = next_seq;
      mover.send(from, w, net.now());
    }
    mover.received.clear();
    net.run_until(net.now() + 50ms);
    const int d = depth(net, forwarder);
    if (d != wire::unknown_depth) deepest = std::max(deepest, d);
  }
  ASSERT_GE(subscribed, 1u) << "the forwarder never chose the mover: the test proves nothing";
  EXPECT_GE(released, 1u);
  EXPECT_LT(deepest, 6) << "the forwarder took a parent five hops down";
  EXPECT_EQ(depth(net, forwarder), 2);
}

}  // namespace
}  // namespace p2plive
