#include <gtest/gtest.h>

#include <random>

#include "protocol/wire.hpp"

namespace p2plive::wire {
namespace {

const StreamTag tag{1, 2, 3, 4};

template <class T>
T round_trip(const T& m) {
  const auto bytes = encode(tag, m);
  EXPECT_LE(bytes.size(), max_datagram);
  auto decoded = decode(bytes, tag);
  EXPECT_TRUE(decoded.has_value());
  return std::get<T>(*decoded);
}

TEST(Wire, ControlMessagesRoundTrip) {
  auto h = round_trip(Hello{Role::relay, true, 0xdeadbeef, 3, 5, 11, 12, 300});
  EXPECT_EQ(h.role, Role::relay);
  EXPECT_TRUE(h.subscribe);
  EXPECT_EQ(h.nonce, 0xdeadbeefu);
  EXPECT_EQ(h.substream, 3);
  EXPECT_EQ(h.home, 5);
  EXPECT_EQ(h.token, 11u);
  EXPECT_EQ(h.echo, 12u);
  EXPECT_EQ(h.padding, 300);
  EXPECT_EQ(encode(tag, h).size(), encode(tag, Hello{}).size() + 300);

  Welcome w{7, true, 2, 1, 3, 0x8002, 0x8003, 9, 2, 21, 22, 1000, 990, true, {Endpoint::loopback(1), *Endpoint::parse("[::1]:2")}};
  auto w2 = round_trip(w);
  EXPECT_EQ(w2.nonce, 7u);
  EXPECT_TRUE(w2.accepted);
  EXPECT_TRUE(w2.has_chunks);
  EXPECT_EQ(w2.substream, 2);
  EXPECT_EQ(w2.home, 1);
  EXPECT_EQ(w2.depth, 3);
  EXPECT_EQ(w2.room, 0x8002);
  EXPECT_EQ(w2.forwarder_room, 0x8003);
  EXPECT_EQ(w2.children, 9);
  EXPECT_EQ(w2.suggested_home, 2);
  EXPECT_EQ(w2.token, 21u);
  EXPECT_EQ(w2.echo, 22u);
  EXPECT_EQ(w2.latest_seq, 1000u);
  EXPECT_EQ(w2.latest_join_seq, 990u);
  EXPECT_EQ(w2.peers, w.peers);

  std::vector<Endpoint> many;
  for (std::uint16_t i = 1; i <= max_peers_per_message; ++i) many.push_back(Endpoint::loopback(i));
  EXPECT_EQ(round_trip(Peers{many}).peers, many);

  Have have{1, 2, 0x0002, 0x0003, 7, 500, std::vector<bool>(max_have_bits)};
  have.bits[0] = have.bits[100] = have.bits[max_have_bits - 1] = true;
  auto have2 = round_trip(have);
  EXPECT_EQ(have2.bits, have.bits);
  EXPECT_EQ(have2.base_seq, 500u);
  EXPECT_EQ(have2.home, 1);
  EXPECT_EQ(have2.depth, 2);
  EXPECT_EQ(have2.room, 0x0002);
  EXPECT_EQ(have2.forwarder_room, 0x0003);
  EXPECT_EQ(have2.children, 7);

  auto r = round_trip(Request{123456789012ull, 0x7fff});
  EXPECT_EQ(r.seq, 123456789012ull);
  EXPECT_EQ(r.fragment_mask, 0x7fff);
  round_trip(Bye{});
  auto report = round_trip(Report{3, Endpoint::loopback(42)});
  EXPECT_EQ(report.substream, 3);
  EXPECT_EQ(report.accused, Endpoint::loopback(42));
}

TEST(Wire, ChunksTravelInFragmentsThatReassemble) {
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, fragment_body_size - 64, fragment_body_size,
                           std::size_t{5000}, max_chunk_payload}) {
    Chunk c;
    c.seq = ChunkSeq{9};
    c.timestamp_us = 77;
    c.flags = chunk_flags::join_point;
    c.payload.resize(size);
    for (std::size_t i = 0; i < size; ++i) c.payload[i] = static_cast<std::uint8_t>(i);
    for (std::size_t i = 0; i < 64; ++i) c.signature[i] = static_cast<std::uint8_t>(200 + i);
    const auto count = fragment_count(size);
    ASSERT_LE(count, max_fragments);
    std::vector<std::uint8_t> body;
    for (std::size_t i = 0; i < count; ++i) {
      const auto bytes = encode_fragment(tag, c, i);
      ASSERT_LE(bytes.size(), max_datagram);
      auto f = std::get<Fragment>(*decode(bytes, tag));
      EXPECT_EQ(f.seq, 9u);
      EXPECT_EQ(f.index, i);
      EXPECT_EQ(f.count, count);
      EXPECT_EQ(f.payload_size, size);
      body.insert(body.end(), f.body.begin(), f.body.end());
    }
    ASSERT_EQ(body.size(), size + 64);
    EXPECT_TRUE(std::equal(c.payload.begin(), c.payload.end(), body.begin()));
    EXPECT_TRUE(std::equal(c.signature.begin(), c.signature.end(), body.begin() + static_cast<long>(size)));
  }
}

TEST(Wire, EveryTruncationIsRejected) {
  Chunk c;
  c.payload.resize(3000, 1);
  std::vector<std::vector<std::uint8_t>> messages = {
      encode(tag, Hello{}), encode(tag, Welcome{1, true, 0, 0, 0, 1, 1, 0, 0, 0, 0, 5, 5, true, {Endpoint::loopback(3)}}),
      encode(tag, Peers{{Endpoint::loopback(3)}}), encode_fragment(tag, c, 0), encode_fragment(tag, c, 2),
      encode(tag, Have{0, 0, 1, 1, 0, 0, std::vector<bool>(64, true)}), encode(tag, Request{1, 1}), encode(tag, Report{1, Endpoint::loopback(3)})};
  for (const auto& m : messages) {
    for (std::size_t n = 0; n < m.size(); ++n) {
      EXPECT_FALSE(decode(std::span(m).first(n), tag).has_value()) << "type " << int(m[3]) << " cut to " << n;
    }
    auto longer = m;
    longer.push_back(0);
    EXPECT_FALSE(decode(longer, tag).has_value()) << "type " << int(m[3]) << " with a trailing byte";
  }
}

TEST(Wire, OversizedAndForeignDatagramsAreRejected) {
  std::vector<std::uint8_t> big(max_datagram + 1, 0);
  big[0] = 'P';
  big[1] = 'L';
  big[2] = version;
  big[3] = 3;
  std::copy(tag.begin(), tag.end(), big.begin() + 4);
  EXPECT_FALSE(decode(big, tag));

  auto hello = encode(tag, Hello{});
  EXPECT_FALSE(decode(hello, StreamTag{9, 9, 9, 9}));  // another swarm
  auto v = hello;
  v[2] = version + 1;
  EXPECT_FALSE(decode(v, tag));
  v = hello;
  v[0] = 'X';
  EXPECT_FALSE(decode(v, tag));
  v = hello;
  v[3] = 0;
  EXPECT_FALSE(decode(v, tag));
  v = hello;
  v[3] = 99;
  EXPECT_FALSE(decode(v, tag));
  v = hello;
  v[8] = 7;  // unknown role
  EXPECT_FALSE(decode(v, tag));
}

TEST(Wire, InconsistentCountsAreRejected) {
  Chunk c;
  c.payload.resize(3000);
  auto f = encode_fragment(tag, c, 0);
  auto bad = f;
  bad[header_size + 17] = 0xff;  // payload_size high byte: beyond max_chunk_payload
  EXPECT_FALSE(decode(bad, tag));
  bad = f;
  bad[header_size + 20] = 9;  // count disagrees with the payload size
  EXPECT_FALSE(decode(bad, tag));
  bad = f;
  bad[header_size + 19] = 5;  // index beyond count
  EXPECT_FALSE(decode(bad, tag));

  auto peers = encode(tag, Peers{{Endpoint::loopback(1)}});
  peers[header_size] = 200;  // more peers than allowed
  EXPECT_FALSE(decode(peers, tag));
}

TEST(Wire, RandomBytesNeverCrashTheDecoder) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> d(rng() % 1300);
    for (auto& b : d) b = static_cast<std::uint8_t>(rng());
    if (d.size() >= 8 && (i & 1)) {
      d[0] = 'P';
      d[1] = 'L';
      d[2] = version;
      d[3] = static_cast<std::uint8_t>(1 + rng() % 7);
      std::copy(tag.begin(), tag.end(), d.begin() + 4);
    }
    (void)decode(d, tag);
  }
}

}  // namespace
}  // namespace p2plive::wire
