// What every command shares: one-line errors, a log sink to stderr, and waiting for Ctrl-C.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <system_error>

#include "p2plive/endpoint.hpp"
#include "p2plive/log.hpp"

namespace p2plive::cli {

// Prints "p2plive: error: <what>: <why>" on one line and returns the exit code to use.
int fail(const std::string& what, const std::error_code& why);
int fail(const std::string& what, const std::string& why);

// Warnings and errors always; info only when `verbose`.
LogSink stderr_log(bool verbose);

// Blocks SIGINT and SIGTERM in this thread and every thread started after it, so they can be waited for.
void block_stop_signals();
// Waits until a stop signal, `done` becomes true, or `duration` passes. `every_second` runs once a second.
void wait_until_stopped(std::optional<std::chrono::milliseconds> duration, const std::atomic<bool>* done = nullptr,
                        const std::function<void()>& every_second = {});

// Where watch and demo serve players by default: a fixed port, so the address stays the same between runs.
// If it is taken (another watch), a free one is used and printed.
inline constexpr const char* default_http = "127.0.0.1:8090";
// "http://127.0.0.1:8090" for an HTTP server's address; a wildcard address becomes loopback.
std::string http_url(const Endpoint& at);

}  // namespace p2plive::cli
