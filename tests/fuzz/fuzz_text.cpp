// libFuzzer: everything a user types or pastes: links, secret and viewer keys, HOST:PORT endpoints.
// A parsed link must survive a round trip through its own text.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "p2plive/endpoint.hpp"
#include "p2plive/key.hpp"
#include "p2plive/link.hpp"

using namespace p2plive;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)SecretKey::parse(text);
  (void)parse_public_key(text);
  (void)Endpoint::parse(text);
  if (auto link = Link::parse(text)) {
    auto again = Link::parse(link->to_string());
    if (!again || again->key != link->key || again->peers != link->peers || again->trackers != link->trackers)
      std::abort();
  }
  return 0;
}
