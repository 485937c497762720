#include "sim/event_queue.hpp"

#include <algorithm>
#include <array>
#include <functional>

namespace p2plive::sim {
namespace {
constexpr int bucket_bits = 8;  // 256 µs
constexpr std::int64_t bucket_width = std::int64_t{1} << bucket_bits;
constexpr std::int64_t wheel_buckets = 8192;  // 2.1 s: deliveries, ticks and publishes all land on the wheel
constexpr std::size_t block_entries = 126;

std::int64_t bucket_of(Time at) { return at.count() >> bucket_bits; }
std::uint32_t offset_of(Time at) { return static_cast<std::uint32_t>(at.count() & (bucket_width - 1)); }
std::size_t slot_of(std::int64_t bucket) { return static_cast<std::size_t>(bucket % wheel_buckets); }
}  // namespace

struct EventQueue::Block {
  std::array<Entry, block_entries> entries;
  std::uint32_t count = 0;
  Block* next = nullptr;
};

EventQueue::EventQueue() : wheel_(static_cast<std::size_t>(wheel_buckets)), counts_(bucket_width + 1) {}
EventQueue::~EventQueue() = default;

EventQueue::Block* EventQueue::take_block() {
  if (free_blocks_.empty()) {
    blocks_.push_back(std::make_unique<Block>());
    return blocks_.back().get();
  }
  auto* b = free_blocks_.back();
  free_blocks_.pop_back();
  b->count = 0;
  b->next = nullptr;
  return b;
}

void EventQueue::append(std::int64_t bucket, std::uint32_t offset, const Event& e) {
  auto& slot = wheel_[slot_of(bucket)];
  if (!slot.tail || slot.tail->count == block_entries) {
    auto* b = take_block();
    (slot.tail ? slot.tail->next : slot.head) = b;
    slot.tail = b;
  }
  slot.tail->entries[slot.tail->count++] = Entry{e, offset};
}

void EventQueue::push(Time at, const Event& e) {
  ++size_;
  const auto bucket = bucket_of(at);
  const auto order = pushed_++;
  if (bucket <= current_) {
    late_.push_back(Timed{at, order, e});
    std::push_heap(late_.begin(), late_.end(), std::greater<>{});
  } else if (bucket - current_ < wheel_buckets) {
    append(bucket, offset_of(at), e);
  } else {
    far_.push_back(Timed{at, order, e});
    std::push_heap(far_.begin(), far_.end(), std::greater<>{});
  }
}

void EventQueue::enter(std::int64_t bucket) {
  current_ = bucket;
  // The bucket that just came within the wheel's span takes its far events now, ahead of any direct push.
  while (!far_.empty() && bucket_of(far_.front().at) - current_ < wheel_buckets) {
    std::pop_heap(far_.begin(), far_.end(), std::greater<>{});
    const auto& f = far_.back();
    append(bucket_of(f.at), offset_of(f.at), f.event);
    far_.pop_back();
  }
  sorted_.clear();
  head_ = 0;
  auto& slot = wheel_[slot_of(bucket)];
  if (!slot.head) return;
  // Stable counting sort on the offset: the blocks are in push order, so ties stay in push order.
  std::fill(counts_.begin(), counts_.end(), 0);
  std::size_t n = 0;
  for (auto* b = slot.head; b; b = b->next) {
    for (std::uint32_t i = 0; i < b->count; ++i) ++counts_[b->entries[i].offset + 1];
    n += b->count;
  }
  for (std::size_t i = 1; i < counts_.size(); ++i) counts_[i] += counts_[i - 1];
  sorted_.resize(n);
  for (auto* b = slot.head; b;) {
    for (std::uint32_t i = 0; i < b->count; ++i) sorted_[counts_[b->entries[i].offset]++] = b->entries[i];
    auto* next = b->next;
    free_blocks_.push_back(b);
    b = next;
  }
  slot = {};
}

bool EventQueue::pop(Time limit, Time& at, Event& e) {
  for (;;) {
    const bool have_sorted = head_ < sorted_.size();
    if (have_sorted || !late_.empty()) {
      const Time sorted_at = have_sorted ? Time{(current_ << bucket_bits) + sorted_[head_].offset} : Time::max();
      // On equal times the sorted entry was pushed first: everything in late_ came while the bucket drained.
      if (late_.empty() || sorted_at <= late_.front().at) {
        if (sorted_at > limit) return false;
        at = sorted_at;
        e = sorted_[head_++].event;
      } else {
        if (late_.front().at > limit) return false;
        std::pop_heap(late_.begin(), late_.end(), std::greater<>{});
        at = late_.back().at;
        e = late_.back().event;
        late_.pop_back();
      }
      --size_;
      return true;
    }
    if (Time{(current_ + 1) << bucket_bits} > limit) return false;
    enter(current_ + 1);
  }
}

}  // namespace p2plive::sim
