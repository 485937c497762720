// libFuzzer: the session layer's decoders (handshakes, framing, Accept) on raw bytes, then a responder's
// session layer fed datagrams from a few sources, with time passing. Nothing may crash, and nothing may
// come out of it as a message from a source that never completed a handshake.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <vector>

#include "protocol/session/session_layer.hpp"

using namespace p2plive;
using namespace p2plive::session;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const wire::StreamTag tag{1, 2, 3, 4};
  const std::span<const std::uint8_t> all(data, size);
  (void)decode_handshake(all, tag);
  (void)decode_framed(all);
  (void)decode_accept(all);
  if (const auto f = decode_framed(all); f && f->authenticated.size() + tag_size != size) std::abort();

  SessionLayer layer(SessionConfig{.stream_tag = tag, .prefix_buckets = 8}, cheap_crypto(7, false));
  Time now{0};
  // Records of [source:1][kind:1][length:1][bytes:length]: kind 0 sends the bytes as they are; kind 1
  // asks for a token first and answers the Retry with an Initial whose tail is the bytes.
  std::size_t i = 0;
  while (i + 3 <= size) {
    const auto source = Endpoint::loopback(static_cast<std::uint16_t>(1 + data[i] % 4));
    const bool join = data[i + 1] & 1;
    const std::size_t length = std::min<std::size_t>(data[i + 2], size - i - 3);
    const std::span<const std::uint8_t> bytes(data + i + 3, length);
    i += 3 + length;
    std::vector<std::uint8_t> datagram(bytes.begin(), bytes.end());
    if (join) {
      (void)layer.receive(source, encode_token_request(tag), now);
      const auto retry = layer.poll_transmit();
      if (!retry) continue;
      const auto r = decode_handshake(retry->bytes, tag);
      if (!r || !std::holds_alternative<Retry>(*r)) std::abort();  // what we send, we can read
      KxPublic key{};
      std::copy_n(bytes.begin(), std::min<std::size_t>(bytes.size(), key.size()), key.begin());
      datagram =
          encode_initial(tag, std::get<Retry>(*r).token, key, 99, bytes.empty() ? 0 : 1 + bytes[0] % 10,
                         bytes.size() > 32 ? bytes.subspan(32) : std::span<const std::uint8_t>{});
      append_tag(datagram, 0);
    }
    const auto in = layer.receive(source, datagram, now);
    if (in && !layer.established(source)) std::abort();
    now += Time{97'000};
    layer.handle_timeout(now);
    while (layer.poll_transmit()) {
    }
    while (layer.poll_event()) {
    }
  }
  return 0;
}
