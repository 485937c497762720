#include "protocol/session/prefix_budget.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace p2plive::session {

bool TokenBucket::take(double amount, Time now) {
  if (now > at_) {
    tokens_ = std::min(burst_, tokens_ + rate_ * std::chrono::duration<double>(now - at_).count());
    at_ = now;
  }
  if (tokens_ < amount) return false;
  tokens_ -= amount;
  return true;
}

PrefixBudget::PrefixBudget(double per_second, double burst, std::size_t buckets, const MacKey& key)
    : buckets_(std::max<std::size_t>(buckets, 1), TokenBucket(per_second, burst)), key_(key) {}

bool PrefixBudget::take(const Endpoint& from, double amount, Time now) {
  // The prefix a household or a hosting customer usually has to itself.
  std::array<std::uint8_t, 16> prefix{};
  const std::size_t keep = from.is_v4() ? 15 : 6;  // v4-mapped: 12 bytes of mapping, then three of the address
  std::copy_n(from.address.begin(), keep, prefix.begin());
  std::array<std::uint8_t, crypto_shorthash_BYTES> h{};
  crypto_shorthash(h.data(), prefix.data(), prefix.size(), key_.data());
  std::uint64_t v = 0;
  std::memcpy(&v, h.data(), sizeof v);
  return buckets_[v % buckets_.size()].take(amount, now);
}

}  // namespace p2plive::session
