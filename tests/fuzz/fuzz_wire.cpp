// libFuzzer: the datagram decoder. The first byte picks a message type, so that most inputs get past the
// header and exercise the bodies; every decoded message must re-encode to something that decodes again.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "protocol/wire.hpp"

using namespace p2plive;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const wire::StreamTag tag{1, 2, 3, 4};
  (void)wire::decode({data, size}, tag);  // raw bytes, header and all
  if (size == 0) return 0;
  std::vector<std::uint8_t> datagram = {'P', 'L', wire::version, static_cast<std::uint8_t>(data[0] % 10)};
  datagram.insert(datagram.end(), tag.begin(), tag.end());
  datagram.insert(datagram.end(), data + 1, data + size);
  const auto message = wire::decode(datagram, tag);
  if (!message || std::holds_alternative<wire::Fragment>(*message)) return 0;
  const auto again = wire::encode(tag, *message);
  if (!wire::decode(again, tag)) std::abort();  // what we accept, we can say back
  return 0;
}
