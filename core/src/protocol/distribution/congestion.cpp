#include "protocol/distribution/congestion.hpp"

#include <algorithm>
#include <cmath>

namespace p2plive {
namespace {

// One-way samples are (receive clock - send clock) modulo 2^32: compare them as signed differences.
bool earlier(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) < 0; }

}  // namespace

void DelayMeter::sample(std::uint32_t sent_us, Time now) {
  const auto one_way = static_cast<std::uint32_t>(static_cast<std::uint64_t>(now.count())) - sent_us;
  last_ = one_way;
  latest_ = now;
  if (!any_) {
    any_ = true;
    first_ = now;
    current_min_ = previous_min_ = one_way;
    window_start_ = now;
    return;
  }
  if (now - window_start_ >= base_window) {
    previous_min_ = current_min_;
    current_min_ = one_way;
    window_start_ = now;
  } else if (earlier(one_way, current_min_)) {
    current_min_ = one_way;
  }
}

std::optional<Time> DelayMeter::queue_delay() const {
  if (!any_ || latest_ - first_ < settle) return std::nullopt;
  const auto base = earlier(previous_min_, current_min_) ? previous_min_ : current_min_;
  const auto delay = static_cast<std::int32_t>(last_ - base);
  return Time{std::max<std::int32_t>(0, delay)};
}

RateController::RateController(RateControlConfig config) : config_(config), rate_bps_(config.initial_bps) {
  if (config_.max_bps > 0) rate_bps_ = std::min(rate_bps_, config_.max_bps);
}

bool RateController::take_overloaded() {
  const bool overloaded = overloaded_;
  overloaded_ = false;
  return overloaded;
}

void RateController::update(const RateInputs& in, Time now) {
  if (last_update_ >= Time{0} && now - last_update_ < config_.interval) return;
  const double seconds = last_update_ >= Time{0} ? static_cast<double>((now - last_update_).count()) / 1e6 : 0;
  if (seconds > 0) {
    const auto bps = [seconds](std::uint64_t now_bytes, std::uint64_t then) {
      return static_cast<double>(now_bytes - then) * 8 / seconds;
    };
    const double sent = bps(in.sent_bytes, last_sent_);
    sent_bps_ += (sent - sent_bps_) * std::min(1.0, seconds);  // about a second of memory
    recent_sent_bps_ += (sent - recent_sent_bps_) * std::min(1.0, 4 * seconds);  // about a quarter
    const double pushed = bps(in.push_demand_bytes, last_pushed_);
    pushed_bps_ += (pushed - pushed_bps_) * std::min(1.0, seconds);
    recent_pushed_bps_ += (pushed - recent_pushed_bps_) * std::min(1.0, 4 * seconds);
  }
  last_update_ = now;
  last_sent_ = in.sent_bytes;
  last_pushed_ = in.push_demand_bytes;

  std::optional<Time> delay;
  if (!in.queue_delays.empty()) {
    // The standing queue: a low quantile of what the neighbours say. Our uplink delays everything we send;
    // one neighbour's slow downlink, or a report taken during a burst, delays only some.
    std::vector<Time> delays(in.queue_delays.begin(), in.queue_delays.end());
    const auto q = delays.begin() + static_cast<std::ptrdiff_t>(delays.size() / 4);
    std::nth_element(delays.begin(), q, delays.end());
    delay = *q;
  }

  // Overloaded: for a while the children have been owed clearly more than the rate lets out. Either the
  // link is full (the queue keeps the rate down) or the user's cap is; either way it cannot carry them.
  if (pushed_bps_ > rate_bps_ * config_.push_margin) {
    if (!overloaded_since_) overloaded_since_ = now;
    if (now - *overloaded_since_ >= config_.overload_after) {
      overloaded_ = true;
      overloaded_since_ = now;
    }
  } else {
    overloaded_since_.reset();
  }

  if (delay && *delay > config_.target) {
    quiet_since_.reset();
    if (!congested_) {
      // A queue has just formed: the link is full, so what we sent lately is about what it carries.
      congested_ = true;
      slow_start_ = false;
      if (recent_sent_bps_ > config_.min_bps) capacity_bps_ = 0.95 * recent_sent_bps_;
    }
    capacity_seen_ = now;
    // Cut in proportion to how far past the target the queue stands. Then hold while it drains: the
    // reports lag behind, and the queue empties only as fast as the rate stays below the link's. Cutting
    // again meanwhile would overshoot far below the link.
    const bool draining = *delay < delay_at_backoff_ * 9 / 10;
    const auto held = now - last_backoff_;
    if (held >= config_.drain_hold || (held >= config_.backoff_hold && !draining)) {
      const double excess =
          static_cast<double>((*delay - config_.target).count()) / static_cast<double>(config_.target.count());
      rate_bps_ *= 1 - std::min(config_.max_backoff, config_.backoff * excess);
      last_backoff_ = now;
      delay_at_backoff_ = *delay;
    }
  } else if (!delay || *delay < config_.target / 2) {
    // No queue, or nobody yet able to tell (every neighbour is new): nothing says the path is full.
    if (!quiet_since_) quiet_since_ = now;
    if (congested_ && now - *quiet_since_ >= config_.backoff_hold) congested_ = false;
    // The link carried more than we thought without a queue: it can.
    if (capacity_bps_ > 0 && recent_sent_bps_ > capacity_bps_) capacity_bps_ = recent_sent_bps_;
    if (in.rate_limited && delay) {
      // Quickly in slow start and back up to the link's known capacity; slowly beyond it, because the
      // reports lag behind the rate.
      const bool fast = slow_start_ || rate_bps_ < capacity_bps_;
      const double growth = fast ? config_.fast_growth : config_.growth;
      rate_bps_ *= std::pow(1 + growth, seconds / (static_cast<double>(config_.interval.count()) / 1e6));
    }
    // What the children are owed goes at once while the path shows room, as far as the link is known to
    // carry it: a capacity that a real queue showed lately. Without one (an open path, or no queue for a
    // while), nothing holds the stream back; if the path has no room, the next reports say so. (Repairs
    // and replies get only what the rate grows to: they are not the stream.)
    if (capacity_bps_ > 0 && now - capacity_seen_ > config_.capacity_memory) capacity_bps_ = 0;
    double wanted = config_.push_margin * recent_pushed_bps_;
    if (capacity_bps_ > 0) wanted = std::min(wanted, capacity_bps_);
    // With nobody yet able to tell (every neighbour new, for a few hundred milliseconds), no further than
    // the rate a node starts at.
    if (!delay) wanted = std::min(wanted, std::max(rate_bps_, config_.initial_bps));
    rate_bps_ = std::max(rate_bps_, wanted);
  }
  rate_bps_ = std::max(rate_bps_, config_.min_bps);
  if (config_.max_bps > 0) rate_bps_ = std::min(rate_bps_, config_.max_bps);
}

}  // namespace p2plive
