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

TreeState tree_state() {
  TreeState t;
  t.home = 1;
  t.depth = 3;
  t.latency_ms = 321;
  t.room = 0x8002;
  t.forwarder_room = 0x8003;
  t.children = 9;
  t.displace_rank = 77;
  return t;
}

void expect_tree_state(const TreeState& t) {
  EXPECT_EQ(t.home, 1);
  EXPECT_EQ(t.depth, 3);
  EXPECT_EQ(t.latency_ms, 321);
  EXPECT_EQ(t.room, 0x8002);
  EXPECT_EQ(t.forwarder_room, 0x8003);
  EXPECT_EQ(t.children, 9);
  EXPECT_EQ(t.displace_rank, 77);
}

Welcome welcome() {
  Welcome w;
  w.nonce = 7;
  w.accepted = true;
  w.substream = 2;
  w.tree = tree_state();
  w.suggested_home = 2;
  w.token = 21;
  w.echo = 22;
  w.time_echo_us = 0xfeedbeef;
  w.your_queue_delay_ms = 31;
  w.epoch = 0xabcdef01;
  w.epoch_start_us = 1'700'000'000'000'000ull;
  w.latest_seq = 1000;
  w.latest_join_seq = 990;
  w.push_from = 995;
  w.has_chunks = true;
  w.few_peers = true;
  w.peers = {Endpoint::loopback(1), *Endpoint::parse("[::1]:2")};
  return w;
}

Have have() {
  Have h;
  h.tree = tree_state();
  h.time_us = 123456;
  h.epoch = 0x12345678;
  h.join_seq = 480;
  h.base_seq = 500;
  h.bits = std::vector<bool>(max_have_bits);
  h.bits[0] = h.bits[100] = h.bits[max_have_bits - 1] = true;
  return h;
}

TEST(Wire, ControlMessagesRoundTrip) {
  Hello hello;
  hello.role = Role::relay;
  hello.subscribe = true;
  hello.nonce = 0xdeadbeef;
  hello.substream = 3;
  hello.home = 5;
  hello.capacity = 12;
  hello.rtt_ms = 44;
  hello.token = 11;
  hello.echo = 12;
  hello.time_us = 99;
  hello.epoch = 0x55aa55aa;
  hello.from_seq = 4000;
  hello.padding = 300;
  auto h = round_trip(hello);
  EXPECT_EQ(h.role, Role::relay);
  EXPECT_TRUE(h.subscribe);
  EXPECT_EQ(h.nonce, 0xdeadbeefu);
  EXPECT_EQ(h.substream, 3);
  EXPECT_EQ(h.home, 5);
  EXPECT_EQ(h.capacity, 12);
  EXPECT_EQ(h.rtt_ms, 44);
  EXPECT_EQ(h.token, 11u);
  EXPECT_EQ(h.echo, 12u);
  EXPECT_EQ(h.time_us, 99u);
  EXPECT_EQ(h.epoch, 0x55aa55aau);
  EXPECT_EQ(h.from_seq, 4000u);
  EXPECT_EQ(h.padding, 300);
  EXPECT_EQ(encode(tag, h).size(), encode(tag, Hello{}).size() + 300);

  const auto w = welcome();
  auto w2 = round_trip(w);
  EXPECT_EQ(w2.nonce, 7u);
  EXPECT_TRUE(w2.accepted);
  EXPECT_TRUE(w2.has_chunks);
  EXPECT_TRUE(w2.few_peers);
  EXPECT_EQ(w2.substream, 2);
  expect_tree_state(w2.tree);
  EXPECT_EQ(w2.suggested_home, 2);
  EXPECT_EQ(w2.token, 21u);
  EXPECT_EQ(w2.echo, 22u);
  EXPECT_EQ(w2.time_echo_us, 0xfeedbeefu);
  EXPECT_EQ(w2.your_queue_delay_ms, 31);
  EXPECT_EQ(w2.epoch, 0xabcdef01u);
  EXPECT_EQ(w2.epoch_start_us, 1'700'000'000'000'000ull);
  EXPECT_EQ(w2.latest_seq, 1000u);
  EXPECT_EQ(w2.latest_join_seq, 990u);
  EXPECT_EQ(w2.push_from, 995u);
  EXPECT_EQ(w2.peers, w.peers);

  std::vector<Endpoint> many;
  for (std::uint16_t i = 1; i <= max_peers_per_message; ++i) many.push_back(Endpoint::loopback(i));
  EXPECT_EQ(round_trip(Peers{many}).peers, many);

  const auto hv = have();
  auto have2 = round_trip(hv);
  EXPECT_EQ(have2.bits, hv.bits);
  EXPECT_EQ(have2.base_seq, 500u);
  EXPECT_EQ(have2.epoch, 0x12345678u);
  EXPECT_EQ(have2.join_seq, 480u);
  EXPECT_EQ(have2.time_us, 123456u);
  expect_tree_state(have2.tree);

  auto r = round_trip(Request{0x0badcafe, 3'456'789'012ull, 0x7fff, 5});
  EXPECT_EQ(r.epoch, 0x0badcafeu);
  EXPECT_EQ(r.seq, 3'456'789'012ull);
  EXPECT_EQ(r.fragment_mask, 0x7fff);
  EXPECT_EQ(r.echo, 5u);
  round_trip(Bye{});
  auto report = round_trip(Report{3, Endpoint::loopback(42), 0xfeedbeef});
  EXPECT_EQ(report.substream, 3);
  EXPECT_EQ(report.accused, Endpoint::loopback(42));
  EXPECT_EQ(report.echo, 0xfeedbeefu);
  const auto ack = round_trip(Ack{0x01020304, 250});
  EXPECT_EQ(ack.echo_us, 0x01020304u);
  EXPECT_EQ(ack.your_queue_delay_ms, 250);
}

TEST(Wire, ChunksTravelInFragmentsThatReassemble) {
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, fragment_body_size - chunk_trailer_size,
                           fragment_body_size - chunk_trailer_size + 1, fragment_body_size, std::size_t{5000},
                           max_chunk_payload}) {
    Chunk c;
    c.epoch = 0x1122334455667788ull;
    c.epoch_start_us = 0x0a0b0c0d0e0f1011ull;
    c.seq = ChunkSeq{9};
    c.timestamp_us = 0x0102030405060708ull;
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
      EXPECT_EQ(f.epoch, 0x55667788u);
      EXPECT_EQ(peek_fragment_seq(bytes), 9u);
      EXPECT_EQ(f.index, i);
      EXPECT_EQ(f.count, count);
      body.insert(body.end(), f.body.begin(), f.body.end());
    }
    ASSERT_EQ(body.size(), chunk_body_size(size));
    Chunk back;
    auto wrong_epoch = body;
    EXPECT_FALSE(chunk_from_body(0x55667789u, 9, std::move(wrong_epoch), back)) << "fragments of one epoch, trailer of another";
    ASSERT_TRUE(chunk_from_body(0x55667788u, 9, std::move(body), back));
    EXPECT_EQ(back.seq, c.seq);
    EXPECT_EQ(back.epoch, c.epoch);
    EXPECT_EQ(back.epoch_start_us, c.epoch_start_us);
    EXPECT_EQ(back.timestamp_us, c.timestamp_us);
    EXPECT_EQ(back.flags, c.flags);
    EXPECT_EQ(back.payload, c.payload);
    EXPECT_EQ(back.signature, c.signature);
  }
}

// The fragment header is 18 bytes a datagram and the trailer 89 bytes a chunk (with the 64-byte signature):
// 2.4 % of a 12 KiB chunk's payload.
TEST(Wire, AChunksFramingCostsLittle) {
  const std::size_t payload = 65 * ts_packet_size;  // 50 ms at 2 Mbit/s
  const auto framing = fragment_count(payload) * (header_size + fragment_header_size) + chunk_trailer_size;
  EXPECT_LT(static_cast<double>(framing) / static_cast<double>(payload), 0.025);
}

TEST(Wire, SequenceNumbersTravelAs32BitsAndNeverDecodeAbove) {
  // Nothing a peer sends can make a node's sequence arithmetic wrap: every seq field decodes below 2^32.
  Have h = have();
  h.base_seq = ~std::uint64_t{0} - 100;
  EXPECT_EQ(round_trip(h).base_seq, max_seq);
  auto r = round_trip(Request{1, ~std::uint64_t{0}, 1, 0});
  EXPECT_EQ(r.seq, max_seq);
}

TEST(Wire, EveryTruncationIsRejected) {
  Chunk c;
  c.payload.resize(3000, 1);
  Have small = have();
  small.bits.assign(64, true);
  std::vector<std::vector<std::uint8_t>> messages = {
      encode(tag, Hello{}), encode(tag, welcome()), encode(tag, Peers{{Endpoint::loopback(3)}}),
      encode_fragment(tag, c, 0), encode_fragment(tag, c, 1), encode(tag, small), encode(tag, Request{1, 1, 1}),
      encode(tag, Report{1, Endpoint::loopback(3)}), encode(tag, Ack{3, 3})};
  // A chunk's last fragment carries whatever is left of its body, so a shorter one is still well formed
  // (the signature check catches it); its header may not be cut.
  const auto last = encode_fragment(tag, c, fragment_count(3000) - 1);
  for (std::size_t n = 0; n < header_size + fragment_header_size + 1; ++n)
    EXPECT_FALSE(decode(std::span(last).first(n), tag).has_value()) << "last fragment cut to " << n;
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
  bad[header_size + 9] = 0;  // no fragments at all
  EXPECT_FALSE(decode(bad, tag));
  bad = f;
  bad[header_size + 9] = 20;  // more fragments than a chunk can have
  EXPECT_FALSE(decode(bad, tag));
  bad = f;
  bad[header_size + 8] = 5;  // index beyond count
  EXPECT_FALSE(decode(bad, tag));
  bad = f;
  bad[header_size + 9] = 1;  // the only fragment, too short to hold even a trailer
  bad.resize(header_size + fragment_header_size + chunk_trailer_size - 1);
  EXPECT_FALSE(decode(bad, tag));
  bad = f;
  bad.pop_back();  // a fragment before the last must be full
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
      d[3] = static_cast<std::uint8_t>(1 + rng() % 9);
      std::copy(tag.begin(), tag.end(), d.begin() + 4);
    }
    (void)decode(d, tag);
  }
}

}  // namespace
}  // namespace p2plive::wire
