// Delay-based congestion control after LEDBAT (RFC 6817). A home uplink is the narrowest link a node sends
// on, and it shows congestion as a growing queue long before it drops anything. So every node stamps its
// buffer maps and hellos with its own clock; each receiver keeps the fastest one-way time it has seen from
// that sender (its base) and reports back how much longer the latest one took. The sender takes the
// smallest fresh report over its neighbours (its own uplink delays them all; one receiver's slow downlink
// delays only that one; a report taken during a burst of pushes is high, one taken between bursts is not)
// and steers its send rate to keep that standing queue below a small target: the stream's own chunks must
// not wait behind a full modem buffer, and neither must the household's other traffic.
#pragma once

#include <cstdint>
#include <optional>
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
  static constexpr Time settle = 1s;
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
  Time report_window = 300ms;   // reports older than this no longer describe the queue
  Time silence = 1s;            // no report for this long while sending: our maps are lost in a full queue
  double growth = 0.0025;       // per interval, while the rate holds the node back and the queue is short
                                // (about 5 % a second: reports lag behind)...
  double fast_growth = 0.025;   // ...but 1.6x a second before the first sign of a queue (TCP's slow start),
                                // and back up to the link's known capacity after a cut (as CUBIC does)
  double backoff = 0.2;         // the cut when the queue stands at twice the target...
  double max_backoff = 0.5;     // ...growing with it up to this
  Time backoff_hold = 300ms;    // after a cut, no second one this soon, nor while the queue is draining...
  Time drain_hold = 1s;         // ...unless it drains this slowly
  double push_margin = 1.1;     // the rate covers this factor of the live pushes owed, if the link can;
                                // owed more than that...
  Time overload_after = 2s;     // ...and one that lasts this long means the node has more children than
                                // its link (or the user's cap) can carry
  std::size_t max_reports = 256;
};

// Send side: one rate for the node's whole uplink, paced by the send queue.
class RateController {
 public:
  explicit RateController(RateControlConfig config);

  // A neighbour's fresh measurement of our queueing delay.
  void report(Time queue_delay, Time now);
  // Called about once an interval, with the bytes sent so far, the live pushes owed so far, and whether
  // the rate held the node back since the last call. The rate grows only then, and never far beyond what
  // the node has lately sent, so that a quiet node cannot build up a rate it never tested and then flood
  // its link with it.
  void update(std::uint64_t sent_bytes, std::uint64_t push_demand_bytes, bool rate_limited, Time now);
  double rate_bps() const { return rate_bps_; }
  // For overload_after the live pushes owed to children have clearly exceeded the rate: the node should
  // shed a child. Cleared by the call.
  bool take_overloaded();

 private:
  RateControlConfig config_;
  double rate_bps_;
  struct Report {
    Time delay;
    Time at;
  };
  std::vector<Report> reports_;  // bounded; the recent ones describe the queue

  Time last_update_{-1};
  Time last_report_{-1};
  Time last_backoff_{-3600s};
  bool slow_start_ = true;       // no queue seen yet
  bool congested_ = false;       // a queue stands (since it formed, until it has been gone a while)
  std::optional<Time> quiet_since_;
  double capacity_bps_ = 0;      // what the link carries, as far as we know (0: not yet known)
  Time delay_at_backoff_{0};
  std::optional<Time> delay_;    // the latest standing queue, while reports are recent
  std::uint64_t last_sent_ = 0;
  std::uint64_t last_pushed_ = 0;
  double sent_bps_ = 0;          // smoothed throughput, over about a second...
  double recent_sent_bps_ = 0;   // ...and over about a quarter of one
  double pushed_bps_ = 0;
  std::optional<Time> overloaded_since_;
  bool overloaded_ = false;
};

}  // namespace p2plive
