// The DHT's stream record (BEP 44 value) and what BEP 44 signs.
#include <gtest/gtest.h>

#include "dht/mainline_dht.hpp"

namespace p2plive {
namespace {

TEST(DhtRecord, RoundTrips) {
  StreamRecord r;
  r.endpoints = {Endpoint::loopback(7000), *Endpoint::parse("[2001:db8::1]:9000")};
  r.epoch = 0xfedcba9876543210ull;
  const auto decoded = decode_record(encode_record(r));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->endpoints, r.endpoints);
  EXPECT_EQ(decoded->epoch, r.epoch);
}

TEST(DhtRecord, WhatIsNotOursIsRejectedAndBadEndpointsSkipped) {
  EXPECT_FALSE(decode_record(""));
  EXPECT_FALSE(decode_record("garbage"));
  EXPECT_FALSE(decode_record("i42e"));
  EXPECT_FALSE(decode_record("d1:ei1e1:pl0:e1:vi2ee")) << "another version";
  const auto r = decode_record("d1:e2:ff1:pl5:nope!14:127.0.0.1:7000e1:vi1ee");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->epoch, 0xffu);
  ASSERT_EQ(r->endpoints.size(), 1u);
  EXPECT_EQ(r->endpoints[0], Endpoint::loopback(7000));
}

// BEP 44's own example of the buffer a mutable item's signature covers, salt "foobar".
TEST(DhtRecord, SignsWhatBep44Says) {
  EXPECT_EQ(signed_part("foobar", 1, "12:Hello World!"), "4:salt6:foobar3:seqi1e1:v12:Hello World!");
  EXPECT_EQ(signed_part("", 1, "12:Hello World!"), "3:seqi1e1:v12:Hello World!");
}

}  // namespace
}  // namespace p2plive
