// Delay-based congestion control after LEDBAT (RFC 6817). A home uplink is the narrowest link a node sends
// on, and it shows congestion as a growing queue long before it drops anything. So every node stamps its
// buffer maps and hellos with its own clock; each receiver keeps the fastest one-way time it has seen from
// that sender (its base) and reports back how much longer the latest one took. The sender takes the
// smallest fresh report over its neighbours (its own uplink delays them all; one receiver's slow downlink
// delays only that one; a report taken during a burst of pushes is high, one taken between bursts is not)
// and steers its send rate to keep that standing queue below a small target: the stream's own chunks must
// not wait behind a full modem buffer, and neither must the household's other traffic. Reports are kept per
// neighbour by the swarm and matched to the maps it really sent, so a departed or lying peer carries no
// weight beyond its own single voice.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "protocol/time.hpp"

namespace p2plive {

// Receive side, one per peer: the queueing delay that peer's datagrams show at us. The clocks of the two
// nodes are unrelated; only differences between one-way samples count, so the offset cancels out.
class DelayMeter {
 public:
  // A datagram the peer stamped with its clock (microseconds, modulo 2^32) arrived now.
  void sample(std::uint32_t sent_us, Time now);
  // How much longer than the base its latest datagram took; nullopt until the samples span `settle`. A
  // base taken only while the sender's queue stood would be too high and its reports too low, so a
  // meter reports nothing until it has watched the sender for a while (LEDBAT's latecomer problem).
  std::optional<Time> queue_delay() const;

 private:
  static constexpr Time base_window = 30s;  // the base is the minimum over the last one to two windows,
                                            // so that clock drift and route changes age out
  static constexpr Time settle = 300ms;
  bool any_ = false;
  std::uint32_t last_ = 0;
  std::uint32_t current_min_ = 0;
  std::uint32_t previous_min_ = 0;
  Time window_start_{0};
  Time first_{0};
  Time latest_{0};
};

struct RateControlConfig {
  double initial_bps = 4e6;
  double min_bps = 200e3;
  double max_bps = 0;           // the user's upload cap; 0: none
  Time target = 25ms;           // standing queueing delay the controller keeps below
  Time interval = 50ms;         // at most one adjustment per interval
  double growth = 0.0025;       // per interval, while the rate holds the node back and the queue is short
                                // (about 5 % a second: reports lag behind)...
  double fast_growth = 0.025;   // ...but 1.6x a second before the first sign of a queue (TCP's slow start),
                                // and back up to the link's known capacity after a cut (as CUBIC does)
  double backoff = 0.2;         // the cut when the queue stands at twice the target...
  double max_backoff = 0.5;     // ...growing with it up to this
  Time backoff_hold = 300ms;    // after a cut, no second one this soon, nor while the queue is draining...
  Time drain_hold = 1s;         // ...unless it drains this slowly
  double push_margin = 1.1;     // with no queue, the rate covers this factor of the pushes owed to children,
  Time capacity_memory = 10s;   // up to what a queue lately (this long) showed the link carries; owed
                                // beyond this factor of the rate...
  Time overload_after = 2s;     // ...for this long, mean the node has more children than its link (or the
                                // user's cap) can carry
};

// What the node's neighbours say of its uplink, and what it has sent and wanted to send (totals so far).
struct RateInputs {
  // One entry per neighbour that lately told us how much longer than its fastest our stamped datagrams
  // took to reach it, or that is alive but stopped answering our maps (their loss counts as a long queue).
  // One each: a chatty neighbour counts once, and a departed one's word leaves with it.
  std::span<const Time> queue_delays;
  std::uint64_t sent_bytes = 0;
  std::uint64_t push_demand_bytes = 0;  // pushes to children offered to the send queue, sent or refused
  bool rate_limited = false;            // the rate held the node back since the last update
};

// Send side: one rate for the node's whole uplink, paced by the send queue.
class RateController {
 public:
  explicit RateController(RateControlConfig config);

  // Called about once an interval. The rate grows only while it holds the node back, so that a quiet node
  // cannot build up a rate it never tested and then flood its link with it. With no queue in sight, it
  // never stays below what its children are owed: on a path with room, the stream is never starved.
  void update(const RateInputs& in, Time now);
  double rate_bps() const { return rate_bps_; }
  // For overload_after the live pushes owed to children have clearly exceeded the rate: the node should
  // shed a child. Cleared by the call.
  bool take_overloaded();
  // Raises (or lowers) the floor the rate never goes below (never above the cap).
  void set_min_bps(double bps) { config_.min_bps = config_.max_bps > 0 ? std::min(bps, config_.max_bps) : bps; }

 private:
  RateControlConfig config_;
  double rate_bps_;
  Time last_update_{-1};
  Time last_backoff_{-3600s};
  bool slow_start_ = true;       // no queue seen yet
  bool congested_ = false;       // a queue stands (since it formed, until it has been gone a while)
  std::optional<Time> quiet_since_;
  double capacity_bps_ = 0;      // what the link carries, as far as a queue has shown (0: not known)
  Time capacity_seen_{0};        // when a queue last stood
  Time delay_at_backoff_{0};
  std::uint64_t last_sent_ = 0;
  std::uint64_t last_pushed_ = 0;
  double sent_bps_ = 0;          // smoothed throughput, over about a second...
  double recent_sent_bps_ = 0;   // ...and over about a quarter of one
  double pushed_bps_ = 0;        // pushes owed, over about a second...
  double recent_pushed_bps_ = 0; // ...and over about a quarter of one
  std::optional<Time> overloaded_since_;
  bool overloaded_ = false;
};

}  // namespace p2plive
