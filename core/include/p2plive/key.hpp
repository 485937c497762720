// Broadcaster keys. The secret key text is one line: it is the key file's content and OBS's Stream Key.
// Its public half, the viewer key, goes into links. Both texts carry a checksum so a damaged copy is caught.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "p2plive/error.hpp"

namespace p2plive {

struct PublicKey {
  std::array<std::uint8_t, 32> bytes{};
  friend bool operator==(const PublicKey&, const PublicKey&) = default;
};

class SecretKey {
 public:
  static SecretKey generate();
  static Result<SecretKey> parse(std::string_view text);        // accepts surrounding whitespace
  static Result<SecretKey> load(const std::filesystem::path& file);
  // Writes the key text and a newline, creating the file with mode 0600 (and refusing to overwrite).
  std::error_code save(const std::filesystem::path& file) const;

  std::string text() const;  // "p2plsk1_..." one line, no newline
  const PublicKey& public_key() const { return public_; }
  // Ed25519 signature over `message`.
  std::array<std::uint8_t, 64> sign(const std::uint8_t* message, std::size_t size) const;

  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  ~SecretKey();

 private:
  SecretKey() = default;
  std::array<std::uint8_t, 32> seed_{};
  std::array<std::uint8_t, 64> expanded_{};  // libsodium's secret key: seed || public key
  PublicKey public_;
};

std::string to_text(const PublicKey& key);  // "p2plpk1_..."
Result<PublicKey> parse_public_key(std::string_view text);
bool verify_signature(const PublicKey& key, const std::uint8_t* message, std::size_t size,
                      const std::array<std::uint8_t, 64>& signature);
// The info-hash a stream is announced under on BitTorrent trackers: a domain-separated 20-byte hash of its
// key, so anyone with the link finds the same swarm and nothing else collides with it.
std::array<std::uint8_t, 20> swarm_info_hash(const PublicKey& key);

}  // namespace p2plive
