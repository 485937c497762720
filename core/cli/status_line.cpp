#include "status_line.hpp"

#include <algorithm>
#include <cstdio>

namespace p2plive::cli {
namespace {

std::string rate(double kbit_s) {
  char text[32];
  if (kbit_s >= 1000) std::snprintf(text, sizeof text, "%.2f Mbit/s", kbit_s / 1000);
  else std::snprintf(text, sizeof text, "%.0f kbit/s", kbit_s);
  return text;
}

}  // namespace

std::string format_status(const ViewerStatus& v) {
  char text[256];
  if (!v.started) {
    std::snprintf(text, sizeof text, "peers %llu | waiting for a keyframe | down %s", static_cast<unsigned long long>(v.stats.peers),
                  rate(v.down_kbit_s).c_str());
    return text;
  }
  std::snprintf(text, sizeof text, "peers %llu | behind live %.0f ms | down %s | up %s | buffer %.0f ms | on time %.1f %%",
                static_cast<unsigned long long>(v.stats.peers), v.behind_live_ms, rate(v.down_kbit_s).c_str(),
                rate(v.up_kbit_s).c_str(), v.buffer_ms, v.on_time_percent);
  std::string out = text;
  if (v.http_clients > 0) out += " | players " + std::to_string(v.http_clients);
  return out;
}

StatusReporter::~StatusReporter() {
  if (line_drawn_) std::fprintf(stderr, "\n");
}

void StatusReporter::note(const std::string& text) {
  // A note gets its own line; the status line is redrawn under it.
  std::fprintf(stderr, "%sp2plive: %s\n", line_drawn_ ? "\r\033[K" : "", text.c_str());
  line_drawn_ = false;
}

void StatusReporter::update(const ViewerStatus& v) {
  ++seconds_;
  const bool heard = v.stats.peers > 0;
  if (heard) {
    if (!connected_ && silent_seconds_ >= 3) note("reached the swarm; joining");
    connected_ = true;
    silent_seconds_ = 0;
    next_notice_at_ = 3;
  } else {
    ++silent_seconds_;
    if (silent_seconds_ >= next_notice_at_) {
      note(std::string(connected_ ? "lost contact with the swarm" : "cannot reach the broadcaster") + " at " +
           bootstrap_ + " (no answer for " + std::to_string(silent_seconds_) +
           " s); still trying. Check that the broadcast is running and the link is current.");
      // Said again at 3, 6, 12, 24, 48 s, then each minute: clear at first, quiet if it stays down.
      next_notice_at_ = silent_seconds_ + std::min(next_notice_at_, 60);
      connected_ = false;
    }
  }
  if (show_line_) {
    std::fprintf(stderr, "\r\033[K%s", format_status(v).c_str());
    std::fflush(stderr);
    line_drawn_ = true;
  }
}

}  // namespace p2plive::cli
