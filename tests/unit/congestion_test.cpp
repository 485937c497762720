// Delay-based congestion control: the receive-side meter and the send-side rate, fed literal samples.
#include <gtest/gtest.h>

#include "protocol/congestion.hpp"

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
  m.sample(stamp(500ms), 530ms);
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

TEST(RateController, CutsWhenNeighboursSeeAQueueAndHoldsWhileItDrains) {
  RateController rc(config());
  Time now = 0ms;
  std::uint64_t sent = 0;
  const auto tick = [&](Time delay) {
    now += 50ms;
    sent += 25'000;  // 4 Mbit/s
    rc.report(delay, now);
    rc.update(sent, 0, true, now);
  };
  tick(0ms);
  const double before = rc.rate_bps();
  now += 400ms;  // the report of no queue is stale now
  tick(100ms);   // four times the target: a cut
  const double after_cut = rc.rate_bps();
  EXPECT_LT(after_cut, before * 0.9);
  EXPECT_GE(after_cut, before * 0.5);  // never more than half at once
  tick(60ms);  // draining: no second cut so soon
  tick(40ms);
  EXPECT_EQ(rc.rate_bps(), after_cut);
}

TEST(RateController, GrowsOnlyWhileItHoldsTheNodeBackAndNeverPastTheCap) {
  auto c = config();
  c.max_bps = 5e6;
  RateController rc(c);
  Time now = 0ms;
  for (int i = 0; i < 20; ++i) {  // a second of no queue, but nothing waiting to be sent either
    now += 50ms;
    rc.report(0ms, now);
    rc.update(0, 0, false, now);
  }
  EXPECT_EQ(rc.rate_bps(), 4e6);
  for (int i = 0; i < 100; ++i) {  // five seconds with data waiting on the rate
    now += 50ms;
    rc.report(0ms, now);
    rc.update(0, 0, true, now);
  }
  EXPECT_EQ(rc.rate_bps(), 5e6);  // grew to the cap, not past it
}

TEST(RateController, SilenceFromEveryNeighbourWhileSendingCountsAsAFullQueue) {
  RateController rc(config());
  Time now = 0ms;
  std::uint64_t sent = 0;
  rc.report(0ms, now);
  for (int i = 0; i < 60; ++i) {  // three seconds of sending, no reports after the first
    now += 50ms;
    sent += 25'000;
    rc.update(sent, 0, true, now);
  }
  EXPECT_LT(rc.rate_bps(), 4e6 * 0.8);
}

TEST(RateController, SaysWhenTheLinkCannotCarryTheChildren) {
  RateController rc(config());
  Time now = 0ms;
  std::uint64_t sent = 0, owed = 0;
  bool overloaded = false;
  for (int i = 0; i < 100 && !overloaded; ++i) {  // children are owed 6 Mbit/s; the queue keeps standing
    now += 50ms;
    sent += 20'000;
    owed += 37'500;
    rc.report(80ms, now);
    rc.update(sent, owed, true, now);
    overloaded = rc.take_overloaded();
  }
  EXPECT_TRUE(overloaded);
  EXPECT_FALSE(rc.take_overloaded());  // taken once
}

TEST(RateController, WithNoQueueTheChildrenGetWhatTheyAreOwed) {
  RateController rc(config());
  Time now = 0ms;
  std::uint64_t owed = 0;
  for (int i = 0; i < 40; ++i) {
    now += 50ms;
    owed += 50'000;  // 8 Mbit/s owed to children, twice the starting rate
    rc.report(0ms, now);
    rc.update(0, owed, true, now);
  }
  EXPECT_GE(rc.rate_bps(), 8e6);
}

}  // namespace
}  // namespace p2plive
