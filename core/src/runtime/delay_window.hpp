// Percentiles of the chunk delay (signed -> verified here) over the most recent samples.
#pragma once

#include <cstddef>
#include <vector>

namespace p2plive {

class DelayWindow {
 public:
  explicit DelayWindow(std::size_t capacity = 1024) : capacity_(capacity) {}
  void add(double delay_ms);
  double percentile(double p) const;  // p in [0, 1]; 0 when empty

 private:
  std::size_t capacity_;
  std::vector<double> samples_;
  std::size_t next_ = 0;
};

}  // namespace p2plive
