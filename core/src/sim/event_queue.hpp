// The simulator's pending events, popped in (time, push order): what a std::priority_queue keyed on
// (time, push counter) would give, at a fraction of its cost once millions of events are pending.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "protocol/time.hpp"

namespace p2plive::sim {

// What happens at one instant. The datagram of a delivery sits in a side table, so the queue moves 16-byte
// records, never buffers.
struct Event {
  enum class Kind : std::uint8_t { reach, deliver, timer, publish, churn, arrive, leave, kill, unreachable, restart, resume };
  Kind kind = Kind::timer;
  std::uint32_t peer = 0;
  std::uint32_t from = 0;
  std::uint32_t datagram = 0;  // reach, deliver: index into the simulation's datagrams in flight
};

// A wheel of 256 µs buckets covering 2.1 s. A push appends to its bucket's blocks: O(1), and the blocks
// of the next few milliseconds stay in cache. When time reaches a bucket, a stable counting sort on the
// microsecond puts its events in order; what is pushed into the bucket being drained goes to a small heap
// that pop() merges. Events beyond the wheel (arrivals seconds ahead) wait in a heap and join their bucket
// before anything can be pushed there directly, so a bucket's blocks are always in push order.
class EventQueue {
 public:
  EventQueue();
  ~EventQueue();
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // `at` is never before the last popped event's time.
  void push(Time at, const Event& e);
  // The next event due at or before `limit`, with its time; false when there is none.
  bool pop(Time limit, Time& at, Event& e);
  std::size_t size() const { return size_; }

 private:
  struct Entry {
    Event event;
    std::uint32_t offset = 0;  // microseconds into its bucket
  };
  struct Block;
  struct Bucket {
    Block* head = nullptr;
    Block* tail = nullptr;
  };
  struct Timed {
    Time at;
    std::uint64_t order;
    Event event;
    bool operator>(const Timed& o) const { return at != o.at ? at > o.at : order > o.order; }
  };

  void append(std::int64_t bucket, std::uint32_t offset, const Event& e);
  void enter(std::int64_t bucket);  // sorts the bucket into sorted_ and makes it the current one
  Block* take_block();

  std::vector<Bucket> wheel_;
  std::vector<std::unique_ptr<Block>> blocks_;  // every block ever made
  std::vector<Block*> free_blocks_;
  std::int64_t current_ = 0;      // the bucket being drained: sorted_ holds its events in order
  std::vector<Entry> sorted_;
  std::size_t head_ = 0;
  std::vector<Timed> late_;       // pushed into the current bucket while it drains (a min-heap)
  std::vector<Timed> far_;        // beyond the wheel (a min-heap)
  std::vector<std::uint32_t> counts_;
  std::uint64_t pushed_ = 0;
  std::size_t size_ = 0;
};

}  // namespace p2plive::sim
