#include "console.hpp"

#include <csignal>
#include <cstdio>
#include <ctime>

namespace p2plive::cli {

int fail(const std::string& what, const std::string& why) {
  std::fprintf(stderr, "p2plive: error: %s: %s\n", what.c_str(), why.c_str());
  return 1;
}

int fail(const std::string& what, const std::error_code& why) { return fail(what, why.message()); }

LogSink stderr_log(bool verbose) {
  return [verbose](LogLevel level, std::string_view message) {
    if (!verbose && level < LogLevel::warning) return;
    static constexpr const char* names[] = {"debug", "info", "warning", "error"};
    std::fprintf(stderr, "p2plive: %s: %.*s\n", names[static_cast<int>(level)], static_cast<int>(message.size()),
                 message.data());
  };
}

std::string http_url(const Endpoint& e) {
  if (e.is_unspecified())
    return e.is_v4() ? "http://" + Endpoint::loopback(e.port).to_string() : "http://[::1]:" + std::to_string(e.port);
  return "http://" + e.to_string();
}

void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void wait_until_stopped(std::optional<std::chrono::milliseconds> duration, const std::atomic<bool>* done,
                        const std::function<void()>& every_second) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  const auto start = std::chrono::steady_clock::now();
  auto next_second = start + std::chrono::seconds(1);
  for (;;) {
    if (done && done->load()) return;
    const auto now = std::chrono::steady_clock::now();
    if (duration && now - start >= *duration) return;
    if (every_second && now >= next_second) {
      every_second();
      next_second += std::chrono::seconds(1);
    }
    const timespec poll{0, 100'000'000};  // 100 ms: the granularity of --duration and `done`
    if (sigtimedwait(&set, nullptr, &poll) > 0) return;
  }
}

}  // namespace p2plive::cli
