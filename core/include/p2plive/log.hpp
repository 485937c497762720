// The core logs through a sink its owner provides; it has no global logger.
#pragma once

#include <functional>
#include <string_view>

namespace p2plive {

enum class LogLevel { debug, info, warning, error };
using LogSink = std::function<void(LogLevel, std::string_view)>;

}  // namespace p2plive
