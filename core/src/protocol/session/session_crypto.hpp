// The cryptography a session needs, behind one small interface: libsodium for real nodes, and a cheap
// stand-in for the simulator, which runs the very same session state machine for 100,000 peers.
//
// Sessions authenticate, they do not encrypt: the stream is public (anyone with the link may join) and
// every chunk is already signed, so secrecy would buy nothing and cost a cipher pass over every byte.
// The tag is SipHash-2-4, a keyed PRF built for short inputs, giving 64 bits under a 128-bit key per
// direction; the keys come from an ephemeral X25519 exchange (crypto_kx).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "p2plive/key.hpp"

namespace p2plive::session {

using KxPublic = std::array<std::uint8_t, 32>;
using MacKey = std::array<std::uint8_t, 16>;
using Proof = std::array<std::uint8_t, 64>;

struct KxPair {
  KxPublic pk{};
  std::array<std::uint8_t, 32> sk{};
};

// One key for what we receive and one for what we send: a datagram reflected back at its sender fails.
struct DirectionKeys {
  MacKey rx{};
  MacKey tx{};
};

class Crypto {
 public:
  virtual ~Crypto() = default;
  // Secrets strangers must not guess: connection IDs, token keys, ephemeral keys.
  virtual void random(std::span<std::uint8_t> out) = 0;
  virtual KxPair kx_keypair() = 0;
  // The session keys of an exchange; false if the other side's public key is degenerate.
  virtual bool kx_client(const KxPair& ours, const KxPublic& server, DirectionKeys& out) = 0;
  virtual bool kx_server(const KxPair& ours, const KxPublic& client, DirectionKeys& out) = 0;
  virtual std::uint64_t mac(const MacKey& key, std::span<const std::uint8_t> data) = 0;
  // Only the broadcaster holds the stream's secret key, so only it can prove it owns the stream.
  virtual bool can_prove() const = 0;
  virtual Proof prove(std::span<const std::uint8_t> transcript) = 0;
  virtual bool check_proof(std::span<const std::uint8_t> transcript, const Proof& proof) = 0;
};

// libsodium: randombytes, crypto_kx, SipHash-2-4 (crypto_shorthash), Ed25519 by the stream key.
// `stream_secret` is the broadcaster's key, null for everyone else.
std::shared_ptr<Crypto> sodium_crypto(const PublicKey& stream_key, const SecretKey* stream_secret);
// The simulator's: deterministic from `seed`, and cheap (its "exchange" and "signatures" are a keyed hash
// anyone could compute). It exercises every state and check of a session, not the cryptography.
std::shared_ptr<Crypto> cheap_crypto(std::uint64_t seed, bool can_prove);

}  // namespace p2plive::session
