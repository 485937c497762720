#include "http/live_buffer.hpp"

namespace p2plive::http {

void JoinBuffer::push(SharedBytes chunk, bool join_point) {
  if (join_point) {
    chunks_.clear();
    bytes_ = 0;
    open_ = true;
  }
  if (!open_) return;
  bytes_ += chunk->size();
  chunks_.push_back(std::move(chunk));
  if (bytes_ > max_bytes_) {
    chunks_.clear();
    bytes_ = 0;
    open_ = false;
  }
}

}  // namespace p2plive::http
