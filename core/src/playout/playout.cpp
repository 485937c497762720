#include "playout/playout.hpp"

namespace p2plive {

void Playout::push(Chunk chunk, Time now) {
  const auto seq = chunk.seq.value;
  if (next_ && seq < *next_) {
    ++stats_.chunks_late;
    return;
  }
  waiting_.emplace(seq, std::move(chunk));
  if (!next_) {
    // Start at the earliest join point we hold; anything before it cannot be decoded.
    for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
      if (it->second.is_join_point()) {
        next_ = it->first;
        waiting_.erase(waiting_.begin(), it);
        break;
      }
    }
    if (!next_) {
      while (waiting_.size() > config_.max_buffered_chunks) waiting_.erase(waiting_.begin());
      return;
    }
  }
  release_ready();
  if (!waiting_.empty() && !gap_since_) gap_since_ = now;
  handle_timeout(now);
}

void Playout::release_ready() {
  while (!waiting_.empty() && waiting_.begin()->first == *next_) {
    ready_.push_back(std::move(waiting_.begin()->second));
    waiting_.erase(waiting_.begin());
    ++*next_;
    ++stats_.chunks_played;
    gap_since_.reset();
  }
}

void Playout::skip_to(std::uint64_t seq) {
  stats_.chunks_missing += seq - *next_;
  next_ = seq;
  gap_since_.reset();
  release_ready();
}

void Playout::handle_timeout(Time now) {
  if (!next_ || waiting_.empty()) return;
  const bool overfull = waiting_.size() > config_.max_buffered_chunks;
  if (overfull || (gap_since_ && now - *gap_since_ >= config_.gap_timeout)) {
    skip_to(waiting_.begin()->first);
    if (!waiting_.empty()) gap_since_ = now;  // the next hole gets its own full timeout
  }
}

std::optional<Time> Playout::poll_timeout() const {
  if (!gap_since_ || waiting_.empty()) return std::nullopt;
  return *gap_since_ + config_.gap_timeout;
}

std::optional<Chunk> Playout::poll_output() {
  if (ready_.empty()) return std::nullopt;
  auto chunk = std::move(ready_.front());
  ready_.pop_front();
  return chunk;
}

}  // namespace p2plive
