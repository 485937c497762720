// PCP's MAP and ANNOUNCE as bytes (RFC 6887 7.1, 7.2, 11.1): the request layout a router parses, and
// responses decoded or refused. The exchange with a real router (miniupnpd) is in test_home_router.py.
#include "reachability/pcp_wire.hpp"

#include <gtest/gtest.h>

namespace p2plive::pcp {
namespace {

const Endpoint client = Endpoint::v4(0xc0a80102u, 7000);  // 192.168.1.2:7000

TEST(PcpWire, AMapRequestCarriesTheClientTheNonceAndThePorts) {
  Nonce nonce{};
  for (std::size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<std::uint8_t>(i + 1);
  const auto bytes = encode_map({client, 7001, 3600, nonce});
  ASSERT_EQ(bytes.size(), 60u);
  EXPECT_EQ(bytes[0], 2);  // version
  EXPECT_EQ(bytes[1], 1);  // a request (R = 0), MAP
  EXPECT_EQ(bytes[4] << 24 | bytes[5] << 16 | bytes[6] << 8 | bytes[7], 3600);
  const std::uint8_t mapped_client[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 2};
  EXPECT_TRUE(std::equal(bytes.begin() + 8, bytes.begin() + 24, mapped_client));
  EXPECT_TRUE(std::equal(nonce.begin(), nonce.end(), bytes.begin() + 24));
  EXPECT_EQ(bytes[36], 17);                     // UDP
  EXPECT_EQ(bytes[40] << 8 | bytes[41], 7000);  // internal port
  EXPECT_EQ(bytes[42] << 8 | bytes[43], 7001);  // suggested external port
  const std::uint8_t any_v4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0};
  EXPECT_TRUE(std::equal(bytes.begin() + 44, bytes.end(), any_v4));
  EXPECT_EQ(encode_announce(client).size(), 24u);
}

std::vector<std::uint8_t> map_answer(const Nonce& nonce, std::uint8_t result) {
  auto bytes = encode_map({client, 0, 0, nonce});
  bytes[1] = 0x80 | 1;  // R = 1: a response
  bytes[3] = result;
  bytes[4] = 0, bytes[5] = 0, bytes[6] = 0x0e, bytes[7] = 0x10;  // lifetime 3600
  bytes[24 + 18] = 0x1b, bytes[24 + 19] = 0x59;                  // assigned external port 7001
  const std::uint8_t external[4] = {11, 77, 0, 1};
  std::copy(external, external + 4, bytes.begin() + 24 + 32);
  return bytes;
}

TEST(PcpWire, AMapResponseGivesTheAssignedAddressPortAndLifetime) {
  const Nonce nonce{9, 8, 7};
  const auto response = decode_response(map_answer(nonce, 0));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->opcode, opcode_map);
  EXPECT_EQ(response->result, 0);
  EXPECT_EQ(response->lifetime_s, 3600u);
  EXPECT_EQ(response->nonce, nonce);
  EXPECT_EQ(response->internal_port, 7000);
  EXPECT_EQ(response->external, Endpoint::v4(0x0b4d0001u, 7001));
  EXPECT_EQ(decode_response(map_answer(nonce, result_cannot_provide_external))->result, 11);
  EXPECT_EQ(result_name(11), "CANNOT_PROVIDE_EXTERNAL");
  EXPECT_EQ(result_name(200), "result 200");
}

TEST(PcpWire, RequestsNatPmpAnswersAndShortDatagramsAreNoResponse) {
  EXPECT_FALSE(decode_response(encode_map({client, 0, 0, {}})));                // R = 0: a request
  const std::uint8_t nat_pmp_unsupported[8] = {0, 0x80 | 1, 0, 1, 0, 0, 0, 0};  // version 0
  EXPECT_FALSE(decode_response(nat_pmp_unsupported));
  auto truncated = map_answer({}, 0);
  truncated.resize(40);  // a MAP header without its body
  EXPECT_FALSE(decode_response(truncated));
  EXPECT_FALSE(decode_response({}));
}

}  // namespace
}  // namespace p2plive::pcp
