// Token buckets for what strangers may cost us: one for everybody, and one per source prefix (/24 for
// IPv4, /48 for IPv6) in a fixed table indexed by a keyed hash. The table is bounded however many sources
// there are, and a stranger cannot choose to drain the bucket of someone else's prefix. Sources that
// collide share a bucket: that is the price of the bound.
#pragma once

#include <cstddef>
#include <vector>

#include "p2plive/endpoint.hpp"
#include "protocol/session/session_crypto.hpp"
#include "protocol/time.hpp"

namespace p2plive::session {

class TokenBucket {
 public:
  TokenBucket(double per_second, double burst) : rate_(per_second), burst_(burst), tokens_(burst) {}
  // Takes `amount` if it is there; a refusal takes nothing.
  bool take(double amount, Time now);

 private:
  double rate_, burst_, tokens_;
  Time at_{0};
};

class PrefixBudget {
 public:
  PrefixBudget(double per_second, double burst, std::size_t buckets, const MacKey& key);
  bool take(const Endpoint& from, double amount, Time now);

 private:
  std::vector<TokenBucket> buckets_;
  MacKey key_;
};

}  // namespace p2plive::session
