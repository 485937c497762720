// libFuzzer: a viewer's swarm state machine fed hostile messages from four peers that hold real sessions
// with it (the simulator's stand-in crypto, so that handshakes are cheap), with timer expiries between.
// Nothing may crash, and nothing unverified may come out as a chunk.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "protocol/swarm.hpp"

using namespace p2plive;

namespace {

constexpr std::uint16_t swarm_port = 9;

// Carries datagrams between the swarm and the peers until both sides are quiet.
void exchange(Swarm& swarm, std::vector<std::unique_ptr<session::SessionLayer>>& peers, Time now) {
  const auto swarm_at = Endpoint::loopback(swarm_port);
  for (int round = 0; round < 8; ++round) {
    bool moved = false;
    for (std::size_t p = 0; p < peers.size(); ++p)
      while (auto t = peers[p]->poll_transmit()) {
        swarm.handle_datagram(Endpoint::loopback(static_cast<std::uint16_t>(1 + p)), t->bytes, now);
        moved = true;
      }
    while (auto t = swarm.poll_transmit(now)) {
      if (t->to.port >= 1 && t->to.port <= peers.size()) (void)peers[t->to.port - 1u]->receive(swarm_at, t->bytes, now);
      moved = true;
    }
    if (!moved) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const PublicKey key = SecretKey::generate().public_key();
  const auto swarm_at = Endpoint::loopback(swarm_port);
  SwarmConfig config;
  config.stream_key = key;
  config.bootstrap = {Endpoint::loopback(1)};
  config.sending.upload_cap_bps = 1e6;
  config.crypto = session::cheap_crypto(1, false);
  // Small tables, so that a run is cheap; every bound they test is the same code at any size.
  config.repair.window_chunks = 64;
  config.membership.max_peers = 16;
  config.repair.max_partial_chunks = 16;
  config.sending.max_queued_datagrams = 512;
  config.session.prefix_buckets = 4;
  Swarm swarm(config);
  std::vector<std::unique_ptr<session::SessionLayer>> peers;
  for (int p = 0; p < 4; ++p) {
    peers.push_back(std::make_unique<session::SessionLayer>(session::SessionConfig{.stream_tag = wire::stream_tag(key), .prefix_buckets = 4},
                                                            session::cheap_crypto(100 + p, p == 0)));
    peers.back()->connect(swarm_at, 1, wire::encode(wire::Hello{}), Time{0});
  }
  Time now{0};
  exchange(swarm, peers, now);
  // Input: records of [source:1][type:1][length:1][body:length], each sealed in that peer's session.
  std::size_t i = 0;
  std::vector<std::uint8_t> datagram;
  while (i + 3 <= size) {
    auto& peer = *peers[data[i] % 4];
    const auto type = static_cast<std::uint8_t>(1 + data[i + 1] % 10);
    const std::size_t length = std::min<std::size_t>(data[i + 2], size - i - 3);
    if (peer.seal(swarm_at, type, std::span(data + i + 3, length), datagram))
      swarm.handle_datagram(Endpoint::loopback(static_cast<std::uint16_t>(1 + data[i] % 4)), datagram, now);
    i += 3 + length;
    now += Time{137'000};
    swarm.handle_timeout(now);
    exchange(swarm, peers, now);
    if (swarm.poll_event()) std::abort();  // no signature was ever valid, so no chunk may be delivered
  }
  return 0;
}
