// The simulator's event queue must pop exactly what a priority queue on (time, push order) pops: the
// simulation's determinism, and its meaning, rest on that order.
#include <gtest/gtest.h>

#include <queue>
#include <random>
#include <tuple>

#include "sim/event_queue.hpp"

namespace p2plive::sim {
namespace {

struct Reference {
  using Item = std::tuple<std::int64_t, std::uint64_t, std::uint32_t>;  // time, push order, id
  std::priority_queue<Item, std::vector<Item>, std::greater<>> heap;
  std::uint64_t pushed = 0;
  void push(Time at, std::uint32_t id) { heap.emplace(at.count(), pushed++, id); }
};

// Pushes while popping, as the simulator does: each popped event schedules up to three more, some at the
// same microsecond, some within the bucket, some across the wheel's span and far beyond it.
void run_mixed(std::uint64_t seed, Time limit) {
  std::mt19937_64 rng(seed);
  EventQueue queue;
  Reference ref;
  std::uint32_t next_id = 0;
  const auto push = [&](Time at) {
    queue.push(at, Event{Event::Kind::timer, next_id, 0, 0});
    ref.push(at, next_id++);
  };
  for (int i = 0; i < 200; ++i) push(Time{static_cast<std::int64_t>(rng() % 5'000'000)});
  const Time leads[] = {0us, 1us, 100us, 255us, 256us, 3ms, 500ms, 2'097'151us, 2'097'152us, 2'500'000us};
  Time at{0};
  Event e;
  std::size_t popped = 0;
  while (queue.pop(limit, at, e)) {
    ASSERT_FALSE(ref.heap.empty());
    const auto [ref_at, order, ref_id] = ref.heap.top();
    ref.heap.pop();
    ASSERT_EQ(at.count(), ref_at) << "pop " << popped;
    ASSERT_EQ(e.peer, ref_id) << "pop " << popped;
    ++popped;
    const auto children = rng() % 4;
    for (std::uint64_t c = 0; c < children && next_id < 60'000; ++c) push(at + leads[rng() % std::size(leads)] + Time{static_cast<std::int64_t>(rng() % 50)});
  }
  // Whatever is left is due after the limit, in both.
  EXPECT_TRUE(ref.heap.empty() || std::get<0>(ref.heap.top()) > limit.count());
  EXPECT_EQ(queue.size(), ref.heap.size());
  EXPECT_GT(popped, 1000u);
}

TEST(EventQueue, PopsInTimeThenPushOrder) { run_mixed(1, 20s); }
TEST(EventQueue, PopsInTimeThenPushOrderWithOtherSeeds) {
  for (std::uint64_t seed = 2; seed < 6; ++seed) run_mixed(seed, 8s);
}

TEST(EventQueue, StopsAtTheLimitAndResumesLater) {
  EventQueue q;
  q.push(10us, Event{Event::Kind::timer, 1});
  q.push(5s, Event{Event::Kind::timer, 2});  // beyond the wheel's span
  Time at{0};
  Event e;
  ASSERT_TRUE(q.pop(1s, at, e));
  EXPECT_EQ(at, 10us);
  EXPECT_FALSE(q.pop(1s, at, e));
  ASSERT_TRUE(q.pop(6s, at, e));
  EXPECT_EQ(at, 5s);
  EXPECT_EQ(e.peer, 2u);
  EXPECT_FALSE(q.pop(60s, at, e));
}

}  // namespace
}  // namespace p2plive::sim
