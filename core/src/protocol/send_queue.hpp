// What a node sends, paced at its upload cap and in priority order: control messages first (never held
// back), then live pushes, then bulky replies (welcomes, peer lists), then repair answers. Each data class has a delay budget: a datagram that would
// wait longer than that for the uplink is dropped at once, because a late chunk is worth less than the
// capacity it would take from the next one. This keeps a node from queueing its own link into collapse.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "p2plive/endpoint.hpp"
#include "protocol/time.hpp"

namespace p2plive {

struct Transmit {
  Endpoint to;
  std::vector<std::uint8_t> bytes;
};

enum class SendClass : std::uint8_t { control = 0, push = 1, reply = 2, repair = 3 };

struct SendQueueConfig {
  double upload_cap_bps = 0;  // 0: unpaced
  Time burst = 20ms;          // how far ahead of the cap a quiet node may send
  Time push_budget = 400ms;
  Time reply_budget = 300ms;  // a flash crowd's welcomes must not crowd out the stream
  Time repair_budget = 150ms;
  std::size_t max_datagrams = 8192;
};

class SendQueue {
 public:
  explicit SendQueue(SendQueueConfig config) : config_(config) {}

  // False if the datagram was dropped (over its class's delay budget, or the queue is full).
  bool enqueue(SendClass cls, Transmit transmit, Time now);
  std::optional<Transmit> poll(Time now);
  // When poll() will next have something; nullopt when empty.
  std::optional<Time> next_ready() const;

  std::uint64_t sent_bytes() const { return sent_bytes_; }
  std::uint64_t dropped() const { return dropped_; }

 private:
  void refill(Time now);
  double budget_bytes(Time budget) const { return config_.upload_cap_bps * static_cast<double>(budget.count()) / 8e6; }

  SendQueueConfig config_;
  std::array<std::deque<Transmit>, 4> queues_;
  std::array<std::size_t, 4> queued_bytes_{};
  std::size_t queued_datagrams_ = 0;
  double tokens_bytes_ = 0;
  Time refilled_at_{0};
  std::uint64_t sent_bytes_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace p2plive
