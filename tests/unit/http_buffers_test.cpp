// The viewer's HTTP buffers: what a new /stream.ts client gets first, and the HLS window.
#include <gtest/gtest.h>

#include "http/hls_window.hpp"
#include "http/http_connection.hpp"
#include "http/live_buffer.hpp"

namespace p2plive::http {
namespace {

SharedBytes bytes(std::size_t size, std::uint8_t fill = 0) {
  return std::make_shared<const std::vector<std::uint8_t>>(size, fill);
}

TEST(JoinBuffer, EmptyUntilTheFirstJoinPoint) {
  JoinBuffer buffer;
  buffer.push(bytes(188), false);
  EXPECT_TRUE(buffer.since_join_point().empty());
  buffer.push(bytes(188, 1), true);
  buffer.push(bytes(188, 2), false);
  ASSERT_EQ(buffer.since_join_point().size(), 2u);
  EXPECT_EQ(buffer.since_join_point()[0]->at(0), 1);
}

TEST(JoinBuffer, KeepsOnlyTheLatestJoinPointOn) {
  JoinBuffer buffer;
  buffer.push(bytes(188, 1), true);
  buffer.push(bytes(188, 2), false);
  buffer.push(bytes(188, 3), true);
  ASSERT_EQ(buffer.since_join_point().size(), 1u);
  EXPECT_EQ(buffer.since_join_point()[0]->at(0), 3);
}

TEST(JoinBuffer, DropsARunWithoutKeyframesPastItsLimit) {
  JoinBuffer buffer(1000);
  buffer.push(bytes(600), true);
  buffer.push(bytes(600), false);
  EXPECT_TRUE(buffer.since_join_point().empty());
  buffer.push(bytes(100), false);  // still waiting for a join point
  EXPECT_TRUE(buffer.since_join_point().empty());
  buffer.push(bytes(100), true);
  EXPECT_EQ(buffer.bytes(), 100u);
}

TEST(HlsWindow, NoPlaylistUntilASegmentIsComplete) {
  HlsWindow hls;
  hls.push(bytes(188), true, 1'000'000);
  hls.push(bytes(188), false, 1'500'000);
  EXPECT_FALSE(hls.playlist());
  hls.push(bytes(188), true, 2'000'000);
  const auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  EXPECT_NE(playlist->find("#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1.000,\nseg/0.ts\n"), std::string::npos) << *playlist;
  ASSERT_NE(hls.segment(0), nullptr);
  EXPECT_EQ(hls.segment(0)->size(), 2u);
  EXPECT_EQ(hls.segment(1), nullptr);  // still open
}

TEST(HlsWindow, KeepsABoundedWindow) {
  HlsWindow hls(HlsConfig{.max_segments = 3});
  for (std::uint64_t i = 0; i < 10; ++i) hls.push(bytes(188), true, i * 2'000'000);
  const auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  EXPECT_NE(playlist->find("#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:6\n"), std::string::npos) << *playlist;
  EXPECT_EQ(hls.segment(5), nullptr);
  EXPECT_NE(hls.segment(8), nullptr);
}

TEST(HlsWindow, SkipsARunWithoutKeyframesAndMarksTheBreak) {
  HlsWindow hls(HlsConfig{.max_segments = 6, .max_segment_bytes = 1000});
  hls.push(bytes(100), true, 0);
  hls.push(bytes(100), true, 1'000'000);     // segment 0 done
  hls.push(bytes(2000), false, 1'500'000);   // segment 1 overflows and is dropped
  hls.push(bytes(100), true, 3'000'000);     // segment 2 starts
  hls.push(bytes(100), true, 4'000'000);
  const auto playlist = hls.playlist();
  ASSERT_TRUE(playlist);
  EXPECT_EQ(hls.segment(1), nullptr);
  EXPECT_NE(playlist->find("#EXT-X-DISCONTINUITY\n#EXTINF:1.000,\nseg/2.ts"), std::string::npos) << *playlist;
}

TEST(RequestLine, AcceptsGetAndHeadOnly) {
  auto r = parse_request_line("GET /stream.ts?x=1 HTTP/1.1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path, "/stream.ts");
  EXPECT_TRUE(parse_request_line("HEAD / HTTP/1.0"));
  EXPECT_FALSE(parse_request_line("POST / HTTP/1.1"));
  EXPECT_FALSE(parse_request_line("GET / SPDY/3"));
  EXPECT_FALSE(parse_request_line("GET nothing HTTP/1.1"));
  EXPECT_FALSE(parse_request_line("garbage"));
  EXPECT_FALSE(parse_request_line(""));
}

}  // namespace
}  // namespace p2plive::http
