// The fixture of the swarm's protocol tests: a stream key, a broadcaster's address, viewers' configs and
// signed chunks published on a schedule, in virtual time (swarm_harness.hpp).
#pragma once

#include <gtest/gtest.h>

#include <set>

#include "swarm_harness.hpp"

namespace p2plive::test {

struct SwarmTest : ::testing::Test {
  SecretKey key = SecretKey::generate();
  Endpoint broadcaster = Endpoint::loopback(1000);
  std::uint64_t next_seq = 0;
  bool real_crypto = false;  // libsodium's, where a test needs every byte under the tag

  SwarmConfig config(wire::Role role, std::uint64_t seed) {
    SwarmConfig c;
    c.stream_key = key.public_key();
    c.role = role;
    c.rng_seed = seed;
    // The simulator's stand-in for the cryptography, seeded: a test is the same run every time. (The real
    // one, and its proof by the stream key, are tested in session_test and by real processes.)
    c.crypto = real_crypto ? session::sodium_crypto(key.public_key(), role == wire::Role::broadcaster ? &key : nullptr)
                           : session::cheap_crypto(seed * 7919 + 1, role == wire::Role::broadcaster);
    if (role != wire::Role::broadcaster) c.bootstrap = {broadcaster};
    return c;
  }

  std::uint64_t epoch = 0x1234abcd5678ull;
  std::uint64_t epoch_start_us = 1'000;

  Chunk make_chunk(std::size_t size = 3000) {
    Chunk c;
    c.epoch = epoch;
    c.epoch_start_us = epoch_start_us;
    c.seq = ChunkSeq{next_seq};
    c.flags = next_seq % 20 == 0 ? chunk_flags::join_point : 0;
    c.timestamp_us = next_seq;
    c.payload.assign(size, static_cast<std::uint8_t>(next_seq));
    ++next_seq;
    sign_chunk(key, c);
    return c;
  }

  std::vector<Endpoint> add_viewers(Net& net, int n, std::uint16_t first_port = 2000) {
    std::vector<Endpoint> v;
    for (int i = 0; i < n; ++i) {
      v.push_back(Endpoint::loopback(static_cast<std::uint16_t>(first_port + i)));
      net.add(v.back(), config(wire::Role::viewer, 100 + static_cast<std::uint64_t>(first_port + i)));
    }
    return v;
  }

  // Publishes one chunk every 50 ms until `end`.
  void stream(Net& net, Time end, std::size_t size = 3000) {
    while (net.now() + 50ms <= end) {
      net.publish(broadcaster, make_chunk(size));
      net.run_until(net.now() + 50ms);
    }
  }

  static std::set<std::uint64_t> seqs(const std::vector<Chunk>& chunks) {
    std::set<std::uint64_t> s;
    for (const auto& c : chunks) s.insert(c.seq.value);
    return s;
  }
};

}  // namespace p2plive::test
