// Protocol time is whatever the driver says it is: microseconds since the driver's own epoch.
// The asio runtime passes steady-clock time, the simulator passes virtual time.
#pragma once

#include <chrono>

namespace p2plive {

using Time = std::chrono::microseconds;
using namespace std::chrono_literals;

}  // namespace p2plive
