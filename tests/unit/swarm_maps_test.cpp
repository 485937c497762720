// Buffer maps beyond the trees: a node takes them from a bounded few peers, and a sender stops sending
// them to a peer that leaves them unanswered. (Maps to every peer that ever said hello grew with the
// session: half of all control bytes after three minutes.)
#include <gtest/gtest.h>

#include <map>

#include "swarm_fixture.hpp"

namespace p2plive {
namespace {

using test::Agent;
using test::Net;
using test::SwarmTest;

std::size_t count_maps(Agent& agent, const Endpoint& from) {
  std::size_t n = 0;
  for (const auto& [sender, m] : agent.received) n += sender == from && std::holds_alternative<wire::Have>(m);
  agent.received.clear();
  return n;
}

wire::Have map_of_nothing(std::uint64_t epoch) {
  wire::Have h;
  h.time_us = 1;
  h.epoch = wire::epoch_tag(epoch);
  return h;
}

TEST_F(SwarmTest, APeerThatLeavesMapsUnansweredGetsNoMoreUntilItSaysHelloAgain) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto viewers = add_viewers(net, 2);
  net.run_until(1s);
  stream(net, 2s);
  auto& quiet = net.add_agent(Endpoint::loopback(7000), key.public_key());
  quiet.send(viewers[0], wire::Hello{}, net.now());
  net.run_until(net.now() + 100ms);  // the hello rides in the handshake
  ASSERT_TRUE(quiet.layer.established(viewers[0]));
  std::size_t early = 0, later = 0;
  // It keeps talking (maps of its own, every 500 ms), so it is plainly alive; it just never acks ours.
  for (int step = 0; step < 120; ++step) {
    if (step % 10 == 0) quiet.send(viewers[0], map_of_nothing(epoch), net.now());
    net.publish(broadcaster, make_chunk());
    net.run_until(net.now() + 50ms);
    (step < 60 ? early : later) += count_maps(quiet, viewers[0]);
  }
  EXPECT_GE(early, 2u);
  EXPECT_LE(early, 5u);  // the answer to its hello, then three unanswered
  EXPECT_EQ(later, 0u);
  // A new hello asks for them again; answered, they keep coming.
  quiet.send(viewers[0], wire::Hello{}, net.now());
  std::size_t answered = 0;
  for (int step = 0; step < 60; ++step) {
    for (const auto& [from, m] : quiet.received)
      if (const auto* h = std::get_if<wire::Have>(&m)) quiet.send(from, wire::Ack{h->time_us, wire::no_feedback}, net.now());
    answered += count_maps(quiet, viewers[0]);
    net.publish(broadcaster, make_chunk());
    net.run_until(net.now() + 50ms);
  }
  EXPECT_GE(answered, 5u);  // 3 s at two a second
}

TEST_F(SwarmTest, ANodeAnswersMapsFromAFewPeersBeyondItsTreesAndPrefersCandidates) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto viewers = add_viewers(net, 1);
  net.run_until(1s);
  const std::size_t sources = SwarmConfig{}.repair.map_sources;
  std::vector<Agent*> agents;
  for (std::uint16_t i = 0; i < sources + 4; ++i) {
    agents.push_back(&net.add_agent(Endpoint::loopback(static_cast<std::uint16_t>(7000 + i)), key.public_key()));
    agents.back()->send(viewers[0], wire::Hello{}, net.now());
  }
  net.run_until(net.now() + 100ms);  // the hellos ride in the handshakes
  // Every agent sends a map every 500 ms; `with_room` says room in tree 0 (a parent candidate).
  Agent* with_room = nullptr;
  const auto run = [&](int steps) {
    std::map<Agent*, std::size_t> acks;
    for (int step = 0; step < steps; ++step) {
      if (step % 10 == 0)
        for (auto* a : agents) {
          auto m = map_of_nothing(epoch);
          if (a == with_room) m.tree = {0, 2, 40, 1, 1, 0, 0xffff};
          a->send(viewers[0], m, net.now());
        }
      net.publish(broadcaster, make_chunk());
      net.run_until(net.now() + 50ms);
      for (auto* a : agents) {
        for (const auto& [from, m] : a->received) acks[a] += step >= steps / 2 && std::holds_alternative<wire::Ack>(m);
        a->received.clear();
      }
    }
    return acks;
  };
  auto acks = run(100);
  std::size_t answered = 0;
  for (auto* a : agents) answered += acks[a] >= 4;  // each of its last five maps, near enough
  EXPECT_EQ(answered, sources);
  // One left unanswered turns out to have room: it takes the place of one that has none.
  for (auto* a : agents)
    if (acks[a] == 0) with_room = a;
  ASSERT_NE(with_room, nullptr);
  acks = run(100);
  EXPECT_GE(acks[with_room], 4u);
  answered = 0;
  for (auto* a : agents) answered += acks[a] >= 4;
  EXPECT_EQ(answered, sources);
}

}  // namespace
}  // namespace p2plive
