#include <gtest/gtest.h>

#include <random>

#include "protocol/wire.hpp"

namespace p2plive::wire {
namespace {

template <class T>
T round_trip(const T& m) {
  const auto bytes = encode(m);
  EXPECT_LE(bytes.size() + session_framing, max_datagram);
  auto decoded = decode(type_of(m), bytes);
  EXPECT_TRUE(decoded.has_value());
  return std::get<T>(*decoded);
}

std::vector<std::uint8_t> fragment(const Chunk& c, std::size_t index) {
  std::vector<std::uint8_t> out;
  encode_fragment(c, index, out);
  return out;
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
  w.accepted = true;
  w.substream = 2;
  w.tree = tree_state();
  w.suggested_home = 2;
  w.time_echo_us = 0xfeedbeef;
  w.your_queue_delay_ms = 31;
  w.epoch = 0xef01;  // epoch tags are 16 bits
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
  h.epoch = 0x5678;
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
  hello.substream = 3;
  hello.home = 5;
  hello.time_us = 99;
  hello.epoch = 0x55aa;
  hello.from_seq = 4000;
  auto h = round_trip(hello);
  EXPECT_EQ(h.role, Role::relay);
  EXPECT_TRUE(h.subscribe);
  EXPECT_EQ(h.substream, 3);
  EXPECT_EQ(h.home, 5);
  EXPECT_EQ(h.time_us, 99u);
  EXPECT_EQ(h.epoch, 0x55aau);
  EXPECT_EQ(h.from_seq, 4000u);

  const auto w = welcome();
  auto w2 = round_trip(w);
  EXPECT_TRUE(w2.accepted);
  EXPECT_TRUE(w2.has_chunks);
  EXPECT_TRUE(w2.few_peers);
  EXPECT_EQ(w2.substream, 2);
  expect_tree_state(w2.tree);
  EXPECT_EQ(w2.suggested_home, 2);
  EXPECT_EQ(w2.time_echo_us, 0xfeedbeefu);
  EXPECT_EQ(w2.your_queue_delay_ms, 31);
  EXPECT_EQ(w2.epoch, 0xef01u);
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
  EXPECT_EQ(have2.epoch, 0x5678u);
  EXPECT_EQ(have2.join_seq, 480u);
  EXPECT_EQ(have2.time_us, 123456u);
  expect_tree_state(have2.tree);

  auto r = round_trip(Request{0xcafe, 3'456'789'012ull, 0x7fff});
  EXPECT_EQ(r.epoch, 0xcafeu);
  EXPECT_EQ(r.seq, 3'456'789'012ull);
  EXPECT_EQ(r.fragment_mask, 0x7fff);
  round_trip(Bye{});
  auto report = round_trip(Report{3, Endpoint::loopback(42)});
  EXPECT_EQ(report.substream, 3);
  EXPECT_EQ(report.accused, Endpoint::loopback(42));
  const auto ack = round_trip(Ack{0x01020304, 250});
  EXPECT_EQ(ack.echo_us, 0x01020304u);
  EXPECT_EQ(ack.your_queue_delay_ms, 250);
}

TEST(Wire, MapsTravelAsRunsWhenThatIsShorter) {
  const auto size_of = [](const std::vector<bool>& bits) {
    Have h = have();
    h.bits = bits;
    EXPECT_EQ(round_trip(h).bits, bits);
    return encode(h).size();
  };
  const auto empty = size_of({});  // with its form byte
  // What a viewer's map looks like: 150 chunks held, a hole of 2, 30 held, the newest 3 on their way.
  std::vector<bool> usual(185, true);
  usual[150] = usual[151] = usual[182] = usual[183] = usual[184] = false;
  EXPECT_EQ(size_of(usual), empty + 5) << "runs 150, 2, 30, 3 (150 takes two bytes)";
  std::vector<bool> first_missing(64, true);
  first_missing[0] = false;
  EXPECT_EQ(size_of(first_missing), empty + 3) << "runs 0, 1, 63";
  std::vector<bool> alternating(512);
  for (std::size_t i = 0; i < alternating.size(); i += 2) alternating[i] = true;
  EXPECT_EQ(size_of(alternating), empty + 64) << "the bitmap, when runs would be longer";
  EXPECT_EQ(size_of(std::vector<bool>(max_have_bits, true)), empty + 2);
}

TEST(Wire, TheCensusCountsTravelInAFewBytesAndMalformedOnesAreRejected) {
  Have h = have();
  h.bits = {};
  const auto empty = encode(h).size();
  h.subtree_listeners = 5;
  h.listeners = 100'000;
  h.listeners_peak = 0xffffffffu;
  const auto back = round_trip(h);
  EXPECT_EQ(back.subtree_listeners, 5u);
  EXPECT_EQ(back.listeners, 100'000u);
  EXPECT_EQ(back.listeners_peak, 0xffffffffu);
  EXPECT_EQ(encode(h).size(), empty + 0 + 2 + 4) << "5 fits in the byte 0 took, 100,000 in 3, 2^32 - 1 in 5";
  // The counts follow the tree state (11 bytes), clock (4), epoch tag (2), join and base seq (4 + 4).
  Have small = have();
  small.bits = {};
  auto bytes = encode(small);
  constexpr std::size_t at = 11 + 4 + 2 + 4 + 4;
  ASSERT_EQ(bytes[at], 0);
  auto padded = bytes;
  padded[at] = 0x80;
  padded.insert(padded.begin() + at + 1, 0x00);  // zero written in two bytes
  EXPECT_FALSE(decode(5, padded));
  auto too_big = bytes;
  const std::uint8_t five[] = {0xff, 0xff, 0xff, 0xff, 0x1f};  // 2^35 - 1
  too_big[at] = five[0];
  too_big.insert(too_big.begin() + at + 1, five + 1, five + 5);
  EXPECT_FALSE(decode(5, too_big));
  bytes.resize(at + 1);
  EXPECT_FALSE(decode(5, bytes)) << "truncated in the counts";
}

TEST(Wire, MalformedRunsAreRejected) {
  Have h = have();
  h.bits = std::vector<bool>(10, true);
  const auto good = encode(h);  // ... bit count u16 (10), form 1, run 10
  ASSERT_EQ(good[good.size() - 2], 1);
  ASSERT_EQ(good.back(), 10);
  auto bad = good;
  bad.back() = 11;  // more bits than the count
  EXPECT_FALSE(decode(5, bad));
  bad = good;
  bad.back() = 9;  // fewer
  EXPECT_FALSE(decode(5, bad));
  bad = good;
  bad.back() = 5;
  bad.push_back(0);  // an empty run past the first
  EXPECT_FALSE(decode(5, bad));
  bad = good;
  bad.back() = 0x8a;
  bad.push_back(0);  // 10 in two bytes: not the shortest form
  EXPECT_FALSE(decode(5, bad));
  bad = good;
  bad[bad.size() - 2] = 2;  // an unknown form
  EXPECT_FALSE(decode(5, bad));
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
      const auto bytes = fragment(c, i);
      ASSERT_LE(bytes.size() + session_framing, max_datagram);
      auto f = std::get<Fragment>(*decode(fragment_type, bytes));
      EXPECT_EQ(f.seq, 9u);
      EXPECT_EQ(f.epoch, 0x7788u);
      EXPECT_EQ(peek_fragment(bytes), (FragmentKey{0x7788u, 9u, static_cast<std::uint8_t>(i)}));
      EXPECT_EQ(f.index, i);
      EXPECT_EQ(f.count, count);
      body.insert(body.end(), f.body.begin(), f.body.end());
    }
    ASSERT_EQ(body.size(), chunk_body_size(size));
    Chunk back;
    auto wrong_epoch = body;
    EXPECT_FALSE(chunk_from_body(0x7789u, 9, std::move(wrong_epoch), back)) << "fragments of one epoch, trailer of another";
    ASSERT_TRUE(chunk_from_body(0x7788u, 9, std::move(body), back));
    EXPECT_EQ(back.seq, c.seq);
    EXPECT_EQ(back.epoch, c.epoch);
    EXPECT_EQ(back.epoch_start_us, c.epoch_start_us);
    EXPECT_EQ(back.timestamp_us, c.timestamp_us);
    EXPECT_EQ(back.flags, c.flags);
    EXPECT_EQ(back.payload, c.payload);
    EXPECT_EQ(back.signature, c.signature);
  }
}

// The session framing and fragment header are 25 bytes a datagram and the trailer 89 bytes a chunk (with
// the 64-byte signature): under 3 % of a 12 KiB chunk's payload.
TEST(Wire, AChunksFramingCostsLittle) {
  const std::size_t payload = 65 * ts_packet_size;  // 50 ms at 2 Mbit/s
  const auto framing = fragment_count(payload) * (session_framing + fragment_header_size) + chunk_trailer_size;
  EXPECT_LT(static_cast<double>(framing) / static_cast<double>(payload), 0.03);
}

TEST(Wire, SequenceNumbersTravelAs32BitsAndNeverDecodeAbove) {
  // Nothing a peer sends can make a node's sequence arithmetic wrap: every seq field decodes below 2^32.
  Have h = have();
  h.base_seq = ~std::uint64_t{0} - 100;
  EXPECT_EQ(round_trip(h).base_seq, max_seq);
  auto r = round_trip(Request{1, ~std::uint64_t{0}, 1});
  EXPECT_EQ(r.seq, max_seq);
}

TEST(Wire, EveryTruncationIsRejected) {
  Chunk c;
  c.payload.resize(3000, 1);
  Have small = have();
  small.bits.assign(64, true);
  const std::vector<std::pair<std::uint8_t, std::vector<std::uint8_t>>> messages = {
      {1, encode(Hello{})},        {2, encode(welcome())},     {3, encode(Peers{{Endpoint::loopback(3)}})},
      {4, fragment(c, 0)},         {4, fragment(c, 1)},        {5, encode(small)},
      {6, encode(Request{1, 1, 1})}, {8, encode(Report{1, Endpoint::loopback(3)})}, {9, encode(Ack{3, 3})}};
  // A chunk's last fragment carries whatever is left of its body, so a shorter one is still well formed
  // (the signature check catches it); its header may not be cut.
  const auto last = fragment(c, fragment_count(3000) - 1);
  for (std::size_t n = 0; n < fragment_header_size + 1; ++n)
    EXPECT_FALSE(decode(fragment_type, std::span(last).first(n)).has_value()) << "last fragment cut to " << n;
  for (const auto& [type, m] : messages) {
    for (std::size_t n = 0; n < m.size(); ++n)
      EXPECT_FALSE(decode(type, std::span(m).first(n)).has_value()) << "type " << int(type) << " cut to " << n;
    auto longer = m;
    longer.push_back(0);
    EXPECT_FALSE(decode(type, longer).has_value()) << "type " << int(type) << " with a trailing byte";
  }
}

TEST(Wire, OversizedAndUnknownMessagesAreRejected) {
  EXPECT_FALSE(decode(3, std::vector<std::uint8_t>(max_datagram + 1, 0)));
  const auto hello = encode(Hello{});
  EXPECT_FALSE(decode(0, hello));
  EXPECT_FALSE(decode(99, hello));
  auto v = hello;
  v[0] = 7;  // unknown role
  EXPECT_FALSE(decode(1, v));
  v = hello;
  v[1] = 8;  // unknown flags
  EXPECT_FALSE(decode(1, v));
}

TEST(Wire, InconsistentCountsAreRejected) {
  Chunk c;
  c.payload.resize(3000);
  auto f = fragment(c, 0);
  // Byte 6 packs index (high nibble) and count - 1 (low nibble): a count of 0 cannot be said.
  auto bad = f;
  bad[6] = 0x0f;  // 16 fragments: more than a chunk can have
  EXPECT_FALSE(decode(fragment_type, bad));
  bad = f;
  bad[6] = 5 << 4 | 2;  // index 5 of 3
  EXPECT_FALSE(decode(fragment_type, bad));
  bad = f;
  bad[6] = 0;  // the only fragment, too short to hold even a trailer
  bad.resize(fragment_header_size + chunk_trailer_size - 1);
  EXPECT_FALSE(decode(fragment_type, bad));
  bad = f;
  bad.pop_back();  // a fragment before the last must be full
  EXPECT_FALSE(decode(fragment_type, bad));

  auto peers = encode(Peers{{Endpoint::loopback(1)}});
  peers[0] = 200;  // more peers than allowed
  EXPECT_FALSE(decode(3, peers));
}

TEST(Wire, RandomBytesNeverCrashTheDecoder) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> d(rng() % 1300);
    for (auto& b : d) b = static_cast<std::uint8_t>(rng());
    (void)decode(static_cast<std::uint8_t>(rng() % 12), d);
  }
}

}  // namespace
}  // namespace p2plive::wire
