// Logging for one output: every line goes to OBS's blog() with a "[p2p-live: '<output>'] " prefix, and
// the core's LogSink is routed the same way. The sink owns its prefix, so it outlives the output safely.
#pragma once

#include <cstdarg>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

#include <util/base.h>

#include "p2plive/log.hpp"

namespace p2plive::plugin {

inline int to_obs_level(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return LOG_DEBUG;
    case LogLevel::info: return LOG_INFO;
    case LogLevel::warning: return LOG_WARNING;
    case LogLevel::error: return LOG_ERROR;
  }
  return LOG_INFO;
}

class OutputLog {
 public:
  explicit OutputLog(std::string_view output_name)
      : prefix_("[p2p-live: '" + std::string(output_name) + "'] ") {}

  const std::string& prefix() const { return prefix_; }

  void operator()(int level, const char* format, ...) const __attribute__((format(printf, 3, 4))) {
    va_list args;
    va_start(args, format);
    std::string text = format_text(format, args);
    va_end(args);
    blog(level, "%s%s", prefix_.c_str(), text.c_str());
  }

  LogSink sink() const {
    return [prefix = prefix_](LogLevel level, std::string_view message) {
      blog(to_obs_level(level), "%s%.*s", prefix.c_str(), static_cast<int>(message.size()), message.data());
    };
  }

  static std::string format_text(const char* format, va_list args) {
    va_list measure;
    va_copy(measure, args);
    const int size = std::vsnprintf(nullptr, 0, format, measure);
    va_end(measure);
    if (size <= 0) return {};
    std::string text(static_cast<std::size_t>(size), '\0');
    std::vsnprintf(text.data(), text.size() + 1, format, args);
    return text;
  }

 private:
  std::string prefix_;
};

// printf into a std::string, for messages built from localised format strings.
inline std::string format_message(const char* format, ...) __attribute__((format(printf, 1, 2)));
inline std::string format_message(const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::string text = OutputLog::format_text(format, args);
  va_end(args);
  return text;
}

}  // namespace p2plive::plugin
