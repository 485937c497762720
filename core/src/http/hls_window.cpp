#include "http/hls_window.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace p2plive::http {

void HlsWindow::push(SharedBytes chunk, bool join_point, std::uint64_t timestamp_us) {
  if (join_point) {
    if (open_) {
      // Broadcast timestamps are the broadcaster's wall clock at each cut; the input is paced in real time,
      // so their difference is the segment's media duration.
      open_->duration_s = static_cast<double>(timestamp_us - std::min(timestamp_us, open_->start_us)) / 1e6;
      done_.push_back(std::move(*open_));
      while (done_.size() > config_.max_segments) done_.pop_front();
    }
    open_ = Segment{.index = next_index_++, .start_us = timestamp_us, .duration_s = 0, .bytes = 0, .chunks = {}};
    if (discontinuity_after_) {
      discontinuity_at_ = open_->index;
      discontinuity_after_ = false;
    }
  }
  if (!open_) return;
  open_->bytes += chunk->size();
  open_->chunks.push_back(std::move(chunk));
  if (open_->bytes > config_.max_segment_bytes) {
    open_.reset();
    discontinuity_after_ = true;
  }
}

void HlsWindow::start_over() {
  open_.reset();
  discontinuity_after_ = true;
}

std::optional<std::string> HlsWindow::playlist() const {
  if (done_.empty()) return std::nullopt;
  double longest = 1;
  for (const auto& s : done_) longest = std::max(longest, s.duration_s);
  std::string out = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:" +
                    std::to_string(static_cast<int>(std::ceil(longest))) +
                    "\n#EXT-X-MEDIA-SEQUENCE:" + std::to_string(done_.front().index) + "\n";
  char extinf[64];
  for (const auto& s : done_) {
    if (discontinuity_at_ && *discontinuity_at_ == s.index) out += "#EXT-X-DISCONTINUITY\n";
    std::snprintf(extinf, sizeof extinf, "#EXTINF:%.3f,\n", s.duration_s);
    out += extinf;
    out += "seg/" + std::to_string(s.index) + ".ts\n";
  }
  return out;
}

const std::vector<SharedBytes>* HlsWindow::segment(std::uint64_t index) const {
  for (const auto& s : done_)
    if (s.index == index) return &s.chunks;
  return nullptr;
}

}  // namespace p2plive::http
