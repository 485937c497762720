// libFuzzer: the message decoder. The first byte picks a message type, the rest is its body; every decoded
// message must re-encode to something that decodes again.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "protocol/wire.hpp"

using namespace p2plive;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto type = static_cast<std::uint8_t>(data[0] % 11);
  const auto message = wire::decode(type, {data + 1, size - 1});
  if (!message) return 0;
  if (wire::type_of(*message) != type) std::abort();
  if (std::holds_alternative<wire::Fragment>(*message)) return 0;
  const auto again = wire::encode(*message);
  if (!wire::decode(type, again)) std::abort();  // what we accept, we can say back
  return 0;
}
