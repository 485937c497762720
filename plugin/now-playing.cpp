#include "now-playing.hpp"

#include <chrono>
#include <fstream>
#include <optional>
#include <string_view>

namespace p2plive::plugin {
namespace {

// A title, not whatever file the source points at: the first line of at most 4 KiB.
std::string first_line_of(const char* path) {
  if (!path || !*path) return {};
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::string text(4096, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text.substr(0, text.find_first_of("\r\n"));
}

}  // namespace

std::string title_of_text_source(obs_data_t* settings) {
  if (!settings) return {};
  if (obs_data_get_bool(settings, "from_file"))
    return first_line_of(obs_data_get_string(settings, "text_file"));
  if (obs_data_get_bool(settings, "read_from_file"))
    return first_line_of(obs_data_get_string(settings, "file"));
  const char* text = obs_data_get_string(settings, "text");
  const std::string_view all = text ? text : "";
  return std::string(all.substr(0, all.find_first_of("\r\n")));
}

bool is_text_source(obs_source_t* source) {
  const char* id = source ? obs_source_get_unversioned_id(source) : nullptr;
  const std::string_view name = id ? id : "";
  return name == "text_ft2_source" || name == "text_gdiplus";
}

SourceTitle::SourceTitle(std::string source_name, std::function<void(std::string)> on_title)
    : source_name_(std::move(source_name)), on_title_(std::move(on_title)), thread_([this] { watch(); }) {}

SourceTitle::~SourceTitle() {
  stopping_ = true;
  thread_.join();
}

void SourceTitle::watch() {
  std::optional<std::string> last;
  while (!stopping_) {
    // Looked up by name every time: the streamer may delete the source and make it again.
    if (obs_source_t* source = obs_get_source_by_name(source_name_.c_str())) {
      obs_data_t* settings = obs_source_get_settings(source);
      std::string title = title_of_text_source(settings);
      obs_data_release(settings);
      obs_source_release(source);
      if (title != last) {
        on_title_(title);
        last = std::move(title);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace p2plive::plugin
