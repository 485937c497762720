// Millisecond histogram: exact percentiles and a CDF at 1 ms resolution, in constant memory, however many
// samples 100,000 peers produce.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace p2plive::sim {

class Histogram {
 public:
  explicit Histogram(std::size_t max_ms = 60'000) : buckets_(max_ms + 1) {}
  void add(double ms) {
    ++buckets_[bucket(ms)];
    ++count_;
  }
  std::uint64_t count() const { return count_; }
  std::uint64_t count_at(double ms) const { return buckets_[bucket(ms)]; }
  std::uint64_t count_from(double ms) const {
    std::uint64_t n = 0;
    for (auto b = bucket(ms); b < buckets_.size(); ++b) n += buckets_[b];
    return n;
  }
  double percentile(double p) const {
    if (count_ == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(p * static_cast<double>(count_ - 1));
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < buckets_.size(); ++b) {
      seen += buckets_[b];
      if (seen > rank) return static_cast<double>(b);
    }
    return static_cast<double>(buckets_.size() - 1);
  }
  // (ms, fraction of samples <= ms) at each bucket where the CDF moves, for plots.
  std::vector<std::pair<double, double>> cdf() const {
    std::vector<std::pair<double, double>> points;
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < buckets_.size(); ++b) {
      if (!buckets_[b]) continue;
      seen += buckets_[b];
      points.emplace_back(static_cast<double>(b), static_cast<double>(seen) / static_cast<double>(count_));
    }
    return points;
  }

 private:
  std::size_t bucket(double ms) const {
    const auto b = ms <= 0 ? 0 : static_cast<std::size_t>(ms);
    return b < buckets_.size() ? b : buckets_.size() - 1;
  }
  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
};

}  // namespace p2plive::sim
