#include "runtime/delay_window.hpp"

#include <algorithm>
#include <cmath>

namespace p2plive {

void DelayWindow::add(double delay_ms) {
  if (samples_.size() < capacity_) {
    samples_.push_back(delay_ms);
  } else {
    samples_[next_] = delay_ms;
    next_ = (next_ + 1) % capacity_;
  }
}

double DelayWindow::percentile(double p) const {
  if (samples_.empty()) return 0;
  auto copy = samples_;
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(copy.size()))) ;
  const auto index = std::min(copy.size() - 1, rank == 0 ? 0 : rank - 1);
  std::nth_element(copy.begin(), copy.begin() + static_cast<std::ptrdiff_t>(index), copy.end());
  return copy[index];
}

}  // namespace p2plive
