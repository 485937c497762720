// The text form shared by secret and public keys: "<prefix><base64url(32 key bytes || 4 check bytes)>".
// The check bytes hash the prefix too, so one kind of key never parses as the other.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "p2plive/error.hpp"

namespace p2plive::key_text {

void ensure_sodium();
std::string encode(std::string_view prefix, const std::array<std::uint8_t, 32>& key);
// Errors: key_bad_prefix, key_bad_encoding, key_bad_checksum.
Result<std::array<std::uint8_t, 32>> decode(std::string_view prefix, std::string_view text);

}  // namespace p2plive::key_text
