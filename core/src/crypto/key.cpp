#include "p2plive/key.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "crypto/key_text.hpp"

namespace p2plive {
namespace {

constexpr std::string_view secret_prefix = "p2plsk1_";
constexpr std::string_view public_prefix = "p2plpk1_";

}  // namespace

SecretKey SecretKey::generate() {
  key_text::ensure_sodium();
  std::array<std::uint8_t, 32> seed{};
  randombytes_buf(seed.data(), seed.size());
  SecretKey key;
  key.seed_ = seed;
  crypto_sign_seed_keypair(key.public_.bytes.data(), key.expanded_.data(), key.seed_.data());
  sodium_memzero(seed.data(), seed.size());
  return key;
}

Result<SecretKey> SecretKey::parse(std::string_view text) {
  auto seed = key_text::decode(secret_prefix, text);
  if (!seed) return seed.error();
  SecretKey key;
  key.seed_ = *seed;
  crypto_sign_seed_keypair(key.public_.bytes.data(), key.expanded_.data(), key.seed_.data());
  sodium_memzero(seed.value().data(), 32);
  return key;
}

Result<SecretKey> SecretKey::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return Errc::key_file_unreadable;
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str());
}

std::error_code SecretKey::save(const std::filesystem::path& file) const {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Errc::key_file_unwritable;
  const std::string line = text() + "\n";
  const bool ok = ::fchmod(fd, 0600) == 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  return ok ? std::error_code{} : make_error_code(Errc::key_file_unwritable);
}

std::string SecretKey::text() const { return key_text::encode(secret_prefix, seed_); }

std::array<std::uint8_t, 64> SecretKey::sign(const std::uint8_t* message, std::size_t size) const {
  std::array<std::uint8_t, 64> signature{};
  crypto_sign_detached(signature.data(), nullptr, message, size, expanded_.data());
  return signature;
}

SecretKey::~SecretKey() {
  sodium_memzero(seed_.data(), seed_.size());
  sodium_memzero(expanded_.data(), expanded_.size());
}

std::string to_text(const PublicKey& key) { return key_text::encode(public_prefix, key.bytes); }

Result<PublicKey> parse_public_key(std::string_view text) {
  auto bytes = key_text::decode(public_prefix, text);
  if (!bytes) return bytes.error();
  return PublicKey{*bytes};
}

bool verify_signature(const PublicKey& key, const std::uint8_t* message, std::size_t size,
                      const std::array<std::uint8_t, 64>& signature) {
  key_text::ensure_sodium();
  return crypto_sign_verify_detached(signature.data(), message, size, key.bytes.data()) == 0;
}

std::array<std::uint8_t, 20> swarm_info_hash(const PublicKey& key) {
  key_text::ensure_sodium();
  static constexpr std::string_view domain = "p2plive swarm v1";
  std::array<std::uint8_t, 20> hash{};
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, hash.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(domain.data()), domain.size());
  crypto_generichash_update(&state, key.bytes.data(), key.bytes.size());
  crypto_generichash_final(&state, hash.data(), hash.size());
  return hash;
}

}  // namespace p2plive
