// The runtime's clocks. The protocol never reads these; the runtime passes their readings in.
#pragma once

#include <cstdint>

#include "protocol/time.hpp"

namespace p2plive {

Time steady_now();                // monotonic, for the protocol's timers
std::int64_t unix_now_us();       // wall clock, for chunk timestamps and delay figures

}  // namespace p2plive
