// Protocol time is whatever the driver says it is: microseconds since the driver's own epoch.
// The asio runtime passes steady-clock time, the simulator passes virtual time.
#pragma once

#include <chrono>
#include <cstdint>

namespace p2plive {

using Time = std::chrono::microseconds;
using namespace std::chrono_literals;

// A clock as messages carry it: microseconds modulo 2^32 (differences of two are round trips).
inline std::uint32_t clock32(Time now) { return static_cast<std::uint32_t>(static_cast<std::uint64_t>(now.count())); }

}  // namespace p2plive
