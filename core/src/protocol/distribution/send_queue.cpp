#include "protocol/distribution/send_queue.hpp"

#include <algorithm>
#include <cmath>

namespace p2plive {

void SendQueue::refill(Time now) {
  if (config_.rate_bps <= 0 || now <= refilled_at_) return;
  const double earned = config_.rate_bps * static_cast<double>((now - refilled_at_).count()) / 8e6;
  // The bucket holds at least one full datagram, or a slow rate could never send one.
  tokens_bytes_ = std::min(std::max(budget_bytes(config_.burst), 1500.0), tokens_bytes_ + earned);
  refilled_at_ = now;
}

void SendQueue::set_rate(double rate_bps, Time now) {
  refill(now);
  config_.rate_bps = rate_bps;
  refilled_at_ = std::max(refilled_at_, now);
}

bool SendQueue::take_rate_limited() {
  const bool limited = rate_limited_;
  rate_limited_ = false;
  return limited;
}

bool SendQueue::enqueue(SendClass cls, Outgoing outgoing, Time now) {
  const auto c = static_cast<std::size_t>(cls);
  if (outgoing.owed) push_demand_bytes_ += outgoing.size;
  bool fits = queued_datagrams_ < config_.max_datagrams;
  if (fits && config_.rate_bps > 0 && cls != SendClass::control) {
    refill(now);
    // Bytes that must leave before this one, against what the rate moves within the class's budget.
    double ahead = 0;
    for (std::size_t before = 0; before <= c; ++before) ahead += static_cast<double>(queued_bytes_[before]);
    const auto budget = cls == SendClass::key     ? config_.key_budget
                        : cls == SendClass::push  ? config_.push_budget
                        : cls == SendClass::reply ? config_.reply_budget
                                                  : config_.repair_budget;
    fits = ahead + outgoing.size - tokens_bytes_ <= budget_bytes(budget);
    if (!fits) rate_limited_ = true;
  }
  if (!fits) {
    ++dropped_;
    return false;
  }
  outgoing.cls = cls;
  queued_bytes_[c] += outgoing.size;
  ++queued_datagrams_;
  queues_[c].push_back(std::move(outgoing));
  return true;
}

std::optional<Outgoing> SendQueue::poll(Time now) {
  refill(now);
  for (std::size_t c = 0; c < queues_.size(); ++c) {
    auto& q = queues_[c];
    if (q.empty()) continue;
    const auto size = static_cast<double>(q.front().size);
    // Control messages go at once (they may borrow against the rate); data waits for its tokens.
    if (config_.rate_bps > 0 && c != 0 && tokens_bytes_ < size) {
      rate_limited_ = true;
      return std::nullopt;
    }
    if (config_.rate_bps > 0) tokens_bytes_ -= size;
    auto t = std::move(q.front());
    q.pop_front();
    queued_bytes_[c] -= t.size;
    --queued_datagrams_;
    sent_bytes_ += t.size;
    return t;
  }
  return std::nullopt;
}

std::size_t SendQueue::queued_data_bytes() const {
  std::size_t n = 0;
  for (std::size_t c = 1; c < queues_.size(); ++c) n += queued_bytes_[c];
  return n;
}

Time SendQueue::queued_data_time() const {
  if (config_.rate_bps <= 0) return Time{0};
  return Time{static_cast<std::int64_t>(static_cast<double>(queued_data_bytes()) * 8e6 / config_.rate_bps)};
}

std::size_t SendQueue::purge(const Endpoint& to) {
  std::size_t purged = 0;
  for (std::size_t c = 0; c < queues_.size(); ++c) {
    auto& q = queues_[c];
    for (auto it = q.begin(); it != q.end();) {
      if (it->to != to) {
        ++it;
        continue;
      }
      queued_bytes_[c] -= it->size;
      --queued_datagrams_;
      ++purged;
      it = q.erase(it);
    }
  }
  return purged;
}

std::optional<Time> SendQueue::next_ready() const {
  if (!queues_[0].empty()) return refilled_at_;
  for (std::size_t c = 1; c < queues_.size(); ++c) {
    if (queues_[c].empty()) continue;
    if (config_.rate_bps <= 0) return refilled_at_;
    const double deficit = static_cast<double>(queues_[c].front().size) - tokens_bytes_;
    if (deficit <= 0) return refilled_at_;
    return refilled_at_ + Time{static_cast<std::int64_t>(std::ceil(deficit * 8e6 / config_.rate_bps))};
  }
  return std::nullopt;
}

}  // namespace p2plive
