#include "input_pump.hpp"

#include <atomic>
#include <thread>

#include "console.hpp"

namespace p2plive::cli {

void pump_until_stopped(MediaInput& input, Broadcaster& broadcaster, double duration_s,
                        const std::function<void()>& every_second) {
  std::atomic<bool> input_done{false};
  std::thread reader([&] {
    while (auto packet = input.read()) broadcaster.push(std::move(*packet));
    input_done = true;
  });
  std::optional<std::chrono::milliseconds> duration;
  if (duration_s > 0) duration = std::chrono::milliseconds(static_cast<long long>(duration_s * 1000));
  wait_until_stopped(duration, &input_done, every_second);
  input.interrupt();
  reader.join();
}

}  // namespace p2plive::cli
