// Feeds a media input into a broadcaster on a thread of its own, until the input ends, a stop signal
// arrives or `duration` passes. The calling thread waits (and runs `every_second`).
#pragma once

#include <chrono>
#include <functional>
#include <optional>

#include "p2plive/broadcaster.hpp"
#include "p2plive/media_input.hpp"

namespace p2plive::cli {

void pump_until_stopped(MediaInput& input, Broadcaster& broadcaster, double duration_s,
                        const std::function<void()>& every_second = {});

}  // namespace p2plive::cli
