#include <gtest/gtest.h>

#include "protocol/distribution/send_queue.hpp"

namespace p2plive {
namespace {

Outgoing datagram(std::size_t size = 1200) {
  return Outgoing{Endpoint::loopback(1), std::vector<std::uint8_t>(size), nullptr, 0, static_cast<std::uint16_t>(size)};
}

// Drives the queue like a driver would: offers `offered_bps` of pushes, polls whenever it says it is ready.
struct Link {
  SendQueue queue;
  std::uint64_t sent = 0, offered = 0, dropped = 0;
  explicit Link(double cap_bps) : queue(SendQueueConfig{.rate_bps = cap_bps}) {}
  void run(double offered_bps, Time duration, SendClass cls = SendClass::push) {
    const Time step = 1ms;
    double credit = 0;
    for (Time now{0}; now < duration; now += step) {
      credit += offered_bps * static_cast<double>(step.count()) / 8e6;
      while (credit >= 1200) {
        credit -= 1200;
        ++offered;
        if (!queue.enqueue(cls, datagram(), now)) ++dropped;
      }
      while (auto t = queue.poll(now)) sent += t->size;
    }
  }
};

TEST(SendQueue, HoldsACappedLinkAtItsCapWhenOffered) {
  Link link(2e6);
  link.run(4e6, 5s);  // twice the cap
  const double sent_bps = static_cast<double>(link.sent) * 8 / 5.0;
  EXPECT_NEAR(sent_bps, 2e6, 0.05 * 2e6);
  // The excess is refused at the door instead of queueing without bound: about half the offer.
  EXPECT_NEAR(static_cast<double>(link.dropped) / static_cast<double>(link.offered), 0.5, 0.05);
}

TEST(SendQueue, UnderTheCapNothingIsDropped) {
  Link link(2e6);
  link.run(1.5e6, 5s);
  EXPECT_EQ(link.dropped, 0u);
  EXPECT_NEAR(static_cast<double>(link.sent) * 8 / 5.0, 1.5e6, 0.05 * 1.5e6);
}

TEST(SendQueue, ControlGoesFirstAndIsNeverHeldBack) {
  SendQueue q(SendQueueConfig{.rate_bps = 1e6});
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(q.enqueue(SendClass::push, datagram(), Time{0}));
  ASSERT_TRUE(q.enqueue(SendClass::control, datagram(40), Time{0}));
  auto first = q.poll(Time{0});
  ASSERT_TRUE(first);
  EXPECT_EQ(first->size, 40u);
}

TEST(SendQueue, RepairWaitsBehindPushAndIsDroppedFirstWhenLate) {
  SendQueue q(SendQueueConfig{.rate_bps = 1e6, .push_budget = 400ms, .repair_budget = 150ms});
  // 150 ms of a 1 Mbit/s link is 18,750 bytes: 15 datagrams of pushes fill the repair budget.
  for (int i = 0; i < 16; ++i) ASSERT_TRUE(q.enqueue(SendClass::push, datagram(), Time{0}));
  EXPECT_FALSE(q.enqueue(SendClass::repair, datagram(), Time{0}));
  EXPECT_TRUE(q.enqueue(SendClass::push, datagram(), Time{0}));
  EXPECT_EQ(q.dropped(), 1u);
}

TEST(SendQueue, TellsWhenItCanSendNext) {
  SendQueue q(SendQueueConfig{.rate_bps = 1e6});
  EXPECT_FALSE(q.next_ready());
  ASSERT_TRUE(q.enqueue(SendClass::push, datagram(), Time{0}));
  const auto ready = q.next_ready();
  ASSERT_TRUE(ready);
  EXPECT_GT(*ready, Time{0});
  EXPECT_FALSE(q.poll(*ready - 1us));
  EXPECT_TRUE(q.poll(*ready));
}

TEST(SendQueue, ASlowRateStillSendsWholeDatagrams) {
  // 20 ms of 200 kbit/s is 500 bytes, less than a datagram: the bucket must still fill to one.
  Link link(200e3);
  link.run(400e3, 5s);
  EXPECT_NEAR(static_cast<double>(link.sent) * 8 / 5.0, 200e3, 0.1 * 200e3);
}

TEST(SendQueue, ARateChangeTakesEffectAtOnceAndReportsWhenItHoldsTheNodeBack) {
  SendQueue q(SendQueueConfig{.rate_bps = 1e6});
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(q.enqueue(SendClass::push, datagram(), Time{0}));
  while (q.poll(Time{0})) {
  }
  EXPECT_TRUE(q.take_rate_limited());   // data waited for the rate
  EXPECT_FALSE(q.take_rate_limited());  // and the flag was taken
  q.set_rate(100e6, 1ms);
  int sent = 0;
  while (q.poll(2ms)) ++sent;
  EXPECT_GE(sent, 8);  // 1 ms at 100 Mbit/s moves all but what the burst bucket caps
}

TEST(SendQueue, CountsThePushesItIsOffered) {
  SendQueue q(SendQueueConfig{.rate_bps = 1e6, .push_budget = 10ms});
  for (int i = 0; i < 10; ++i) {
    auto d = datagram();
    d.owed = true;
    q.enqueue(SendClass::push, std::move(d), Time{0});
  }
  q.enqueue(SendClass::repair, datagram(), Time{0});
  q.enqueue(SendClass::control, datagram(), Time{0});
  EXPECT_EQ(q.push_demand_bytes(), 12000u);  // the refused ones count too: the children were owed them
  EXPECT_GT(q.dropped(), 0u);
}

TEST(SendQueue, JoinPointsGoAheadOfPushesAndRepairs) {
  SendQueue q(SendQueueConfig{.rate_bps = 1e6});
  auto to = [](std::uint16_t port) {
    auto d = datagram();
    d.to = Endpoint::loopback(port);
    return d;
  };
  q.enqueue(SendClass::repair, to(1), Time{0});
  q.enqueue(SendClass::push, to(2), Time{0});
  q.enqueue(SendClass::key, to(3), Time{0});
  std::vector<std::uint16_t> order;
  for (Time t{0}; t < 1s && order.size() < 3; t += 1ms)
    while (auto out = q.poll(t)) order.push_back(out->to.port);
  EXPECT_EQ(order, (std::vector<std::uint16_t>{3, 2, 1}));
}

TEST(SendQueue, APeerThatLeftLeavesNothingQueued) {
  SendQueue q(SendQueueConfig{.rate_bps = 1e6});
  for (int i = 0; i < 5; ++i) q.enqueue(SendClass::push, datagram(), Time{0});
  auto other = datagram();
  other.to = Endpoint::loopback(2);
  q.enqueue(SendClass::push, std::move(other), Time{0});
  EXPECT_EQ(q.purge(Endpoint::loopback(1)), 5u);
  std::vector<std::uint16_t> left;
  for (Time t{0}; t < 1s; t += 1ms)
    while (auto out = q.poll(t)) left.push_back(out->to.port);
  EXPECT_EQ(left, (std::vector<std::uint16_t>{2}));
  EXPECT_FALSE(q.next_ready());
}

TEST(SendQueue, UnpacedItOnlyBoundsItsLength) {
  SendQueue q(SendQueueConfig{.max_datagrams = 3});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(q.enqueue(SendClass::push, datagram(), Time{0}));
  EXPECT_FALSE(q.enqueue(SendClass::push, datagram(), Time{0}));
  int n = 0;
  while (q.poll(Time{0})) ++n;
  EXPECT_EQ(n, 3);
}

}  // namespace
}  // namespace p2plive
