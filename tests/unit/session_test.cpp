// The session layer on its own: the handshake, the broadcaster's proof, tags, replays, tokens, restarts
// and budgets, with libsodium's real cryptography.
#include <gtest/gtest.h>

#include <map>

#include "protocol/session/session_layer.hpp"

using namespace p2plive;
using namespace p2plive::session;

namespace {

const SecretKey& stream_secret() {
  static const SecretKey key = SecretKey::generate();
  return key;
}

SessionConfig config() {
  SessionConfig c;
  c.stream_tag = wire::stream_tag(stream_secret().public_key());
  return c;
}

struct Node {
  Endpoint at;
  SessionLayer layer;
  std::vector<std::pair<std::uint8_t, std::vector<std::uint8_t>>> delivered;
  std::vector<SessionEvent> events;
  Node(Endpoint e, std::shared_ptr<Crypto> crypto) : at(e), layer(config(), std::move(crypto)) {}
};

std::shared_ptr<Crypto> viewer_crypto() { return sodium_crypto(stream_secret().public_key(), nullptr); }
std::shared_ptr<Crypto> broadcaster_crypto() {
  return sodium_crypto(stream_secret().public_key(), &stream_secret());
}

// Delivers everything in flight between the nodes until nothing moves; returns the datagrams carried.
std::vector<Transmit> run(std::vector<Node*> nodes, Time now, std::vector<Transmit>* dropped_to = nullptr) {
  std::vector<Transmit> carried;
  for (bool moved = true; moved;) {
    moved = false;
    for (Node* n : nodes) {
      while (auto t = n->layer.poll_transmit()) {
        moved = true;
        carried.push_back(*t);
        Node* to = nullptr;
        for (Node* m : nodes)
          if (m->at == t->to) to = m;
        if (!to) {
          if (dropped_to) dropped_to->push_back(*t);
          continue;
        }
        if (auto in = to->layer.receive(n->at, t->bytes, now))
          to->delivered.emplace_back(in->type, std::vector<std::uint8_t>(in->body.begin(), in->body.end()));
      }
      while (auto e = n->layer.poll_event()) n->events.push_back(*e);
    }
  }
  return carried;
}

const std::vector<std::uint8_t> hello_bytes{1, 2, 3, 4, 5};

}  // namespace

TEST(Session, HandshakeCarriesTheFirstMessageAndThenBothWays) {
  Node a(Endpoint::loopback(1000), viewer_crypto()), b(Endpoint::loopback(2000), viewer_crypto());
  a.layer.connect(b.at, 1, hello_bytes, Time{0});
  const auto carried = run({&a, &b}, Time{0});
  // Token request, Retry, Initial with the hello, Accept.
  ASSERT_EQ(carried.size(), 4u);
  EXPECT_GE(carried[0].bytes.size(), min_initial_size);
  EXPECT_LE(carried[1].bytes.size(), 3 * carried[0].bytes.size());  // anti-amplification
  ASSERT_EQ(b.delivered.size(), 1u);
  EXPECT_EQ(b.delivered[0].first, 1);
  EXPECT_EQ(b.delivered[0].second, hello_bytes);
  EXPECT_TRUE(a.layer.established(b.at));
  EXPECT_TRUE(b.layer.established(a.at));
  EXPECT_FALSE(a.layer.proven(b.at));

  std::vector<std::uint8_t> out;
  ASSERT_TRUE(b.layer.seal(a.at, 2, std::vector<std::uint8_t>{9, 9}, out));
  auto in = a.layer.receive(b.at, out, Time{1000});
  ASSERT_TRUE(in);
  EXPECT_EQ(in->type, 2);
  ASSERT_TRUE(a.layer.seal(b.at, wire::fragment_type, std::vector<std::uint8_t>(100, 7), out));
  EXPECT_EQ(out.size(), session_header_size + 100 + tag_size);  // fragments carry no packet number
  EXPECT_TRUE(b.layer.receive(a.at, out, Time{1000}));
}

TEST(Session, TheBroadcasterProvesItOwnsTheStream) {
  Node viewer(Endpoint::loopback(1000), viewer_crypto()), root(Endpoint::loopback(2000), broadcaster_crypto());
  viewer.layer.connect(root.at, 1, hello_bytes, Time{0});
  run({&viewer, &root}, Time{0});
  ASSERT_TRUE(viewer.layer.established(root.at));
  EXPECT_TRUE(viewer.layer.proven(root.at));
  ASSERT_FALSE(viewer.events.empty());
  EXPECT_TRUE(std::get<Opened>(viewer.events.back()).proven);

  // A node that signs with another key claims a stream it does not own: no session with it.
  const auto other = SecretKey::generate();
  Node impostor(Endpoint::loopback(3000), sodium_crypto(stream_secret().public_key(), &other));
  viewer.layer.connect(impostor.at, 1, hello_bytes, Time{0});
  run({&viewer, &impostor}, Time{0});
  EXPECT_FALSE(viewer.layer.established(impostor.at));
  EXPECT_EQ(viewer.layer.stats().bad_proofs, 1u);
}

TEST(Session, TheResponderKeepsNoStateForStrangers) {
  Node b(Endpoint::loopback(2000), viewer_crypto());
  const auto ask = encode_token_request(config().stream_tag);
  for (std::uint32_t i = 0; i < 6000; ++i) b.layer.receive(Endpoint::v4(0x0a000000u + i * 256, 5000), ask, Time{0});
  EXPECT_EQ(b.layer.size(), 0u);
  EXPECT_EQ(b.layer.handshakes(), 0u);
  EXPECT_GT(b.layer.stats().retries_sent, 0u);
  // Everybody's Retry budget bounds what a flood of forged sources can reflect.
  EXPECT_GT(b.layer.stats().retries_limited, 0u);
  // One prefix gets a share of it, not all of it.
  Node c(Endpoint::loopback(2001), viewer_crypto());
  for (std::uint32_t i = 0; i < 2000; ++i) c.layer.receive(Endpoint::v4(0x0b000001u, static_cast<std::uint16_t>(i)), ask, Time{0});
  EXPECT_LT(c.layer.stats().retries_sent, 200u);
}

namespace {
// Carries A's token request to B and B's Retry back, and returns A's Initial with the token.
std::vector<std::uint8_t> initial_with_token(Node& a, Node& b, Time now) {
  a.layer.connect(b.at, 1, hello_bytes, now);
  auto ask = a.layer.poll_transmit();
  b.layer.receive(a.at, ask->bytes, now);
  auto retry = b.layer.poll_transmit();
  a.layer.receive(b.at, retry->bytes, now);
  return a.layer.poll_transmit()->bytes;
}
}  // namespace

TEST(Session, ATokenIsGoodOnlyForTheAddressItWasSentToAndForTwoKeyPeriods) {
  Node a(Endpoint::loopback(1000), viewer_crypto()), b(Endpoint::loopback(2000), viewer_crypto());
  const auto initial = initial_with_token(a, b, Time{0});
  EXPECT_FALSE(b.layer.receive(Endpoint::loopback(6666), initial, Time{0}));
  EXPECT_EQ(b.layer.stats().bad_tokens, 1u);
  EXPECT_EQ(b.layer.size(), 0u);
  EXPECT_TRUE(b.layer.receive(a.at, initial, Time{0}));  // from the right address: the session, and the hello
  EXPECT_EQ(b.layer.size(), 1u);

  Node c(Endpoint::loopback(3000), viewer_crypto()), d(Endpoint::loopback(4000), viewer_crypto());
  const auto late = initial_with_token(c, d, Time{0});
  EXPECT_FALSE(d.layer.receive(c.at, late, config().key_period * 2 + 1s));
  EXPECT_EQ(d.layer.stats().bad_tokens, 1u);
}

TEST(Session, AlteredReplayedAndReflectedDatagramsAreDroppedAndCounted) {
  Node a(Endpoint::loopback(1000), viewer_crypto()), b(Endpoint::loopback(2000), viewer_crypto());
  a.layer.connect(b.at, 1, hello_bytes, Time{0});
  run({&a, &b}, Time{0});
  std::vector<std::uint8_t> bye;
  ASSERT_TRUE(a.layer.seal(b.at, 7, {}, bye));
  auto altered = bye;
  altered[altered.size() - 9] ^= 1;
  EXPECT_FALSE(b.layer.receive(a.at, altered, Time{0}));
  EXPECT_EQ(b.layer.stats().bad_tags, 1u);
  EXPECT_TRUE(b.layer.receive(a.at, bye, Time{0}));
  EXPECT_FALSE(b.layer.receive(a.at, bye, Time{0}));  // the same packet number again
  EXPECT_EQ(b.layer.stats().replays, 1u);
  // From another address, the same bytes name a session that is not that address's.
  EXPECT_FALSE(b.layer.receive(Endpoint::loopback(7777), bye, Time{0}));
  // A's own datagram sent back to A: its ID is B's, and the keys are one per direction.
  EXPECT_FALSE(a.layer.receive(b.at, bye, Time{0}));
  // Packets within the window may come out of order; older than it, they are dropped.
  std::vector<std::vector<std::uint8_t>> later(70);
  for (auto& p : later) ASSERT_TRUE(a.layer.seal(b.at, 5, std::vector<std::uint8_t>{1}, p));
  EXPECT_TRUE(b.layer.receive(a.at, later[69], Time{0}));
  EXPECT_TRUE(b.layer.receive(a.at, later[10], Time{0}));
  EXPECT_FALSE(b.layer.receive(a.at, later[2], Time{0}));
}

TEST(Session, APeerThatRestartedIsReachedAgainWithinARoundTrip) {
  Node a(Endpoint::loopback(1000), viewer_crypto());
  auto b = std::make_unique<Node>(Endpoint::loopback(2000), broadcaster_crypto());
  a.layer.connect(b->at, 1, hello_bytes, Time{0});
  run({&a, b.get()}, Time{0});
  ASSERT_TRUE(a.layer.proven(b->at));
  b = std::make_unique<Node>(Endpoint::loopback(2000), broadcaster_crypto());  // restarted: no sessions
  std::vector<std::uint8_t> hello;
  ASSERT_TRUE(a.layer.seal(b->at, 1, hello_bytes, hello));
  b->layer.receive(a.at, hello, Time{10ms});  // unknown ID: a Retry, and A handshakes again
  run({&a, b.get()}, Time{10ms});
  EXPECT_TRUE(b->layer.established(a.at));
  EXPECT_TRUE(a.layer.proven(b->at));
  EXPECT_EQ(a.layer.stats().rehandshakes, 1u);
  std::vector<std::uint8_t> out;
  ASSERT_TRUE(a.layer.seal(b->at, 1, hello_bytes, out));
  EXPECT_TRUE(b->layer.receive(a.at, out, Time{20ms}));
}

TEST(Session, AForgedRetryNeverClosesAWorkingSession) {
  Node a(Endpoint::loopback(1000), viewer_crypto()), b(Endpoint::loopback(2000), viewer_crypto());
  a.layer.connect(b.at, 1, hello_bytes, Time{0});
  run({&a, &b}, Time{0});
  const auto forged = encode_retry(config().stream_tag, Retry{Token{0, 0, 42}, KxPublic{}});
  for (int i = 0; i < 100; ++i) a.layer.receive(b.at, forged, Time{std::chrono::milliseconds(i)});
  EXPECT_LE(a.layer.stats().rehandshakes, 1u);  // at most one new handshake a second
  run({&a, &b}, Time{100ms});                  // B refuses its forged token
  EXPECT_TRUE(a.layer.established(b.at));
  std::vector<std::uint8_t> out;
  ASSERT_TRUE(a.layer.seal(b.at, 1, hello_bytes, out));
  EXPECT_TRUE(b.layer.receive(a.at, out, Time{100ms}));
}

TEST(Session, BothSidesConnectingAtOnceAgreeOnOneSession) {
  Node a(Endpoint::loopback(1000), viewer_crypto()), b(Endpoint::loopback(2000), viewer_crypto());
  a.layer.connect(b.at, 1, hello_bytes, Time{0});
  b.layer.connect(a.at, 1, hello_bytes, Time{0});
  run({&a, &b}, Time{0});
  ASSERT_TRUE(a.layer.established(b.at));
  ASSERT_TRUE(b.layer.established(a.at));
  std::vector<std::uint8_t> out;
  ASSERT_TRUE(a.layer.seal(b.at, 1, hello_bytes, out));
  EXPECT_TRUE(b.layer.receive(a.at, out, Time{1ms}));
  ASSERT_TRUE(b.layer.seal(a.at, 1, hello_bytes, out));
  EXPECT_TRUE(a.layer.receive(b.at, out, Time{1ms}));
  EXPECT_EQ(a.delivered.size() + b.delivered.size(), 2u);  // both first hellos, one in each direction
}

TEST(Session, ConnectingToOurOwnAddressIsNoticed) {
  Node a(Endpoint::loopback(1000), viewer_crypto());
  a.layer.connect(a.at, 1, hello_bytes, Time{0});
  run({&a}, Time{0});
  EXPECT_FALSE(a.layer.established(a.at));
  EXPECT_EQ(a.layer.stats().self_connections, 1u);
  ASSERT_FALSE(a.events.empty());
  EXPECT_TRUE(std::get<Closed>(a.events.back()).self);
}

TEST(Session, AnUnansweredHandshakeGivesUpAndSaysSo) {
  Node a(Endpoint::loopback(1000), viewer_crypto());
  a.layer.connect(Endpoint::loopback(2000), 1, hello_bytes, Time{0});
  std::vector<Transmit> lost;
  for (Time t{0}; t < 10s; t += 50ms) {
    a.layer.handle_timeout(t);
    run({&a}, t, &lost);
  }
  EXPECT_EQ(lost.size(), config().handshake_attempts);
  EXPECT_EQ(a.layer.stats().handshakes_failed, 1u);
  EXPECT_EQ(a.layer.handshakes(), 0u);
  ASSERT_FALSE(a.events.empty());
  EXPECT_TRUE(std::holds_alternative<Closed>(a.events.back()));
}
