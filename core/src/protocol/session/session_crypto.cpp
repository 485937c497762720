#include "protocol/session/session_crypto.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <random>

namespace p2plive::session {
namespace {

std::uint64_t siphash(const MacKey& key, std::span<const std::uint8_t> data) {
  std::array<std::uint8_t, crypto_shorthash_BYTES> out{};
  crypto_shorthash(out.data(), data.data(), data.size(), key.data());
  std::uint64_t v = 0;
  std::memcpy(&v, out.data(), sizeof v);
  return v;
}

class Sodium final : public Crypto {
 public:
  Sodium(const PublicKey& stream_key, const SecretKey* secret) : stream_key_(stream_key) {
    if (sodium_init() < 0) std::abort();  // libsodium cannot run without a random source
    if (secret) secret_.emplace(*secret);
  }
  void random(std::span<std::uint8_t> out) override { randombytes_buf(out.data(), out.size()); }
  KxPair kx_keypair() override {
    KxPair p;
    crypto_kx_keypair(p.pk.data(), p.sk.data());
    return p;
  }
  bool kx_client(const KxPair& ours, const KxPublic& server, DirectionKeys& out) override {
    std::array<std::uint8_t, crypto_kx_SESSIONKEYBYTES> rx{}, tx{};
    if (crypto_kx_client_session_keys(rx.data(), tx.data(), ours.pk.data(), ours.sk.data(), server.data()) != 0)
      return false;
    return take(rx, tx, out);
  }
  bool kx_server(const KxPair& ours, const KxPublic& client, DirectionKeys& out) override {
    std::array<std::uint8_t, crypto_kx_SESSIONKEYBYTES> rx{}, tx{};
    if (crypto_kx_server_session_keys(rx.data(), tx.data(), ours.pk.data(), ours.sk.data(), client.data()) != 0)
      return false;
    return take(rx, tx, out);
  }
  std::uint64_t mac(const MacKey& key, std::span<const std::uint8_t> data) override { return siphash(key, data); }
  bool can_prove() const override { return secret_.has_value(); }
  Proof prove(std::span<const std::uint8_t> transcript) override {
    return secret_ ? secret_->sign(transcript.data(), transcript.size()) : Proof{};
  }
  bool check_proof(std::span<const std::uint8_t> transcript, const Proof& proof) override {
    return verify_signature(stream_key_, transcript.data(), transcript.size(), proof);
  }

 private:
  static bool take(const std::array<std::uint8_t, crypto_kx_SESSIONKEYBYTES>& rx,
                   const std::array<std::uint8_t, crypto_kx_SESSIONKEYBYTES>& tx, DirectionKeys& out) {
    std::copy_n(rx.begin(), out.rx.size(), out.rx.begin());
    std::copy_n(tx.begin(), out.tx.size(), out.tx.begin());
    return true;
  }
  PublicKey stream_key_;
  std::optional<SecretKey> secret_;
};

class Cheap final : public Crypto {
 public:
  Cheap(std::uint64_t seed, bool can_prove) : rng_(seed), can_prove_(can_prove) {}
  void random(std::span<std::uint8_t> out) override {
    for (auto& b : out) b = static_cast<std::uint8_t>(rng_());
  }
  KxPair kx_keypair() override {
    KxPair p;
    random(p.sk);
    p.pk = p.sk;  // a stand-in: both sides derive the keys from the two public halves
    return p;
  }
  bool kx_client(const KxPair& ours, const KxPublic& server, DirectionKeys& out) override {
    derive(ours.pk, server, out.tx, out.rx);
    return true;
  }
  bool kx_server(const KxPair& ours, const KxPublic& client, DirectionKeys& out) override {
    derive(client, ours.pk, out.rx, out.tx);
    return true;
  }
  // Keyed over the first bytes and the length only: the simulator's datagrams are never tampered with
  // beyond what this catches (headers, IDs, truncation), and hashing every byte would dominate its run.
  std::uint64_t mac(const MacKey& key, std::span<const std::uint8_t> data) override {
    std::array<std::uint8_t, 40> head{};
    const auto n = std::min<std::size_t>(data.size(), 32);
    std::copy_n(data.begin(), n, head.begin());
    const std::uint64_t size = data.size();
    std::memcpy(head.data() + 32, &size, sizeof size);
    return siphash(key, head);
  }
  bool can_prove() const override { return can_prove_; }
  Proof prove(std::span<const std::uint8_t> transcript) override {
    Proof p{};
    const auto v = siphash(MacKey{}, transcript);
    std::memcpy(p.data(), &v, sizeof v);
    return p;
  }
  bool check_proof(std::span<const std::uint8_t> transcript, const Proof& proof) override {
    return proof == prove(transcript);
  }

 private:
  static void derive(const KxPublic& client, const KxPublic& server, MacKey& client_to_server, MacKey& server_to_client) {
    std::array<std::uint8_t, 65> in{};
    std::copy(client.begin(), client.end(), in.begin());
    std::copy(server.begin(), server.end(), in.begin() + 32);
    for (std::uint8_t direction = 0; direction < 2; ++direction) {
      in[64] = direction;
      const auto a = siphash(MacKey{}, in);
      in[64] = static_cast<std::uint8_t>(direction + 2);
      const auto b = siphash(MacKey{}, in);
      auto& key = direction == 0 ? client_to_server : server_to_client;
      std::memcpy(key.data(), &a, 8);
      std::memcpy(key.data() + 8, &b, 8);
    }
  }
  std::mt19937_64 rng_;
  bool can_prove_;
};

}  // namespace

std::shared_ptr<Crypto> sodium_crypto(const PublicKey& stream_key, const SecretKey* stream_secret) {
  return std::make_shared<Sodium>(stream_key, stream_secret);
}

std::shared_ptr<Crypto> cheap_crypto(std::uint64_t seed, bool can_prove) { return std::make_shared<Cheap>(seed, can_prove); }

}  // namespace p2plive::session
