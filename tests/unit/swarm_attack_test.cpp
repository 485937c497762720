// The swarm under attack, in virtual time: strangers forging addresses, peers with sessions that lie,
// forge, replay or corrupt. Each test names the attack of core/PROTOCOL.md's threat model it answers.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "swarm_fixture.hpp"

namespace p2plive {
namespace {

using test::Agent;
using test::Net;
using test::SwarmTest;

// What a member posing as the best parent there is answers a hello: one hop below the broadcaster, no
// delay, room where `room` says, children already, and the live edge of the stream.
wire::Welcome bait_welcome(const wire::Hello& h, std::uint8_t home, std::uint16_t room, std::uint64_t epoch,
                           std::uint64_t next_seq) {
  wire::Welcome w;
  w.accepted = h.subscribe;
  w.substream = h.substream;
  w.tree = {home, 1, 1, room, room, 8, 0xffff};
  w.has_chunks = next_seq > 0;
  w.epoch = wire::epoch_tag(epoch);
  w.latest_seq = w.latest_join_seq = next_seq > 0 ? next_seq - 1 : 0;
  w.push_from = next_seq;
  return w;
}

// Spoofing: a stranger's datagrams, whatever source they claim, never get past the session layer.
TEST_F(SwarmTest, DatagramsFromStrangersNeverReachTheSwarm) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto viewers = add_viewers(net, 4);
  net.run_until(2s);
  // Copy the broadcaster's genuine datagrams to viewer 0 and send them again as the broadcaster: half
  // unchanged and late, half with 8 bytes overwritten.
  std::vector<std::vector<std::uint8_t>> captured;
  net.on_datagram = [&](const Endpoint& from, const Endpoint& to, std::span<const std::uint8_t> bytes) {
    if (from == broadcaster && to == viewers[0] && captured.size() < 400) captured.emplace_back(bytes.begin(), bytes.end());
    return true;
  };
  stream(net, 4s);
  net.on_datagram = nullptr;
  for (std::size_t i = 0; i < captured.size(); ++i) {
    auto d = captured[i];
    if (i % 2) std::fill_n(d.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(d.size() - 8, 20)), 8, 0xee);
    net.inject(broadcaster, viewers[0], d);
    net.inject(Endpoint::loopback(6666), viewers[0], std::vector<std::uint8_t>(300, static_cast<std::uint8_t>(i)));
  }
  stream(net, 6s);
  net.run_until(net.now() + 1s);
  const auto s = net.at(viewers[0]).stats(net.now());
  EXPECT_GT(s.session.bad_tags, 0u);      // the altered copies
  EXPECT_GT(s.session.replays + s.duplicate_fragments, 0u);  // the late ones
  EXPECT_GT(s.session.malformed, 0u);     // the garbage
  EXPECT_EQ(s.forged_rejected, 0u);       // nobody blamed: no session sent a forgery
  EXPECT_EQ(seqs(net.delivered(viewers[0])).size(), next_seq);
  EXPECT_TRUE(s.has_parent);
}

// Reflection: in a victim's name, an attacker gets nothing but Retries sent to it, within 3x.
TEST_F(SwarmTest, AForgedSourceAddressGetsAtMostThreeTimesWhatItSent) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto viewers = add_viewers(net, 3);
  net.run_until(2s);
  stream(net, 3s);
  const auto tag = wire::stream_tag(key.public_key());
  const auto victim = Endpoint::loopback(7777);
  std::uint64_t sent_in_its_name = 0, sent_to_it = 0;
  net.on_datagram = [&](const Endpoint&, const Endpoint& to, std::span<const std::uint8_t> bytes) {
    if (to == victim) sent_to_it += bytes.size();
    return to != victim;
  };
  const auto ask = session::encode_token_request(tag);
  std::vector<std::uint8_t> bogus_session(40, 0);
  bogus_session[0] = session::session_kind | 6;  // a "request" in a session nobody has
  for (int round = 0; round < 50; ++round) {
    for (const auto& target : {broadcaster, viewers[0], viewers[1]}) {
      for (const auto& d : {ask, bogus_session}) {
        sent_in_its_name += d.size();
        net.inject(victim, target, d);
      }
    }
    stream(net, net.now() + 50ms);
  }
  net.run_until(net.now() + 1s);
  EXPECT_GT(sent_to_it, 0u);
  EXPECT_LE(sent_to_it, 3 * sent_in_its_name);
  for (const auto& n : {broadcaster, viewers[0], viewers[1]}) {
    const auto s = net.at(n).stats(net.now());
    EXPECT_GT(s.session.retries_sent, 0u);
    EXPECT_LE(s.peers, 4u) << "the victim never became a peer";
  }
}

// A peer with a session, but neither our parent nor asked, cannot feed us fragments: they are dropped
// unread, and cost no signature check.
TEST_F(SwarmTest, FragmentsNobodyAskedForAreDroppedUnread) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto viewers = add_viewers(net, 2);
  auto& attacker = net.add_agent(Endpoint::loopback(6666), key.public_key());
  attacker.send(viewers[0], wire::Hello{}, Time{0});
  net.run_until(2s);
  ASSERT_TRUE(attacker.layer.established(viewers[0]));
  stream(net, 3s);
  for (int i = 0; i < 50; ++i) {
    auto c = make_chunk();
    c.payload[10] ^= 1;
    --next_seq;  // the genuine chunk of that number comes next
    for (std::size_t f = 0; f < wire::fragment_count(c.payload.size()); ++f) attacker.send_fragment(viewers[0], c, f);
    net.publish(broadcaster, make_chunk());
    net.run_until(net.now() + 50ms);
  }
  net.run_until(net.now() + 1s);
  const auto s = net.at(viewers[0]).stats(net.now());
  EXPECT_GT(s.unsolicited_fragments, 0u);
  EXPECT_EQ(s.forged_rejected, 0u);
  EXPECT_EQ(seqs(net.delivered(viewers[0])).size(), next_seq);
}

// A forwarder that pushes forgeries to its children: each forged chunk came over its session alone, so it
// is blamed, banned after three, and its children get the stream from others.
TEST_F(SwarmTest, AForgingParentIsBlamedBannedAndReplaced) {
  Net net;
  auto root_config = config(wire::Role::broadcaster, 1);
  root_config.trees.max_children = 4;  // one slot per tree: two of the viewers are further down tree 0
  net.add(broadcaster, root_config);
  stream(net, 1s);
  // The forger poses as a forwarder one hop from the broadcaster with room in its home tree, and says so to
  // whoever asks; the viewers, joining after it, learn of it from the broadcaster's peer lists.
  const auto forger_at = Endpoint::loopback(6666);
  auto& forger = net.add_agent(forger_at, key.public_key());
  forger.send(broadcaster, wire::Hello{}, net.now());
  std::vector<Endpoint> viewers;
  std::uint64_t joined_at = 0;
  std::set<Endpoint> children;
  std::size_t answered = 0;
  for (int step = 0; step < 200; ++step) {
    if (step == 10) {
      viewers = add_viewers(net, 3);
      joined_at = next_seq;
    }
    for (auto& [from, m] : forger.received) {
      if (const auto* h = std::get_if<wire::Hello>(&m)) {
        // Room in tree 0, its home: room elsewhere would give it away.
        forger.send(from, bait_welcome(*h, 0, 1, epoch, next_seq), net.now());
        ++answered;
        if (h->subscribe) children.insert(from);
      }
    }
    forger.received.clear();
    auto c = make_chunk();
    auto forged = c;
    forged.payload[5] ^= 1;
    for (const auto& child : children)
      for (std::size_t f = 0; f < wire::fragment_count(forged.payload.size()); ++f) forger.send_fragment(child, forged, f);
    net.publish(broadcaster, std::move(c));
    net.run_until(net.now() + 50ms);
  }
  stream(net, net.now() + 3s);  // time to settle with the forger banned
  net.run_until(net.now() + 1s);
  ASSERT_GT(answered, 0u);
  ASSERT_FALSE(children.empty()) << "no viewer took the forger as a parent";
  std::uint64_t rejected = 0;
  for (const auto& v : viewers) {
    const auto s = net.at(v).stats(net.now());
    rejected += s.forged_rejected;
    // Three forgeries, then the ban: nothing more of the forger's is even looked at.
    EXPECT_LE(s.forged_rejected, SwarmConfig{}.membership.forged_chunks_before_ban) << v.to_string();
    const auto got = seqs(net.delivered(v));
    EXPECT_GE(std::count_if(got.begin(), got.end(), [&](std::uint64_t seq) { return seq >= joined_at; }),
              static_cast<std::ptrdiff_t>((next_seq - joined_at) * 95 / 100)) << v.to_string();
  }
  EXPECT_GE(rejected, 3u);
}

// The attack of tests/attack/attack_peer's forger: a member in each tree posing as the best parent there,
// holding one of the broadcaster's six slots in it and pushing forgeries of the chunk about to be
// published. The viewers ban the forgers, report them, and the broadcaster evicts them; the slots they
// free go to the viewers as soon as its maps say so, not after the refusals' retry wait. What the
// forgers cost is confined to the stream's first half second after joining.
TEST_F(SwarmTest, ForgingParentsInEveryTreeCostJoiningViewersOnlyTheirFirstHalfSecond) {
  Net net(1ms);
  auto root_config = config(wire::Role::broadcaster, 1);
  root_config.trees.max_children = 6;  // broadcaster_node's
  net.add(broadcaster, root_config);
  const auto publish = [&] {
    net.publish(broadcaster, make_chunk());
    net.run_until(net.now() + 25ms);
  };
  while (net.now() < 1s) publish();
  std::vector<Agent*> forgers;
  std::vector<std::set<Endpoint>> children(4);
  for (std::uint16_t i = 0; i < 4; ++i)
    forgers.push_back(
        &net.add_agent(Endpoint::loopback(static_cast<std::uint16_t>(6660 + i)), key.public_key()));
  std::vector<Endpoint> viewers;
  std::uint64_t joined_at = 0;
  std::map<std::uint64_t, Time> published_at;
  for (int step = 0; step < 360; ++step) {
    if (step == 80) {
      viewers = add_viewers(net, 4);
      joined_at = next_seq;
    }
    for (std::size_t i = 0; i < forgers.size(); ++i) {
      const auto home = static_cast<std::uint8_t>(i);
      if (step % 20 == 0)
        forgers[i]->send(broadcaster, wire::Hello{wire::Role::viewer, true, home, home}, net.now());
      for (auto& [from, m] : forgers[i]->received)
        if (const auto* h = std::get_if<wire::Hello>(&m); h && from != broadcaster) {
          auto w = bait_welcome(*h, home, static_cast<std::uint16_t>(1u << i), epoch, next_seq);
          w.time_echo_us = h->time_us;  // a short round trip, timed
          forgers[i]->send(from, w, net.now());
          if (h->subscribe && h->substream == home) children[i].insert(from);
        }
      forgers[i]->received.clear();
    }
    auto forged = make_chunk(6000);
    --next_seq;  // the same seq as the genuine chunk published next
    forged.payload[5] ^= 1;
    for (std::size_t i = 0; i < forgers.size(); ++i)
      for (const auto& child : children[i])
        for (std::size_t f = 0; f < wire::fragment_count(forged.payload.size()); ++f)
          forgers[i]->send_fragment(child, forged, f);
    published_at[next_seq] = net.now();
    publish();
  }
  std::size_t took = 0;
  for (const auto& c : children) took += c.size();
  ASSERT_GE(took, viewers.size()) << "the viewers did not take the forgers as parents";
  EXPECT_EQ(net.at(broadcaster).stats(net.now()).withholders_evicted, forgers.size());
  for (const auto& v : viewers) {
    std::map<std::uint64_t, Time> arrival;
    const auto& got = net.delivered(v);
    for (std::size_t i = 0; i < got.size(); ++i)
      arrival.try_emplace(got[i].seq.value, net.delivered_at(v)[i]);
    // Late: more than the player's gap_timeout after it was published, or never.
    std::string late;
    for (const auto& [seq, at] : published_at) {
      if (seq < joined_at + 20) continue;
      if (const auto a = arrival.find(seq); a == arrival.end() || a->second - at > 1s)
        late += " " + std::to_string(seq - joined_at);
    }
    EXPECT_TRUE(late.empty()) << v.to_string() << ": chunks late, counted from joining:" << late;
    EXPECT_GE(net.at(v).stats(net.now()).forged_rejected, 3u) << v.to_string();
  }
}

// Reports: one session, one voice. Two distinct sessions' reports evict a child; one reporter twice does not.
TEST_F(SwarmTest, TheBroadcasterDropsAChildThatTwoSessionsReport) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto child_at = Endpoint::loopback(3001);
  auto& child = net.add_agent(child_at, key.public_key());
  child.send(broadcaster, wire::Hello{wire::Role::viewer, true, 0, 0}, Time{0});
  net.run_until(200ms);
  ASSERT_EQ(net.at(broadcaster).stats(net.now()).children, 1u);
  auto& r1 = net.add_agent(Endpoint::loopback(3002), key.public_key());
  auto& r2 = net.add_agent(Endpoint::loopback(3003), key.public_key());
  const auto report = [&](Agent& from) {
    from.send(broadcaster, wire::Report{0, child_at}, net.now());
    net.run_until(net.now() + 100ms);
    return net.at(broadcaster).stats(net.now()).withholders_evicted;
  };
  EXPECT_EQ(report(r1), 0u);  // one report could be a lie
  EXPECT_EQ(report(r1), 0u);  // the same reporter again is still one
  EXPECT_EQ(report(r2), 1u);
  EXPECT_EQ(net.at(broadcaster).stats(net.now()).children, 0u);
}

// Sybils: members that complete the handshake, hold every slot the broadcaster has before any viewer
// comes, claim children, and forward nothing. Each offers only its home tree (room elsewhere would give it
// away; the odd ones here do so anyway, claiming as home whatever tree they are asked about). The viewers
// try them, find that they deliver nothing, report them, and the broadcaster evicts each one that two
// sessions report; the slots go to viewers, which then get the whole stream.
TEST_F(SwarmTest, SybilsHoldingEverySlotAreReportedEvictedAndReplaced) {
  Net net;
  auto root_config = config(wire::Role::broadcaster, 1);
  root_config.trees.max_children = 6;  // two slots in trees 0 and 1, one in trees 2 and 3
  net.add(broadcaster, root_config);
  std::vector<Agent*> sybils;
  std::size_t subscriptions = 0;  // viewers' subscriptions the Sybils got
  for (std::uint8_t i = 0; i < 6; ++i)
    sybils.push_back(&net.add_agent(Endpoint::loopback(static_cast<std::uint16_t>(5000 + i)), key.public_key()));
  const auto play_sybils = [&](int step) {
    for (std::uint8_t i = 0; i < sybils.size(); ++i) {
      auto& sybil = *sybils[i];
      const auto slot = static_cast<std::uint8_t>(i % 4);
      if (step % 10 == 0) {  // renew the slot every 500 ms, with a map that claims children
        sybil.send(broadcaster, wire::Hello{wire::Role::viewer, true, slot, slot}, net.now());
        wire::Have have;
        have.tree = {slot, 1, 1, 0, 0, 8, 0xffff};
        have.epoch = wire::epoch_tag(epoch);
        if (next_seq > 0) sybil.send(broadcaster, have, net.now());
      }
      for (auto& [from, m] : sybil.received)
        if (const auto* h = std::get_if<wire::Hello>(&m)) {
          subscriptions += h->subscribe;
          const auto home = i % 2 ? h->substream : slot;
          const auto room = i % 2 ? std::uint16_t{0xffff} : static_cast<std::uint16_t>(1u << slot);
          sybil.send(from, bait_welcome(*h, home, room, epoch, next_seq), net.now());
        }
      sybil.received.clear();
    }
  };
  int step = 0;
  const auto run = [&](Time end) {
    while (net.now() + 50ms <= end) {
      play_sybils(step++);
      net.publish(broadcaster, make_chunk());
      net.run_until(net.now() + 50ms);
    }
  };
  run(2s);
  ASSERT_EQ(net.at(broadcaster).stats(net.now()).children, 6u) << "the Sybils should hold every slot";
  const auto viewers = add_viewers(net, 4);
  const auto joined = net.now();
  // A parent that never delivers gets no more time than a withholder (parent_silence_timeout), and the
  // viewer that reports it takes its slot at once, so each viewer is done with the Sybils it tries within
  // a second or so of meeting them.
  const auto joined_seq = next_seq;
  run(joined + 2s);
  // From here on, every viewer gets every chunk, and none moves to a Sybil however quick a place it offers:
  // a viewer moves only to a parent that has delivered it genuine chunks.
  const auto first = next_seq;
  subscriptions = 0;
  run(net.now() + 5s);
  EXPECT_EQ(subscriptions, 0u);
  const auto last = next_seq - 1;
  net.run_until(net.now() + 1s);
  for (const auto& v : viewers) {
    const auto got = seqs(net.delivered(v));
    std::size_t held = 0;
    for (auto seq = first; seq + 10 <= last; ++seq) held += got.count(seq);
    EXPECT_GE(held, (last - 10 - first) * 99 / 100) << v.to_string();
    // Every chunk from 1.5 s after joining on (one published every 50 ms): without the reporter taking the
    // slot it reported, and a first-hop parent judged from when it took us, the viewers went 2 s without.
    auto unbroken_from = last - 10;
    while (unbroken_from > joined_seq && got.count(unbroken_from - 1)) --unbroken_from;
    EXPECT_LE(unbroken_from - joined_seq, 30u) << v.to_string();
  }
}

// Rank on what you measured: a member that offers the quickest place in every tree it is asked about (one
// hop below the broadcaster, no delay) draws no viewer away from a parent that delivers. A viewer moves
// only to a peer that has delivered it genuine chunks lately.
TEST_F(SwarmTest, NoViewerMovesToAPeerThatOnlyClaimsAQuickPlace) {
  Net net(20ms);  // deep trees are slow enough here for a quick place to look worth a move
  auto root_config = config(wire::Role::broadcaster, 1);
  root_config.trees.max_children = 4;  // one slot per tree: most viewers sit two or three hops down
  net.add(broadcaster, root_config);
  const auto viewers = add_viewers(net, 8);
  stream(net, net.now() + 5s);
  auto& liar = net.add_agent(Endpoint::loopback(5000), key.public_key());
  std::size_t subscriptions = 0;
  for (int step = 0; step < 200; ++step) {
    if (step % 20 == 0) liar.send(broadcaster, wire::Hello{}, net.now());  // stays known: peer lists carry it
    for (auto& [from, m] : liar.received)
      if (const auto* h = std::get_if<wire::Hello>(&m); h && h->substream < 4) {
        subscriptions += h->subscribe;
        liar.send(
            from,
            bait_welcome(*h, h->substream, static_cast<std::uint16_t>(1u << h->substream), epoch, next_seq),
            net.now());
      } else if (h) {
        wire::Hello ask = *h;
        ask.substream = static_cast<std::uint8_t>(from.port % 4);
        liar.send(from,
                  bait_welcome(ask, ask.substream, static_cast<std::uint16_t>(1u << ask.substream), epoch,
                               next_seq),
                  net.now());
      }
    liar.received.clear();
    net.publish(broadcaster, make_chunk());
    net.run_until(net.now() + 50ms);
  }
  EXPECT_EQ(subscriptions, 0u);
}

// A path that corrupts 3 % of datagrams: the tags catch every one, nobody is blamed, and the viewer
// repairs what it lost.
TEST_F(SwarmTest, ACorruptingPathBlamesNobodyAndTheViewerKeepsPlaying) {
  real_crypto = true;  // the stand-in's tag covers only a datagram's head (and a forgery would be blamed)
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto viewers = add_viewers(net, 4);
  std::mt19937 rng(5);
  std::uint64_t corrupted = 0;
  net.on_datagram = [&](const Endpoint&, const Endpoint& to, std::span<const std::uint8_t> bytes) {
    if (to == viewers[0] && rng() % 100 < 3) {
      auto& b = const_cast<std::uint8_t&>(bytes[bytes.size() / 2]);
      b ^= 0x40;
      ++corrupted;
    }
    return true;
  };
  net.run_until(2s);
  stream(net, 12s);
  net.run_until(net.now() + 1s);
  const auto s = net.at(viewers[0]).stats(net.now());
  ASSERT_GT(corrupted, 10u);
  EXPECT_GE(s.session.bad_tags, corrupted * 9 / 10);
  EXPECT_EQ(s.forged_rejected, 0u);
  EXPECT_GE(seqs(net.delivered(viewers[0])).size(), next_seq * 95 / 100);
  EXPECT_TRUE(s.has_parent);
}

// Replays: a viewer's own datagrams to the broadcaster, sent again later, from its address and from
// another host's, change nothing.
TEST_F(SwarmTest, ReplayedDatagramsChangeNothing) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto viewers = add_viewers(net, 4);
  std::vector<std::vector<std::uint8_t>> captured;
  net.on_datagram = [&](const Endpoint& from, const Endpoint& to, std::span<const std::uint8_t> bytes) {
    if (from == viewers[0] && to == broadcaster) captured.emplace_back(bytes.begin(), bytes.end());
    return true;
  };
  net.run_until(2s);
  stream(net, 4s);
  net.on_datagram = nullptr;
  for (int round = 0; round < 3; ++round) {
    for (const auto& d : captured) {
      net.inject(viewers[0], broadcaster, d);
      net.inject(Endpoint::loopback(static_cast<std::uint16_t>(6000 + round)), broadcaster, d);
    }
    stream(net, net.now() + 2s);
  }
  net.run_until(net.now() + 1s);
  const auto b = net.at(broadcaster).stats(net.now());
  EXPECT_GT(b.session.replays, 0u);
  EXPECT_GT(b.session.unknown_connections, 0u);
  for (const auto& v : viewers) EXPECT_EQ(seqs(net.delivered(v)).size(), next_seq) << v.to_string();
}

// State poisoning: a map of chunks far past the stream's newest, or a hello claiming to be the
// broadcaster, moves nothing.
TEST_F(SwarmTest, ClaimsFarAheadOrOfTheBroadcastersRoleAreIgnored) {
  Net net;
  net.add(broadcaster, config(wire::Role::broadcaster, 1));
  const auto viewers = add_viewers(net, 2);
  auto& liar = net.add_agent(Endpoint::loopback(6666), key.public_key());
  liar.send(viewers[0], wire::Hello{wire::Role::broadcaster, false}, Time{0});
  net.run_until(2s);
  stream(net, 3s);
  wire::Have far;
  far.tree = {0, 0, 0, 0xffff, 0xffff, 0, 0};  // "depth 0": the broadcaster
  far.epoch = wire::epoch_tag(epoch);
  far.base_seq = wire::max_seq - 600;
  far.bits.assign(wire::max_have_bits, true);
  for (int i = 0; i < 20; ++i) {
    liar.send(viewers[0], far, net.now());
    stream(net, net.now() + 100ms);
  }
  net.run_until(net.now() + 1s);
  const auto s = net.at(viewers[0]).stats(net.now());
  EXPECT_GT(s.out_of_window, 0u);
  EXPECT_LT(s.requests_sent, 50u);  // no flood of requests for chunks that do not exist
  EXPECT_EQ(seqs(net.delivered(viewers[0])).size(), next_seq);
}

}  // namespace
}  // namespace p2plive
