#include <gtest/gtest.h>

#include <map>
#include <set>

#include "swarm_fixture.hpp"

namespace p2plive {
namespace {

using test::Net;
using test::SwarmTest;

TEST_F(SwarmTest, EveryViewerGetsEveryChunkAfterJoining) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto viewers = add_viewers(net, 12);
  net.run_until(2s);  // joins happen before the stream starts
  stream(net, 12s);
  net.run_until(net.now() + 1s);

  for (const auto& v : viewers) {
    const auto got = seqs(net.delivered(v));
    EXPECT_EQ(got.size(), next_seq) << v.to_string();
    EXPECT_EQ(net.delivered(v).size(), got.size()) << "each chunk is delivered once";
    EXPECT_EQ(net.at(v).stats(net.now()).forged_rejected, 0u);
  }
  // The broadcaster feeds only its own children: far less than one copy per viewer.
  const auto up = net.at(broadcaster).stats(net.now()).uploaded_bytes;
  const std::uint64_t stream_bytes = next_seq * 3000;
  EXPECT_LT(up, stream_bytes * 5);
  EXPECT_GT(up, stream_bytes);
}

TEST_F(SwarmTest, RepairFillsHolesLeftByLoss) {
  Net net(5ms, 0.03, 9);
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto viewers = add_viewers(net, 8);
  net.run_until(3s);
  stream(net, 13s);
  net.run_until(net.now() + 2s);
  for (const auto& v : viewers) {
    const auto got = seqs(net.delivered(v));
    EXPECT_GE(got.size(), next_seq * 99 / 100) << v.to_string();
    EXPECT_GT(net.at(v).stats(net.now()).requests_sent, 0u);
  }
}

TEST_F(SwarmTest, ALateJoinerStartsAtTheLatestJoinPoint) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  add_viewers(net, 3);
  net.run_until(1s);
  stream(net, 4s);  // 60 chunks; join points at 0, 20, 40
  const auto late = Endpoint::loopback(3000);
  net.add(late, config(wire::Role::viewer, 77));
  stream(net, 7s);
  net.run_until(net.now() + 1s);
  const auto got = seqs(net.delivered(late));
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(*got.begin() % 20, 0u) << "first chunk " << *got.begin();
  EXPECT_GE(*got.begin(), 40u);
  EXPECT_EQ(*got.rbegin(), next_seq - 1);
}

TEST_F(SwarmTest, AViewerWhoseParentLeavesFindsAnother) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto viewers = add_viewers(net, 10);
  net.run_until(2s);
  stream(net, 5s);
  // Remove a viewer that has children, without a goodbye (a crash).
  Endpoint parent_of_someone{};
  for (const auto& v : viewers)
    if (net.at(v).stats(net.now()).children > 0) parent_of_someone = v;
  ASSERT_NE(parent_of_someone.port, 0);
  net.remove(parent_of_someone);
  const auto cut = next_seq;
  stream(net, 15s);
  for (const auto& v : viewers) {  // while the stream flows, everyone has a parent again
    if (v != parent_of_someone) {
      EXPECT_TRUE(net.at(v).stats(net.now()).has_parent) << v.to_string() << " parents " << net.at(v).stats(net.now()).parents;
    }
  }
  net.run_until(net.now() + 1s);
  for (const auto& v : viewers) {
    if (v == parent_of_someone) continue;
    const auto got = seqs(net.delivered(v));
    // Everything from the crash on arrives, by push from a new parent or by repair.
    for (auto s = cut; s < next_seq; ++s) EXPECT_TRUE(got.count(s)) << v.to_string() << " seq " << s;
  }
}

TEST_F(SwarmTest, ForgedChunksAreCountedAndNeverForwardedOrDelivered) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto viewers = add_viewers(net, 6);
  net.run_until(2s);
  stream(net, 3s);

  const auto tag = wire::stream_tag(key.public_key());
  const auto attacker = Endpoint::loopback(6666);
  std::set<std::uint64_t> forged_seqs;
  // Altered payload, forged signature, and a chunk signed by another key, each sent to every viewer.
  for (int kind = 0; kind < 3; ++kind) {
    auto c = make_chunk();
    forged_seqs.insert(c.seq.value);
    if (kind == 0) c.payload[10] ^= 1;
    if (kind == 1) c.signature[0] ^= 1;
    if (kind == 2) sign_chunk(SecretKey::generate(), c);
    for (const auto& v : viewers)
      for (std::size_t i = 0; i < wire::fragment_count(c.payload.size()); ++i)
        net.inject(attacker, v, wire::encode_fragment(tag, c, i));
  }
  // Watch every datagram between honest nodes: none may carry a forged seq.
  bool forwarded = false;
  net.on_datagram = [&](const Endpoint& from, const Endpoint&, std::span<const std::uint8_t> bytes) {
    if (from == attacker) return true;
    auto m = wire::decode(bytes, tag);
    if (m && std::holds_alternative<wire::Fragment>(*m) && forged_seqs.count(std::get<wire::Fragment>(*m).seq))
      forwarded = true;
    return true;
  };
  net.run_until(net.now() + 500ms);
  EXPECT_FALSE(forwarded);
  for (const auto& v : viewers) {
    EXPECT_EQ(net.at(v).stats(net.now()).forged_rejected, 3u);
    for (const auto& c : net.delivered(v)) EXPECT_FALSE(forged_seqs.count(c.seq.value));
  }
}

TEST_F(SwarmTest, MalformedDatagramsAreCountedAndDropped) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto v = add_viewers(net, 1)[0];
  net.inject(Endpoint::loopback(9), v, {1, 2, 3});
  net.inject(Endpoint::loopback(9), v, std::vector<std::uint8_t>(1500, 0));
  net.run_until(100ms);
  EXPECT_EQ(net.at(v).stats(net.now()).malformed_dropped, 2u);
}

TEST_F(SwarmTest, AForgedSourceAddressGetsAtMostThreeTimesWhatItSent) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto viewers = add_viewers(net, 4);
  net.run_until(2s);
  stream(net, 4s);
  // An attacker sends hellos, subscriptions and repair requests in a victim's name; the victim never
  // answers, so it never echoes a token.
  const auto tag = wire::stream_tag(key.public_key());
  const auto victim = Endpoint::loopback(7777);
  std::uint64_t sent_in_its_name = 0, sent_to_it = 0;
  std::map<Endpoint, int> probes_by_others;
  const std::set<Endpoint> targets = {broadcaster, viewers[0], viewers[1]};
  net.on_datagram = [&](const Endpoint& from, const Endpoint& to, std::span<const std::uint8_t> bytes) {
    if (to != victim) return true;
    // Nodes the attacker never wrote to may still learn the address from peer lists and probe it, a few
    // times at most; the others answer within three times what they received.
    if (targets.count(from)) sent_to_it += bytes.size();
    else ++probes_by_others[from];
    return false;
  };
  for (int round = 0; round < 20; ++round) {
    for (const auto& target : {broadcaster, viewers[0], viewers[1]}) {
      for (const auto& m : {wire::Message{wire::Hello{wire::Role::viewer, true, 99, 0, 0}},
                            wire::Message{wire::Request{wire::epoch_tag(epoch), next_seq - 5, 0xffff}}}) {
        const auto bytes = wire::encode(tag, m);
        sent_in_its_name += bytes.size();
        net.inject(victim, target, bytes);
      }
    }
    stream(net, net.now() + 100ms);
  }
  net.run_until(net.now() + 1s);
  EXPECT_GT(sent_to_it, 0u);  // it was answered, within the limit
  EXPECT_LE(sent_to_it, 3 * sent_in_its_name);
  for (const auto& [node, probes] : probes_by_others) EXPECT_LE(probes, 3);
  std::uint64_t refused = 0;
  for (const auto& n : {broadcaster, viewers[0], viewers[1]}) refused += net.at(n).stats(net.now()).amplification_dropped;
  EXPECT_GT(refused, 0u);
}

// In a big swarm the broadcaster's peer table has long forgotten most viewers, so a report of a withholding
// child counts when its sender echoes the broadcaster's token; a stranger's report without it does not.
TEST_F(SwarmTest, TheBroadcasterDropsAChildThatTwoProvenPeersReport) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto tag = wire::stream_tag(key.public_key());
  const auto child = Endpoint::loopback(3001);
  std::map<Endpoint, std::uint32_t> tokens;  // the broadcaster's token for each address, from its welcomes
  net.on_datagram = [&](const Endpoint&, const Endpoint& to, std::span<const std::uint8_t> bytes) {
    if (const auto m = wire::decode(bytes, tag))
      if (const auto* w = std::get_if<wire::Welcome>(&*m)) tokens[to] = w->token;
    return to == broadcaster;  // the other addresses are played by this test
  };
  net.inject(child, broadcaster, wire::encode(tag, wire::Hello{wire::Role::viewer, true, 5, 0, 0, 8}));
  const auto r1 = Endpoint::loopback(3002), r2 = Endpoint::loopback(3003), stranger = Endpoint::loopback(3004);
  for (const auto& r : {r1, r2}) net.inject(r, broadcaster, wire::encode(tag, wire::Hello{wire::Role::viewer, false, 6}));
  net.run_until(100ms);
  ASSERT_TRUE(tokens.count(r1) && tokens.count(r2));
  for (const auto& r : {r1, r2}) net.inject(r, broadcaster, wire::encode(tag, wire::Bye{}));  // forgotten
  const auto report = [&](const Endpoint& from, std::uint32_t echo) {
    net.inject(from, broadcaster, wire::encode(tag, wire::Report{0, child, echo}));
    net.run_until(net.now() + 10ms);
    return net.at(broadcaster).stats(net.now()).withholders_evicted;
  };
  EXPECT_EQ(report(stranger, 0), 0u);
  EXPECT_EQ(report(r1, tokens[r2]), 0u);  // another address's token proves nothing
  EXPECT_EQ(report(r1, tokens[r1]), 0u);  // one report could be a lie
  EXPECT_EQ(report(r2, tokens[r2]), 1u);
  EXPECT_EQ(net.at(broadcaster).stats(net.now()).children, 0u);
}

TEST_F(SwarmTest, ANoUploadViewerWatchesWithoutSendingAnyMedia) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  add_viewers(net, 6);
  auto quiet = config(wire::Role::viewer, 55);
  quiet.max_children = 0;
  quiet.answers_requests = false;
  const auto taker = Endpoint::loopback(3000);
  net.add(taker, quiet);
  const auto tag = wire::stream_tag(key.public_key());
  std::uint64_t fragments_sent = 0;
  net.on_datagram = [&](const Endpoint& from, const Endpoint&, std::span<const std::uint8_t> bytes) {
    auto m = wire::decode(bytes, tag);
    if (from == taker && m && std::holds_alternative<wire::Fragment>(*m)) ++fragments_sent;
    return true;
  };
  net.run_until(2s);
  stream(net, 10s);
  net.run_until(net.now() + 1s);
  EXPECT_EQ(fragments_sent, 0u);
  EXPECT_EQ(net.at(taker).stats(net.now()).children, 0u);
  EXPECT_EQ(seqs(net.delivered(taker)).size(), next_seq);
}

TEST_F(SwarmTest, ChildrenAreCapped) {
  Net net;
  auto bc = config(wire::Role::broadcaster, 1);
  bc.max_children = 2;
  net.add(broadcaster, bc);
  const auto viewers = add_viewers(net, 10);
  net.run_until(3s);
  EXPECT_EQ(net.at(broadcaster).stats(net.now()).children, 2u);  // over all its trees
  for (const auto& v : viewers) EXPECT_LE(net.at(v).stats(net.now()).children, SwarmConfig{}.max_children);
}

TEST_F(SwarmTest, OneSeedGivesTheSameRun) {
  auto run = [&] {
    next_seq = 0;
    Net net(5ms, 0.02, 3);
    net.add(broadcaster, config(wire::Role::broadcaster, 1));
    const auto viewers = add_viewers(net, 5);
    net.run_until(1s);
    stream(net, 3s);
    std::vector<std::uint64_t> figures;
    for (const auto& v : viewers) {
      const auto s = net.at(v).stats(net.now());
      figures.insert(figures.end(), {s.uploaded_bytes, s.downloaded_bytes, s.requests_sent, s.depth});
    }
    return figures;
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace p2plive
