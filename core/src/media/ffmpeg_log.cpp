#include <p2plive/media_input.hpp>

extern "C" {
#include <libavutil/log.h>
}

namespace p2plive {

void set_ffmpeg_log_level(LogLevel level) {
  switch (level) {
    case LogLevel::debug: av_log_set_level(AV_LOG_VERBOSE); break;
    case LogLevel::info: av_log_set_level(AV_LOG_INFO); break;
    case LogLevel::warning: av_log_set_level(AV_LOG_WARNING); break;
    // FFmpeg prints its errors before we report them (with its reason) in one line of our own.
    case LogLevel::error: av_log_set_level(AV_LOG_FATAL); break;
  }
}

}  // namespace p2plive
