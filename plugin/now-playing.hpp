// The track title from an OBS text source the streamer names (the dock's "Track title from"): what DJ
// tools such as Tuna, or the streamer by hand, put into a Text source, read into the stream's timed ID3.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include <obs.h>

namespace p2plive::plugin {

// What a text source shows: its "text", or the first line of the file it reads (FreeType 2: from_file and
// text_file; GDI+: read_from_file and file).
std::string title_of_text_source(obs_data_t* settings);

// True for the text source types a title can come from.
bool is_text_source(obs_source_t* source);

// Looks at the named source four times a second on a thread of its own and hands each new title to
// `on_title` (on that thread). A source that is missing or renamed gives no title until it is back.
class SourceTitle {
 public:
  SourceTitle(std::string source_name, std::function<void(std::string)> on_title);
  ~SourceTitle();
  SourceTitle(const SourceTitle&) = delete;
  SourceTitle& operator=(const SourceTitle&) = delete;

 private:
  void watch();

  std::string source_name_;
  std::function<void(std::string)> on_title_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace p2plive::plugin
