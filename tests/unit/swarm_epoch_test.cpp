// Streams as they are lived: a broadcaster that restarts (a new epoch), old sessions replayed, viewers that
// join mid-stream and viewers that vanish. Literal virtual time on the in-memory network.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "swarm_fixture.hpp"

namespace p2plive {
namespace {

using test::Net;
using test::SwarmTest;

struct SessionsTest : SwarmTest {
  // The broadcaster stops and a new one starts at the same address with a new epoch, numbering from 0.
  void restart(Net& net) {
    net.remove(broadcaster);
    net.run_until(net.now() + 2s);
    epoch += 0x1111;
    epoch_start_us += 60'000'000;
    next_seq = 0;
    net.add(broadcaster, config(wire::Role::broadcaster, 2));
  }

  static std::vector<const Chunk*> of_epoch(const std::vector<Chunk>& chunks, std::uint64_t epoch) {
    std::vector<const Chunk*> out;
    for (const auto& c : chunks)
      if (c.epoch == epoch) out.push_back(&c);
    return out;
  }
};

TEST_F(SessionsTest, ViewersThatStayThroughARestartFollowTheNewSessionAtOnce) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto viewers = add_viewers(net, 6);
  net.run_until(1s);
  stream(net, 11s);  // 200 chunks: the old session runs far ahead of where the new one starts
  const auto old_epoch = epoch;
  restart(net);
  const auto restarted_at = net.now();
  stream(net, net.now() + 5s);
  net.run_until(net.now() + 1s);
  for (const auto& v : viewers) {
    const auto fresh = of_epoch(net.delivered(v), epoch);
    ASSERT_FALSE(fresh.empty()) << v.to_string();
    // From the new session's first chunk (a join point) on, everything, although its numbers are far
    // below the old session's.
    const auto first = std::min_element(fresh.begin(), fresh.end(), [](auto* a, auto* b) { return a->seq < b->seq; });
    EXPECT_EQ((*first)->seq.value, 0u) << v.to_string();
    EXPECT_EQ(fresh.size(), next_seq) << v.to_string();
    ASSERT_EQ(net.epochs(v).size(), 2u);
    EXPECT_EQ(net.epochs(v).back().epoch, epoch);
    EXPECT_EQ(net.epochs(v).front().epoch, old_epoch);
    const auto s = net.at(v).stats(net.now());
    EXPECT_EQ(s.epoch, epoch);
    EXPECT_EQ(s.epochs_started, 2u);
  }
  (void)restarted_at;
}

TEST_F(SessionsTest, AnOlderSessionsChunksAreDroppedAndCountedNeverDelivered) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto viewers = add_viewers(net, 2);
  net.run_until(1s);
  std::vector<Chunk> old_session;
  for (int i = 0; i < 60; ++i) {
    old_session.push_back(make_chunk());
    net.publish(broadcaster, old_session.back());
    net.run_until(net.now() + 50ms);
  }
  restart(net);
  stream(net, net.now() + 3s);
  net.run_until(net.now() + 500ms);
  const auto delivered_before = net.delivered(viewers[0]).size();
  // A peer replays the old session's chunks, signatures and all, with numbers ahead of the new session.
  auto& replayer = net.add_agent(Endpoint::loopback(4444), key.public_key());
  replayer.send(viewers[0], wire::Hello{}, net.now());
  net.run_until(net.now() + 100ms);
  ASSERT_TRUE(replayer.layer.established(viewers[0]));
  for (const auto& c : old_session)
    for (std::size_t i = 0; i < wire::fragment_count(c.payload.size()); ++i) replayer.send_fragment(viewers[0], c, i);
  stream(net, net.now() + 1s);
  net.run_until(net.now() + 500ms);
  const auto& got = net.delivered(viewers[0]);
  for (std::size_t i = delivered_before; i < got.size(); ++i) EXPECT_EQ(got[i].epoch, epoch) << "seq " << got[i].seq.value;
  const auto s = net.at(viewers[0]).stats(net.now());
  EXPECT_GE(s.old_epoch_dropped, old_session.size());
  EXPECT_EQ(s.forged_rejected, 0u);  // genuine, only old: no one is blamed for a replay
}

TEST_F(SessionsTest, ANewChildIsPushedItsSubstreamFromItsJoinPoint) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  net.run_until(1s);
  stream(net, 3s + 500ms);  // join points at 0, 20, 40; the latest is 40, ten chunks back
  const auto late = Endpoint::loopback(3000);
  net.add(late, config(wire::Role::viewer, 77));
  net.run_until(net.now() + 150ms);  // a round trip or two: hello, welcome, subscribe, catch-up
  const auto got = seqs(net.delivered(late));
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(*got.begin(), 40u);
  for (std::uint64_t s = 40; s < next_seq; ++s) EXPECT_TRUE(got.count(s)) << "seq " << s;
  EXPECT_GT(net.at(broadcaster).stats(net.now()).catch_up_chunks, 0u);
  EXPECT_EQ(net.at(late).stats(net.now()).requests_sent, 0u) << "the catch-up made repair unnecessary";
}

TEST_F(SessionsTest, AViewerThatVanishesStopsCostingAnythingAndANewcomerGetsItsSlots) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  auto first = add_viewers(net, 6, 2000);  // the broadcaster's six slots, all taken
  net.run_until(1s);
  // Six viewers sort themselves into the four trees within a few seconds (3.5 to 5.5 s here).
  const auto all_placed = [&] {
    return std::all_of(first.begin(), first.end(), [&](const Endpoint& v) { return net.at(v).stats(net.now()).has_parent; });
  };
  stream(net, 3s);
  while (!all_placed() && net.now() < 10s) stream(net, net.now() + 250ms);
  for (const auto& v : first) ASSERT_TRUE(net.at(v).stats(net.now()).has_parent) << v.to_string() << " parents " << net.at(v).stats(net.now()).parents;
  // Three of them are killed without a word; one arrives right after.
  for (int i = 0; i < 3; ++i) net.remove(first[static_cast<std::size_t>(i)]);
  const auto killed_at = net.now();
  const auto late = add_viewers(net, 1, 3000).front();
  // What each live node still sends each vanished one, after its silence threshold: the odd probe and
  // release, until it is forgotten (two probes unanswered; three for a newcomer told of it); after the
  // peer timeout (6 s), nothing at all.
  std::map<std::pair<Endpoint, Endpoint>, int> late_sends;
  int sends_at_the_end = 0;
  const auto end = net.now() + 8s;
  net.on_datagram = [&](const Endpoint& from, const Endpoint& to, std::span<const std::uint8_t> bytes) {
    for (int i = 0; i < 3; ++i) {
      if (to != first[static_cast<std::size_t>(i)] || net.now() < killed_at + 2300ms) continue;
      ++late_sends[{from, to}];
      if (net.now() > killed_at + SwarmConfig{}.membership.peer_timeout) {
        ++sends_at_the_end;
        ADD_FAILURE() << "type " << int(session::framed_type(bytes)) << " " << from.to_string() << " -> " << to.to_string() << " at "
                      << (net.now() - killed_at).count() / 1000 << " ms";
      }
    }
    return true;
  };
  stream(net, end);
  const auto b = net.at(broadcaster).stats(net.now());
  // Each vanished child is suspended when it has been silent too long, unless a newcomer displaced it first.
  EXPECT_GE(b.children_suspended, 1u);
  for (const auto& [pair, n] : late_sends) EXPECT_LE(n, 4) << pair.first.to_string() << " -> " << pair.second.to_string();
  EXPECT_EQ(sends_at_the_end, 0);
  EXPECT_TRUE(net.at(late).stats(net.now()).has_parent);
  const auto got = seqs(net.delivered(late));
  ASSERT_FALSE(got.empty());
  for (auto s = *got.begin(); s < next_seq; ++s) EXPECT_TRUE(got.count(s)) << "seq " << s;
}

TEST_F(SessionsTest, AnUnreachablePortFreesASilentChildsSlotAtOnceButNotALiveOnes) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  auto viewers = add_viewers(net, 2);
  net.run_until(1s);
  stream(net, 2s);
  ASSERT_GT(net.at(broadcaster).stats(net.now()).children, 0u);
  // A live child: an ICMP error (forged, or a passing glitch) just after it spoke costs it nothing.
  bool spoke = false;
  net.on_datagram = [&](const Endpoint& from, const Endpoint& to, std::span<const std::uint8_t>) {
    spoke = spoke || (from == viewers[0] && to == broadcaster);
    return true;
  };
  while (!spoke) net.run_until(net.now() + 1ms);
  net.on_datagram = nullptr;
  net.at(broadcaster).handle_unreachable(viewers[0], net.now());
  EXPECT_EQ(net.at(broadcaster).stats(net.now()).children_suspended, 0u);
  // A dead one: killed, its port answers with errors, and it has been silent a little while.
  net.remove(viewers[1]);
  stream(net, net.now() + 300ms);
  net.at(broadcaster).handle_unreachable(viewers[1], net.now());
  EXPECT_EQ(net.at(broadcaster).stats(net.now()).children_suspended, 1u);
  EXPECT_EQ(net.at(broadcaster).stats(net.now()).unreachable_reports, 2u);
}

}  // namespace
}  // namespace p2plive
