// libFuzzer: what a gateway answers on port 5351 (PCP, RFC 6887). Anyone on the LAN can send it; it must be
// refused or decoded into fields that fit, and a decoded MAP answer must describe the mapping it names
// well enough to ask about it again.
#include <cstdint>
#include <cstdlib>

#include "reachability/pcp_wire.hpp"

using namespace p2plive;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto response = pcp::decode_response({data, size});
  if (!response) return 0;
  if (response->opcode > 0x7f) std::abort();
  (void)pcp::result_name(response->result);
  if (response->opcode == pcp::opcode_map) {
    Endpoint client = response->external;
    client.port = response->internal_port;
    const auto again =
        pcp::encode_map({client, response->external.port, response->lifetime_s, response->nonce});
    if (again.size() != 60 || pcp::decode_response(again)) std::abort();  // a request is never an answer
  }
  return 0;
}
