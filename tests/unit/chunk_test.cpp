#include <gtest/gtest.h>

#include "p2plive/chunk.hpp"

namespace p2plive {
namespace {

Chunk signed_chunk(const SecretKey& key, std::size_t size) {
  Chunk c;
  c.seq = ChunkSeq{42};
  c.timestamp_us = 1'700'000'000'000'000ull;
  c.flags = chunk_flags::join_point;
  c.payload.resize(size);
  for (std::size_t i = 0; i < size; ++i) c.payload[i] = static_cast<std::uint8_t>(i * 7);
  sign_chunk(key, c);
  return c;
}

TEST(ChunkSignature, AGoodChunkVerifies) {
  const auto key = SecretKey::generate();
  EXPECT_TRUE(verify_chunk(key.public_key(), signed_chunk(key, 1000)));
  EXPECT_TRUE(verify_chunk(key.public_key(), signed_chunk(key, 0)));
}

TEST(ChunkSignature, ChangingAnyPayloadByteIsRejected) {
  const auto key = SecretKey::generate();
  const auto good = signed_chunk(key, 600);
  for (std::size_t i = 0; i < good.payload.size(); ++i) {
    auto bad = good;
    bad.payload[i] ^= 0x01;
    EXPECT_FALSE(verify_chunk(key.public_key(), bad)) << "payload byte " << i;
  }
}

TEST(ChunkSignature, ChangingAnySignatureByteIsRejected) {
  const auto key = SecretKey::generate();
  const auto good = signed_chunk(key, 100);
  for (std::size_t i = 0; i < good.signature.size(); ++i) {
    for (int flip : {0x01, 0x80}) {
      auto bad = good;
      bad.signature[i] = static_cast<std::uint8_t>(bad.signature[i] ^ flip);
      EXPECT_FALSE(verify_chunk(key.public_key(), bad)) << "signature byte " << i;
    }
  }
}

TEST(ChunkSignature, TheHeaderAndTheStreamKeyAreCovered) {
  const auto key = SecretKey::generate();
  const auto good = signed_chunk(key, 100);
  auto bad = good;
  bad.seq = ChunkSeq{43};
  EXPECT_FALSE(verify_chunk(key.public_key(), bad));
  bad = good;
  bad.timestamp_us += 1;
  EXPECT_FALSE(verify_chunk(key.public_key(), bad));
  bad = good;
  bad.flags = 0;
  EXPECT_FALSE(verify_chunk(key.public_key(), bad));
  bad = good;
  bad.payload.pop_back();
  EXPECT_FALSE(verify_chunk(key.public_key(), bad));
  EXPECT_FALSE(verify_chunk(SecretKey::generate().public_key(), good));
}

TEST(ChunkSignature, OversizedOrUnknownFlagsNeverVerify) {
  const auto key = SecretKey::generate();
  auto c = signed_chunk(key, max_chunk_payload + 1);
  EXPECT_FALSE(verify_chunk(key.public_key(), c));
  c = signed_chunk(key, 10);
  c.flags = 0x80;
  sign_chunk(key, c);
  EXPECT_FALSE(verify_chunk(key.public_key(), c));
}

}  // namespace
}  // namespace p2plive
