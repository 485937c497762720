// What a chunk signature covers (see core/PROTOCOL.md): a domain tag, so a chunk signature can never be
// replayed as any other signed message; the stream's public key; the epoch (a broadcast session) and when it
// began, so that an old session's chunks are never taken for a new one's; seq, timestamp, flags; the
// payload length and the payload.
#include <cstring>

#include "p2plive/chunk.hpp"

namespace p2plive {
namespace {

constexpr char domain_tag[16] = {'p', '2', 'p', 'l', 'i', 'v', 'e', ' ', 'c', 'h', 'u', 'n', 'k', ' ', 'v', '2'};

void put_be(std::uint8_t* out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<std::uint8_t>(value >> (8 * (bytes - 1 - i)));
}

constexpr std::size_t prefix_size = sizeof domain_tag + 32 + 8 + 8 + 8 + 8 + 1 + 4;

std::vector<std::uint8_t> signed_message(const PublicKey& key, const Chunk& chunk) {
  std::vector<std::uint8_t> m(prefix_size + chunk.payload.size());
  std::uint8_t* p = m.data();
  std::memcpy(p, domain_tag, sizeof domain_tag);
  std::memcpy(p + 16, key.bytes.data(), 32);
  put_be(p + 48, chunk.epoch, 8);
  put_be(p + 56, chunk.epoch_start_us, 8);
  put_be(p + 64, chunk.seq.value, 8);
  put_be(p + 72, chunk.timestamp_us, 8);
  put_be(p + 80, chunk.flags, 1);
  put_be(p + 81, chunk.payload.size(), 4);
  if (!chunk.payload.empty()) std::memcpy(p + prefix_size, chunk.payload.data(), chunk.payload.size());
  return m;
}

}  // namespace

void sign_chunk(const SecretKey& key, Chunk& chunk) {
  const auto m = signed_message(key.public_key(), chunk);
  chunk.signature = key.sign(m.data(), m.size());
}

bool verify_chunk(const PublicKey& key, const Chunk& chunk) {
  if (chunk.payload.size() > max_chunk_payload || (chunk.flags & ~chunk_flags::known) != 0) return false;
  const auto m = signed_message(key, chunk);
  return verify_signature(key, m.data(), m.size(), chunk.signature);
}

}  // namespace p2plive
