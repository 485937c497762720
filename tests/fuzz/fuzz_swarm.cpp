// libFuzzer: a viewer's swarm state machine fed hostile datagrams from a few source addresses, with timer
// expiries in between. Nothing may crash, and nothing unverified may come out as a chunk.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "protocol/swarm.hpp"

using namespace p2plive;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const PublicKey key = SecretKey::generate().public_key();
  SwarmConfig config;
  config.stream_key = key;
  config.bootstrap = {Endpoint::loopback(1)};
  config.upload_cap_bps = 1e6;
  Swarm swarm(config);
  const auto tag = wire::stream_tag(key);
  Time now{0};
  // Input: records of [source:1][type:1][length:1][body:length].
  std::size_t i = 0;
  while (i + 3 <= size) {
    const auto source = Endpoint::loopback(static_cast<std::uint16_t>(1 + data[i] % 4));
    std::vector<std::uint8_t> datagram = {'P', 'L', wire::version, static_cast<std::uint8_t>(data[i + 1] % 10)};
    datagram.insert(datagram.end(), tag.begin(), tag.end());
    const std::size_t length = std::min<std::size_t>(data[i + 2], size - i - 3);
    datagram.insert(datagram.end(), data + i + 3, data + i + 3 + length);
    i += 3 + length;
    swarm.handle_datagram(source, datagram, now);
    now += Time{137'000};
    swarm.handle_timeout(now);
    while (swarm.poll_transmit(now)) {
    }
    if (swarm.poll_event()) std::abort();  // no signature was ever valid, so no chunk may be delivered
  }
  return 0;
}
