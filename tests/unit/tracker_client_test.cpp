// The BEP 15 tracker client against the simulator's tracker (the same protocol opentracker speaks; the
// end-to-end test uses the real opentracker), in literal virtual time.
#include <gtest/gtest.h>

#include "protocol/discovery/tracker_client.hpp"
#include "sim/tracker_model.hpp"

namespace p2plive {
namespace {

const Endpoint tracker_at = Endpoint::v4(0x0a000001, 6969);
const InfoHash info_hash = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};

TrackerClient client(std::uint16_t port, std::uint64_t seed = 1) {
  return TrackerClient(TrackerClientConfig{.trackers = {tracker_at}, .info_hash = info_hash, .port = port, .rng_seed = seed});
}

// Delivers everything the client sends to the tracker and everything the tracker answers back, from
// `from` (the address the tracker sees the client at).
void exchange(TrackerClient& c, sim::TrackerModel& tracker, const Endpoint& from, Time now) {
  while (auto t = c.poll_transmit()) {
    ASSERT_EQ(t->to, tracker_at);
    if (auto reply = tracker.handle(from, t->bytes, now)) c.handle_datagram(tracker_at, *reply, now);
  }
}

TEST(TrackerClient, AnnouncesAndLearnsTheOthers) {
  sim::TrackerModel tracker(1);
  std::vector<TrackerClient> clients;
  for (std::uint16_t i = 0; i < 5; ++i) clients.push_back(client(static_cast<std::uint16_t>(7000 + i), i + 1));
  for (std::uint16_t i = 0; i < 5; ++i) {
    clients[i].handle_timeout(0s);
    exchange(clients[i], tracker, Endpoint::v4(0x0a000100 + i, 40000), 0s);  // the source port does not matter
  }
  const auto peers = clients[4].take_peers();
  ASSERT_EQ(peers.size(), 4u);  // the four that announced before it, at the ports they announced
  for (std::uint16_t i = 0; i < 4; ++i)
    EXPECT_NE(std::find(peers.begin(), peers.end(), Endpoint::v4(0x0a000100 + i, static_cast<std::uint16_t>(7000 + i))),
              peers.end());
  EXPECT_EQ(clients[4].stats().announces, 1u);
  EXPECT_TRUE(clients[4].take_peers().empty());  // taken once
}

TEST(TrackerClient, RetriesWithBackoffWhileTheTrackerIsSilent) {
  auto c = client(7000);
  std::vector<Time> sent;
  for (Time now = 0s; now <= 20s; now += 100ms) {
    c.handle_timeout(now);
    while (c.poll_transmit()) sent.push_back(now);
  }
  ASSERT_GE(sent.size(), 4u);
  EXPECT_EQ(sent[0], 0s);
  EXPECT_EQ(sent[1], 2s);  // then 4 and 8 s apart
  EXPECT_EQ(sent[2], 6s);
  EXPECT_EQ(sent[3], 14s);
  EXPECT_LE(sent.size(), 5u);
}

TEST(TrackerClient, ReannouncesAtTheIntervalAndSoonerWhenHurried) {
  sim::TrackerModel tracker(1);  // it asks for a re-announce every 120 s
  auto c = client(7000);
  const auto from = Endpoint::v4(0x0a000100, 7000);
  c.handle_timeout(0s);
  exchange(c, tracker, from, 0s);
  EXPECT_EQ(c.stats().announces, 1u);
  c.handle_timeout(60s);
  EXPECT_FALSE(c.poll_transmit());
  c.hurry(60s);  // a tree without a parent: peers are wanted now
  exchange(c, tracker, from, 60s);
  EXPECT_EQ(c.stats().announces, 2u);
  c.handle_timeout(179s);
  EXPECT_FALSE(c.poll_transmit());
  c.handle_timeout(180s);
  exchange(c, tracker, from, 180s);
  EXPECT_EQ(c.stats().announces, 3u);
}

TEST(TrackerClient, IgnoresAnswersItDidNotAskFor) {
  auto c = client(7000);
  c.handle_timeout(0s);
  auto request = c.poll_transmit();
  ASSERT_TRUE(request);
  // A connect answer with the wrong transaction id, a truncated one, and one from someone else.
  std::vector<std::uint8_t> forged = {0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8};
  c.handle_datagram(tracker_at, forged, 1ms);
  c.handle_datagram(tracker_at, std::vector<std::uint8_t>(request->bytes.begin(), request->bytes.begin() + 4), 1ms);
  c.handle_datagram(Endpoint::v4(0x0a000009, 6969), forged, 1ms);
  EXPECT_EQ(c.stats().malformed, 2u);  // the stranger's is not even looked at
  EXPECT_FALSE(c.poll_transmit());     // still waiting for the real answer
  EXPECT_FALSE(c.is_tracker(Endpoint::v4(0x0a000009, 6969)));
}

TEST(TrackerClient, SaysGoodbyeWhenItStops) {
  sim::TrackerModel tracker(1);
  auto a = client(7000, 1), b = client(7001, 2);
  a.handle_timeout(0s);
  exchange(a, tracker, Endpoint::v4(0x0a000100, 7000), 0s);
  a.stop(1s);
  exchange(a, tracker, Endpoint::v4(0x0a000100, 7000), 1s);
  b.handle_timeout(2s);
  exchange(b, tracker, Endpoint::v4(0x0a000101, 7001), 2s);
  EXPECT_TRUE(b.take_peers().empty());  // a left
}

TEST(TrackerClient, AnnouncesNothingUntilItKnowsItsPort) {
  auto c = client(0);
  c.handle_timeout(0s);
  EXPECT_FALSE(c.poll_transmit());
  EXPECT_FALSE(c.poll_timeout());
}

}  // namespace
}  // namespace p2plive
