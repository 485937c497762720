#include <gtest/gtest.h>

#include "p2plive/link.hpp"

namespace p2plive {
namespace {

bool shell_safe(const std::string& s) {
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || std::string_view("._~:/-%=,+").find(c) != std::string_view::npos))
      return false;
  return true;
}

TEST(Link, RoundTripsPeersAndTrackers) {
  Link link{SecretKey::generate().public_key(),
            {*Endpoint::parse("127.0.0.1:7000"), *Endpoint::parse("[::1]:7001"), *Endpoint::parse("10.1.2.3:65535")},
            {"http://127.0.0.1:6969/announce", "udp://tracker.example:80/a?b=c&d=e f"}};
  const auto text = link.to_string();
  EXPECT_EQ(text.rfind("p2plive:1:p2plpk1_", 0), 0u);
  EXPECT_TRUE(shell_safe(text)) << text;
  auto parsed = Link::parse(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->key, link.key);
  EXPECT_EQ(parsed->peers, link.peers);
  EXPECT_EQ(parsed->trackers, link.trackers);
}

TEST(Link, SkipsUnknownFieldsForForwardCompatibility) {
  Link link{SecretKey::generate().public_key(), {Endpoint::loopback(9)}, {}};
  auto parsed = Link::parse(link.to_string() + ",x=future");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->peers.size(), 1u);
}

TEST(Link, MalformedLinksGetTheirErrors) {
  const auto key = to_text(SecretKey::generate().public_key());
  const auto good = "p2plive:1:" + key;
  EXPECT_EQ(Link::parse("").error(), make_error_code(Errc::link_bad_prefix));
  EXPECT_EQ(Link::parse("https://example.com").error(), make_error_code(Errc::link_bad_prefix));
  EXPECT_EQ(Link::parse("p2plive:2:" + key).error(), make_error_code(Errc::link_bad_version));
  EXPECT_EQ(Link::parse("p2plive:" + key).error(), make_error_code(Errc::link_bad_version));
  EXPECT_EQ(Link::parse("p2plive:1:garbage").error(), make_error_code(Errc::key_bad_prefix));
  EXPECT_EQ(Link::parse(good.substr(0, good.size() - 1)).error(), make_error_code(Errc::key_bad_encoding));
  EXPECT_EQ(Link::parse(good + ",p=nonsense").error(), make_error_code(Errc::link_bad_endpoint));
  EXPECT_EQ(Link::parse(good + ",p=1.2.3.4:99999").error(), make_error_code(Errc::link_bad_endpoint));
  EXPECT_EQ(Link::parse(good + ",p=1.2.3.4:0").error(), make_error_code(Errc::link_bad_endpoint));
  EXPECT_EQ(Link::parse(good + ",p=").error(), make_error_code(Errc::link_bad_field));
  EXPECT_EQ(Link::parse(good + ",t=%G1").error(), make_error_code(Errc::link_bad_field));
  EXPECT_EQ(Link::parse(good + ",t=%4").error(), make_error_code(Errc::link_bad_field));
  EXPECT_EQ(Link::parse(good + ",=x").error(), make_error_code(Errc::link_bad_field));
  EXPECT_EQ(Link::parse(good + ",t=a b").error(), make_error_code(Errc::link_bad_field));
}

TEST(Endpoint, ParsesAndFormats) {
  EXPECT_EQ(Endpoint::parse("127.0.0.1:80")->to_string(), "127.0.0.1:80");
  EXPECT_EQ(Endpoint::parse("localhost:80")->to_string(), "127.0.0.1:80");
  EXPECT_EQ(Endpoint::parse("[::1]:80")->to_string(), "[::1]:80");
  EXPECT_EQ(Endpoint::parse("0.0.0.0:0")->port, 0);
  EXPECT_EQ(Endpoint::parse("1.2.3.4").error(), make_error_code(Errc::endpoint_bad_format));
  EXPECT_EQ(Endpoint::parse("1.2.3.4:x").error(), make_error_code(Errc::endpoint_bad_port));
  EXPECT_EQ(Endpoint::parse("1.2.3.4:70000").error(), make_error_code(Errc::endpoint_bad_port));
  EXPECT_EQ(Endpoint::parse("::1:80").error(), make_error_code(Errc::endpoint_bad_format));
  EXPECT_EQ(Endpoint::parse("example.com:80").error(), make_error_code(Errc::endpoint_bad_format));
  EXPECT_EQ(Endpoint::parse("[::1]80").error(), make_error_code(Errc::endpoint_bad_format));
}

}  // namespace
}  // namespace p2plive
