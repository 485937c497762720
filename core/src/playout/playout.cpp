#include "playout/playout.hpp"

#include <algorithm>

namespace p2plive {

void Playout::push(std::shared_ptr<const Chunk> chunk, Time now) {
  const auto seq = chunk->seq.value;
  if (next_ && seq < *next_) {
    if (seq < *start_) ++stats_.chunks_before_start;
    else ++stats_.chunks_late;
    return;
  }
  waiting_.try_emplace(seq, Waiting{std::move(chunk), now});
  if (!next_) {
    // Start at the earliest join point we hold; anything before it cannot be decoded.
    const auto join = std::find_if(waiting_.begin(), waiting_.end(), [](const auto& w) { return w.second.chunk->is_join_point(); });
    if (join == waiting_.end()) {
      while (waiting_.size() > config_.max_buffered_chunks) waiting_.erase(waiting_.begin());
      return;
    }
    stats_.chunks_before_start += static_cast<std::uint64_t>(std::distance(waiting_.begin(), join));
    start_ = next_ = join->first;
    waiting_.erase(waiting_.begin(), join);
  }
  release_ready();
  handle_timeout(now);
}

void Playout::release_ready() {
  while (!waiting_.empty() && waiting_.begin()->first == *next_) {
    ready_.push_back(std::move(waiting_.begin()->second.chunk));
    waiting_.erase(waiting_.begin());
    ++*next_;
    ++stats_.chunks_played;
  }
}

void Playout::skip_to(std::uint64_t seq) {
  stats_.chunks_missing += seq - *next_;
  next_ = seq;
  release_ready();
}

void Playout::handle_timeout(Time now) {
  if (!next_) return;
  while (waiting_.size() > config_.max_buffered_chunks) skip_to(waiting_.begin()->first);
  // The newest chunk that has waited its full gap_timeout: every hole before it is given up.
  std::optional<std::uint64_t> overdue;
  for (const auto& [seq, w] : waiting_)
    if (now - w.arrived >= config_.gap_timeout) overdue = seq;
  while (overdue && !waiting_.empty() && *next_ <= *overdue) skip_to(waiting_.begin()->first);
}

std::optional<Time> Playout::poll_timeout() const {
  if (!next_ || waiting_.empty()) return std::nullopt;
  Time earliest = waiting_.begin()->second.arrived;
  for (const auto& [seq, w] : waiting_) earliest = std::min(earliest, w.arrived);
  return earliest + config_.gap_timeout;
}

std::shared_ptr<const Chunk> Playout::poll_output() {
  if (ready_head_ == ready_.size()) return nullptr;
  auto chunk = std::move(ready_[ready_head_++]);
  if (ready_head_ == ready_.size()) {
    ready_.clear();
    ready_head_ = 0;
  }
  return chunk;
}

void Playout::restart() {
  if (next_ || !waiting_.empty()) ++stats_.restarts;  // a session before this one had begun
  waiting_.clear();
  ready_.clear();
  ready_head_ = 0;
  start_.reset();
  next_.reset();
}

}  // namespace p2plive
