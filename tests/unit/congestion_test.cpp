// Delay-based congestion control: the receive-side meter and the send-side rate, fed literal samples.
#include <gtest/gtest.h>

#include "protocol/distribution/congestion.hpp"

namespace p2plive {
namespace {

// A sender's clock that runs a fixed offset from the receiver's: only differences between samples count.
std::uint32_t stamp(Time sent, std::uint32_t offset = 0xfffff000u) {
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(sent.count())) + offset;
}

TEST(DelayMeter, ReportsHowMuchLongerThanTheFastestTheLatestTook) {
  DelayMeter m;
  EXPECT_FALSE(m.queue_delay());
  m.sample(stamp(0ms), 30ms);  // 30 ms one way: the base
  m.sample(stamp(200ms), 230ms);
  EXPECT_FALSE(m.queue_delay());  // not watched long enough to trust the base
  m.sample(stamp(1000ms), 1030ms);
  ASSERT_TRUE(m.queue_delay());
  EXPECT_EQ(*m.queue_delay(), 0ms);
  m.sample(stamp(1500ms), 1570ms);  // 40 ms more than the fastest: a queue
  EXPECT_EQ(*m.queue_delay(), 40ms);
  m.sample(stamp(2000ms), 2025ms);  // faster than ever: the new base
  EXPECT_EQ(*m.queue_delay(), 0ms);
}

TEST(DelayMeter, TheBaseAgesOutSoThatARouteChangeIsNotAQueueForever) {
  DelayMeter m;
  m.sample(stamp(0ms), 10ms);
  for (Time t = 1s; t <= 70s; t += 1s) m.sample(stamp(t), t + 50ms);  // the path got 40 ms longer
  EXPECT_EQ(*m.queue_delay(), 0ms);
}

TEST(DelayMeter, CopesWithTheClocksWrapping) {
  DelayMeter m;
  const std::uint32_t offset = 0xffffffffu - 1'000'000u;  // the sender's clock wraps one second in
  for (Time t = 0s; t <= 3s; t += 100ms) m.sample(stamp(t, offset), t + 20ms);
  EXPECT_EQ(*m.queue_delay(), 0ms);
  m.sample(stamp(3100ms, offset), 3100ms + 20ms + 7ms);
  EXPECT_EQ(*m.queue_delay(), 7ms);
}

RateControlConfig config() {
  RateControlConfig c;
  c.initial_bps = 4e6;
  return c;
}

// Drives a controller in 50 ms steps: what the neighbours say, what was sent, what the children are owed.
struct Drive {
  RateController rc{config()};
  Time now = 0ms;
  std::uint64_t sent = 0, pushed = 0;
  explicit Drive(RateControlConfig c = config()) : rc(c) {}
  void step(std::vector<Time> delays, double sent_bps, double pushed_bps = 0, bool limited = true) {
    now += 50ms;
    sent += static_cast<std::uint64_t>(sent_bps / 8 * 0.05);
    pushed += static_cast<std::uint64_t>(pushed_bps / 8 * 0.05);
    rc.update(RateInputs{.queue_delays = delays, .sent_bytes = sent, .push_demand_bytes = pushed,
                         .rate_limited = limited},
              now);
  }
};

TEST(RateController, CutsWhenNeighboursSeeAQueueAndHoldsWhileItDrains) {
  Drive d;
  d.step({0ms}, 4e6);
  const double before = d.rc.rate_bps();
  d.now += 400ms;
  d.step({100ms, 100ms}, 4e6);  // four times the target: a cut
  const double after_cut = d.rc.rate_bps();
  EXPECT_LT(after_cut, before * 0.9);
  EXPECT_GE(after_cut, before * 0.5);  // never more than half at once
  d.step({60ms}, 4e6);  // draining: no second cut so soon
  d.step({40ms}, 4e6);
  EXPECT_EQ(d.rc.rate_bps(), after_cut);
}

TEST(RateController, GrowsOnlyWhileItHoldsTheNodeBackAndNeverPastTheCap) {
  auto c = config();
  c.max_bps = 5e6;
  Drive d(c);
  for (int i = 0; i < 20; ++i) d.step({0ms}, 0, 0, false);  // no queue, but nothing waits to be sent either
  EXPECT_EQ(d.rc.rate_bps(), 4e6);
  for (int i = 0; i < 100; ++i) d.step({0ms}, 0, 0, true);  // five seconds with data waiting on the rate
  EXPECT_EQ(d.rc.rate_bps(), 5e6);  // grew to the cap, not past it
}

TEST(RateController, OneNeighboursSlowDownlinkDoesNotSlowTheWholeUplink) {
  Drive d;
  for (int i = 0; i < 40; ++i) d.step({0ms, 1ms, 0ms, 400ms}, 4e6, 4e6);
  EXPECT_GE(d.rc.rate_bps(), 4e6);
}

TEST(RateController, NeighboursThatLeftCarryNoWeight) {
  // The swarm hands over one voice per neighbour still there. When the only children leave (killed, with
  // no goodbye), there is nothing to hear at all: that says nothing of the uplink, and the rate holds.
  Drive d;
  for (int i = 0; i < 20; ++i) d.step({0ms}, 2e6, 2e6);
  const double before = d.rc.rate_bps();
  for (int i = 0; i < 60; ++i) d.step({}, 2e6, 2e6);
  EXPECT_GE(d.rc.rate_bps(), before);
}

TEST(RateController, WithNoQueueInSightWhatTheNodeWantsToSendGoesWithinASecond) {
  Drive d;
  // A new viewer arrives: the node owes its children 9 Mbit/s (a 6 Mbit/s stream's pushes and a join),
  // and its other neighbours see no queue.
  for (int i = 0; i < 20; ++i) d.step({0ms, 2ms}, 4e6, 9e6);
  EXPECT_GE(d.rc.rate_bps(), 9e6);
  // A queue then shows: the path has no room after all, and the rate comes down.
  for (int i = 0; i < 10; ++i) d.step({120ms, 130ms}, 6e6, 9e6);
  EXPECT_LT(d.rc.rate_bps(), 9e6 * 0.8);
}

TEST(RateController, BeforeAnyNeighbourCanTellItGoesNoFurtherThanItsStartingRate) {
  Drive d;
  for (int i = 0; i < 6; ++i) d.step({}, 4e6, 9e6);
  EXPECT_EQ(d.rc.rate_bps(), 4e6);
  for (int i = 0; i < 6; ++i) d.step({0ms}, 4e6, 9e6);  // the first word comes: no queue
  EXPECT_GE(d.rc.rate_bps(), 9e6);
}

TEST(RateController, SaysWhenTheLinkCannotCarryTheChildren) {
  Drive d;
  bool overloaded = false;
  for (int i = 0; i < 100 && !overloaded; ++i) {  // children are owed 6 Mbit/s; the queue keeps standing
    d.step({80ms}, 3.2e6, 6e6);
    overloaded = d.rc.take_overloaded();
  }
  EXPECT_TRUE(overloaded);
  EXPECT_FALSE(d.rc.take_overloaded());  // taken once
}

}  // namespace
}  // namespace p2plive
