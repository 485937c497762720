// Errors of the p2plive core: one std::error_category, and a small Result type.
#pragma once

#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace p2plive {

enum class Errc {
  ok = 0,
  // keys
  key_bad_prefix = 1,
  key_bad_encoding,
  key_bad_checksum,
  key_file_unreadable,
  key_file_unwritable,
  // links
  link_bad_prefix = 20,
  link_bad_version,
  link_bad_field,
  link_bad_endpoint,
  link_no_bootstrap,
  tracker_bad_url,
  // endpoints
  endpoint_bad_format = 40,
  endpoint_bad_port,
  // network and runtime
  port_in_use = 60,
  socket_failed,
  tracker_unresolved,
  // media
  input_open_failed = 80,
  input_no_streams,
  codec_unsupported,
  muxer_failed,
  encoder_failed,
  output_open_failed,
};

const std::error_category& error_category() noexcept;
inline std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), error_category()}; }

// Either a value or an error code, for operations at the edges (parsing user input, opening files).
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}                 // NOLINT(google-explicit-constructor)
  Result(std::error_code error) : v_(error) {}              // NOLINT(google-explicit-constructor)
  Result(Errc error) : v_(make_error_code(error)) {}        // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return std::holds_alternative<T>(v_); }
  explicit operator bool() const noexcept { return ok(); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }
  std::error_code error() const noexcept { return ok() ? std::error_code{} : std::get<std::error_code>(v_); }

 private:
  std::variant<T, std::error_code> v_;
};

}  // namespace p2plive

template <>
struct std::is_error_code_enum<p2plive::Errc> : std::true_type {};
