// The viewer's live status on a terminal: one line, redrawn in place each second. It also says clearly
// when the broadcaster cannot be reached, and repeats that with growing intervals while the node retries.
#pragma once

#include <chrono>
#include <string>

#include "p2plive/viewer.hpp"

namespace p2plive::cli {

// "peers 4 | behind live 820 ms | down 1.52 Mbit/s | up 3.04 Mbit/s | buffer 0 ms | on time 100.0 %"
std::string format_status(const ViewerStatus& status);

class StatusReporter {
 public:
  // `show_line`: redraw the status line (a terminal and not --quiet). `bootstrap` names whom we join through.
  StatusReporter(bool show_line, std::string bootstrap) : show_line_(show_line), bootstrap_(std::move(bootstrap)) {}
  ~StatusReporter();
  // Once a second.
  void update(const ViewerStatus& status);

 private:
  void note(const std::string& text);

  bool show_line_;
  std::string bootstrap_;
  int seconds_ = 0;
  int silent_seconds_ = 0;     // without a peer or a chunk
  int next_notice_at_ = 3;     // seconds of silence before the next notice
  bool connected_ = false;
  bool line_drawn_ = false;
};

}  // namespace p2plive::cli
