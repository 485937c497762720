// Nothing may throw across the C boundary into OBS. Every callback we register runs its C++ body through
// guarded(), which logs an escaping exception and returns a fallback value instead.
#pragma once

#include <exception>
#include <type_traits>
#include <utility>

#include <util/base.h>

namespace p2plive::plugin {

template <class F>
auto guarded(const char* what, F&& body, std::invoke_result_t<F> fallback) noexcept -> std::invoke_result_t<F> {
  try {
    return std::forward<F>(body)();
  } catch (const std::exception& e) {
    blog(LOG_ERROR, "[p2p-live] %s failed: %s", what, e.what());
  } catch (...) {
    blog(LOG_ERROR, "[p2p-live] %s failed with an unknown exception", what);
  }
  return fallback;
}

template <class F>
void guarded(const char* what, F&& body) noexcept {
  try {
    std::forward<F>(body)();
  } catch (const std::exception& e) {
    blog(LOG_ERROR, "[p2p-live] %s failed: %s", what, e.what());
  } catch (...) {
    blog(LOG_ERROR, "[p2p-live] %s failed with an unknown exception", what);
  }
}

}  // namespace p2plive::plugin
