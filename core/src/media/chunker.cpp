#include "media/chunker.hpp"

namespace p2plive {

Chunker::Chunker(std::chrono::microseconds max_duration, std::size_t max_bytes)
    : max_duration_(max_duration), max_bytes_(max_bytes - max_bytes % ts_packet_size) {}

void Chunker::append(std::span<const std::uint8_t> bytes, std::chrono::microseconds media_time) {
  if (current_.empty()) current_start_ = media_time;
  if (!current_.empty() && media_time - current_start_ >= max_duration_) {
    close_current();
    current_start_ = media_time;
  }
  while (!bytes.empty()) {
    const std::size_t room = max_bytes_ - current_.size();
    const std::size_t take = std::min(room, bytes.size());
    current_.insert(current_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
    bytes = bytes.subspan(take);
    if (current_.size() >= max_bytes_) {
      close_current();
      current_start_ = media_time;
    }
  }
}

void Chunker::mark_join_point() {
  close_current();
  pending_join_ = true;
}

void Chunker::flush() { close_current(); }

void Chunker::close_current() {
  // Only whole TS packets go out; a partial packet stays for the next chunk.
  const std::size_t whole = current_.size() - current_.size() % ts_packet_size;
  if (whole == 0) return;
  Chunk chunk;
  chunk.seq = next_seq_;
  next_seq_ = next_seq_.next();
  chunk.flags = pending_join_ ? chunk_flags::join_point : 0;
  pending_join_ = false;
  chunk.payload.assign(current_.begin(), current_.begin() + static_cast<std::ptrdiff_t>(whole));
  current_.erase(current_.begin(), current_.begin() + static_cast<std::ptrdiff_t>(whole));
  ready_.push_back(std::move(chunk));
}

Chunk Chunker::pop_chunk() {
  auto chunk = std::move(ready_.front());
  ready_.pop_front();
  return chunk;
}

}  // namespace p2plive
