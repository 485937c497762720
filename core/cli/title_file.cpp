#include "title_file.hpp"

#include <chrono>
#include <fstream>
#include <optional>

namespace p2plive::cli {
namespace {

// The first line, at most a few KiB of it: a title, not whatever file someone pointed us at.
std::optional<std::string> first_line(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string line(4096, '\0');
  in.read(line.data(), static_cast<std::streamsize>(line.size()));
  line.resize(static_cast<std::size_t>(in.gcount()));
  return line.substr(0, line.find_first_of("\r\n"));
}

}  // namespace

TitleFile::TitleFile(std::filesystem::path path, std::function<void(std::string)> on_title)
    : path_(std::move(path)), on_title_(std::move(on_title)), thread_([this] { watch(); }) {}

TitleFile::~TitleFile() {
  stopping_ = true;
  thread_.join();
}

void TitleFile::watch() {
  std::optional<std::string> last;
  while (!stopping_) {
    // DJ software rewrites the file in place or replaces it; either way the text is what counts. A file
    // caught half written shows a partial line for a tenth of a second at most.
    if (auto line = first_line(path_); line && line != last) {
      on_title_(*line);
      last = std::move(line);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace p2plive::cli
