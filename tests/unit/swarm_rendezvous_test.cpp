// Rendezvous: viewers behind NATs that let in only replies meet through a peer both hold sessions with.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <utility>

#include "swarm_fixture.hpp"

namespace p2plive {
namespace {

using test::Net;
using test::SwarmTest;

// Every viewer sits behind a filtering NAT: a datagram gets in only if the receiver has sent one to its
// sender lately (a pinhole). The broadcaster is reachable, and has room for only a few children, so most
// viewers need a viewer parent. Pinholes close after half a second here: with hellos a second apart, two
// viewers that only probe each other rarely meet by luck, as in a large swarm (a real NAT keeps an
// unanswered pinhole about 30 s, but there a viewer is one of thousands that might probe it).
struct FilteringNats {
  Endpoint open;
  std::map<std::pair<Endpoint, Endpoint>, Time> pinholes = {};  // (inside, outside) -> inside last sent
  std::uint64_t dropped = 0;
  bool pass(const Endpoint& from, const Endpoint& to, Time now) {
    pinholes[{from, to}] = now;  // it left its own NAT, whether or not the far one lets it in
    const auto back = pinholes.find({to, from});
    if (to == open || (back != pinholes.end() && now - back->second <= 500ms)) return true;
    ++dropped;
    return false;
  }
};

// Viewers that hold a session that an introduction opened, and a parent, and more peers than the broadcaster.
std::size_t viewers_that_met_others(Net& net, const std::vector<Endpoint>& viewers) {
  std::size_t n = 0;
  for (const auto& v : viewers) {
    const auto s = net.at(v).stats(net.now());
    n += s.introduced_sessions > 0 && s.parents > 0 && s.peers > 1;
  }
  return n;
}

TEST_F(SwarmTest, ViewersBehindFilteringNatsMeetThroughRendezvous) {
  Net net;
  FilteringNats nats{broadcaster};
  net.on_datagram = [&](const Endpoint& from, const Endpoint& to, std::span<const std::uint8_t>) {
    return nats.pass(from, to, net.now());
  };
  auto root = config(wire::Role::broadcaster, 1);
  root.trees.max_children = 4;  // one child per tree: ten viewers must find viewer parents
  net.add(broadcaster, root);
  // They arrive one by one while the stream runs: no two meet by probing each other in the same instant.
  std::vector<Endpoint> viewers;
  for (std::uint16_t i = 0; i < 10; ++i) {
    viewers.push_back(Endpoint::loopback(static_cast<std::uint16_t>(2000 + i)));
    net.add(viewers.back(), config(wire::Role::viewer, 100 + i));
    stream(net, net.now() + 700ms);
  }
  const auto first = next_seq;
  stream(net, net.now() + 12s);
  const auto last = next_seq;
  net.run_until(net.now() + 1s);
  EXPECT_GT(nats.dropped, 0u) << "the NATs should have dropped strangers' datagrams";
  for (const auto& v : viewers) {
    const auto s = net.at(v).stats(net.now());
    EXPECT_GT(s.introductions_received, 0u) << v.to_string();
    const auto got = seqs(net.delivered(v));
    std::size_t held = 0;
    for (auto seq = first; seq < last; ++seq) held += got.count(seq);
    EXPECT_GE(held, (last - first) * 95 / 100) << v.to_string();
  }
  EXPECT_GE(viewers_that_met_others(net, viewers), 6u);
  EXPECT_LE(net.at(broadcaster).stats(net.now()).children, 4u);
}

// A viewer that every handshake with a viewer fails for (only the broadcaster gets through to it) says it
// needs a reachable parent, and the broadcaster moves a child that can go elsewhere to make room for it
// (keeping one slot per tree for a forwarder).
TEST_F(SwarmTest, AViewerNobodyCanReachGetsTheBroadcastersRoom) {
  Net net;
  const auto isolated = Endpoint::loopback(2999);
  FilteringNats nats{broadcaster};
  net.on_datagram = [&](const Endpoint& from, const Endpoint& to, std::span<const std::uint8_t>) {
    if (to == isolated && from != broadcaster) return false;  // a port per destination: nothing gets back
    if (from == isolated && to != broadcaster) return false;
    return nats.pass(from, to, net.now());
  };
  auto root = config(wire::Role::broadcaster, 1);
  root.trees.max_children = 8;  // two slots per tree: one may go to a viewer only it can serve
  net.add(broadcaster, root);
  const auto viewers = add_viewers(net, 12);
  net.run_until(2s);
  stream(net, 4s);
  net.add(isolated, config(wire::Role::viewer, 999));
  stream(net, net.now() + 12s);
  const auto s = net.at(isolated).stats(net.now());
  EXPECT_EQ(s.introduced_sessions, 0u);
  EXPECT_EQ(s.parents, 4u) << "the broadcaster should be its parent in every tree";
  const auto got = seqs(net.delivered(isolated));
  const auto first = *got.begin();
  std::size_t held = 0;
  for (auto seq = first + 200; seq < next_seq - 10; ++seq) held += got.count(seq);
  EXPECT_GE(held, (next_seq - 10 - first - 200) * 95 / 100);
}

// The same viewer when nobody introduces anyone (the broadcaster has no viewers to offer, or they all left):
// 3 s of hellos to viewers without one session is enough to ask for a reachable parent.
TEST_F(SwarmTest, AViewerNobodyReachesAsksForRoomEvenWithoutIntroductions) {
  Net net;
  const auto isolated = Endpoint::loopback(2999);
  net.on_datagram = [&](const Endpoint& from, const Endpoint& to, std::span<const std::uint8_t>) {
    return (to != isolated || from == broadcaster) && (from != isolated || to == broadcaster);
  };
  const auto quiet = [](SwarmConfig c) {
    c.membership.introductions_per_exchange = 0;
    c.membership.introductions_per_welcome = 0;
    c.membership.introductions_per_second = 0;  // none followed, and none made when asked
    return c;
  };
  auto root = quiet(config(wire::Role::broadcaster, 1));
  root.trees.max_children = 8;
  net.add(broadcaster, root);
  for (std::uint16_t i = 0; i < 12; ++i)
    net.add(Endpoint::loopback(static_cast<std::uint16_t>(2000 + i)),
            quiet(config(wire::Role::viewer, 100 + i)));
  net.run_until(2s);
  stream(net, 4s);
  net.add(isolated, quiet(config(wire::Role::viewer, 999)));
  stream(net, net.now() + 12s);
  const auto s = net.at(isolated).stats(net.now());
  EXPECT_EQ(s.introductions_followed, 0u);
  EXPECT_EQ(s.parents, 4u) << "the broadcaster should be its parent in every tree";
}

}  // namespace
}  // namespace p2plive
