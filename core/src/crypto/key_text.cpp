#include "crypto/key_text.hpp"

#include <sodium.h>

#include <cstring>
#include <stdexcept>

namespace p2plive::key_text {
namespace {

constexpr std::size_t check_size = 4;
constexpr std::size_t raw_size = 32 + check_size;
constexpr int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

std::array<std::uint8_t, check_size> checksum(std::string_view prefix, const std::uint8_t* key) {
  std::array<std::uint8_t, 16> digest{};
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, digest.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(prefix.data()), prefix.size());
  crypto_generichash_update(&state, key, 32);
  crypto_generichash_final(&state, digest.data(), digest.size());
  std::array<std::uint8_t, check_size> check{};
  std::memcpy(check.data(), digest.data(), check_size);
  return check;
}

}  // namespace

void ensure_sodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::string encode(std::string_view prefix, const std::array<std::uint8_t, 32>& key) {
  ensure_sodium();
  std::array<std::uint8_t, raw_size> raw{};
  std::memcpy(raw.data(), key.data(), 32);
  const auto check = checksum(prefix, key.data());
  std::memcpy(raw.data() + 32, check.data(), check_size);
  char text[sodium_base64_ENCODED_LEN(raw_size, variant)];
  sodium_bin2base64(text, sizeof text, raw.data(), raw.size(), variant);
  return std::string(prefix) + text;
}

Result<std::array<std::uint8_t, 32>> decode(std::string_view prefix, std::string_view text) {
  ensure_sodium();
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.substr(0, prefix.size()) != prefix) return Errc::key_bad_prefix;
  text.remove_prefix(prefix.size());

  std::array<std::uint8_t, raw_size> raw{};
  std::size_t decoded = 0;
  const char* end = nullptr;
  if (sodium_base642bin(raw.data(), raw.size(), text.data(), text.size(), nullptr, &decoded, &end, variant) != 0 ||
      decoded != raw_size || end != text.data() + text.size())
    return Errc::key_bad_encoding;

  std::array<std::uint8_t, 32> key{};
  std::memcpy(key.data(), raw.data(), 32);
  const auto check = checksum(prefix, key.data());
  if (sodium_memcmp(check.data(), raw.data() + 32, check_size) != 0) return Errc::key_bad_checksum;
  return key;
}

}  // namespace p2plive::key_text
