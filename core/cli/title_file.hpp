// --now-playing FILE: the track title as DJ software (Mixxx, Tuna in OBS, a script) writes it, one line in
// a text file that is rewritten when the music changes. A thread of its own looks at it ten times a
// second and hands each new first line to the broadcaster.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

namespace p2plive::cli {

class TitleFile {
 public:
  // `on_title` runs on the watcher's thread, with the file's first line whenever it changes (the first
  // time as soon as the file exists).
  TitleFile(std::filesystem::path path, std::function<void(std::string)> on_title);
  ~TitleFile();
  TitleFile(const TitleFile&) = delete;
  TitleFile& operator=(const TitleFile&) = delete;

 private:
  void watch();

  std::filesystem::path path_;
  std::function<void(std::string)> on_title_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace p2plive::cli
