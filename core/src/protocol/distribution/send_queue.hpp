// What a node sends, paced at its send rate and in priority order: control messages first (never held
// back), then join points (a newcomer's first keyframe must not be the chunk that is lost), then live
// pushes, then bulky replies (welcomes, peer lists), then repair answers. Each data class
// has a delay budget: a datagram that would wait longer than that for the uplink is dropped at once,
// because a late chunk is worth less than the capacity it would take from the next one. This keeps a node
// from queueing its own link into collapse.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "p2plive/chunk.hpp"
#include "p2plive/endpoint.hpp"
#include "protocol/time.hpp"
#include "protocol/transmit.hpp"

namespace p2plive {

enum class SendClass : std::uint8_t { control = 0, key = 1, push = 2, reply = 3, repair = 4 };
inline constexpr std::size_t send_classes = 5;

// A datagram waiting to go: encoded bytes, or a fragment of a shared chunk that is encoded only when it
// leaves, so a queue of pushes to many children holds one copy of each chunk rather than one per child.
struct Outgoing {
  Endpoint to;
  std::vector<std::uint8_t> bytes;
  std::shared_ptr<const Chunk> chunk;
  std::uint8_t fragment = 0;
  std::uint16_t size = 0;  // on the wire
  bool owed = false;       // a push to a child (what congestion control weighs against the uplink)...
  bool live = false;       // ...of a chunk verified just now (what a node's forwarding wait measures)
  bool framed = false;     // bytes are a message (type, body) its session frames as it leaves
  SendClass cls = SendClass::control;  // set by enqueue()
};

struct SendQueueConfig {
  double rate_bps = 0;        // 0: unpaced
  Time burst = 20ms;          // how far ahead of the rate a quiet node may send
  Time key_budget = 800ms;    // a join point is worth waiting for: it is where every newcomer starts
  Time push_budget = 400ms;
  Time reply_budget = 300ms;  // a flash crowd's welcomes must not crowd out the stream
  Time repair_budget = 150ms;
  std::size_t max_datagrams = 8192;
};

class SendQueue {
 public:
  explicit SendQueue(SendQueueConfig config) : config_(config) {}

  // False if the datagram was dropped (over its class's delay budget, or the queue is full).
  bool enqueue(SendClass cls, Outgoing outgoing, Time now);
  std::optional<Outgoing> poll(Time now);
  // When poll() will next have something; nullopt when empty.
  std::optional<Time> next_ready() const;
  // Congestion control moves the rate; 0 means unpaced.
  void set_rate(double rate_bps, Time now);
  double rate_bps() const { return config_.rate_bps; }
  // Data waiting for the rate (everything but control), in bytes and in time at the current rate.
  std::size_t queued_data_bytes() const;
  Time queued_data_time() const;
  std::size_t queued_bytes() const { return queued_bytes_[0] + queued_data_bytes(); }  // control included
  // Whether the rate held the node back since the last call: data had to wait for it, or was refused.
  bool take_rate_limited();

  std::uint64_t sent_bytes() const { return sent_bytes_; }
  // Pushes offered to the queue, whether or not they fit: what the children are owed.
  std::uint64_t push_demand_bytes() const { return push_demand_bytes_; }
  // Drops whatever waits for `to` (a peer that left): a departed peer costs nothing.
  std::size_t purge(const Endpoint& to);
  std::uint64_t dropped() const { return dropped_; }

 private:
  void refill(Time now);
  double budget_bytes(Time budget) const { return config_.rate_bps * static_cast<double>(budget.count()) / 8e6; }

  SendQueueConfig config_;
  std::array<std::deque<Outgoing>, send_classes> queues_;
  std::array<std::size_t, send_classes> queued_bytes_{};
  std::size_t queued_datagrams_ = 0;
  double tokens_bytes_ = 0;
  Time refilled_at_{0};
  bool rate_limited_ = false;
  std::uint64_t sent_bytes_ = 0;
  std::uint64_t push_demand_bytes_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace p2plive
