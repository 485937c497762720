// Track titles from the broadcaster's muxer to what a viewer reads: ID3 tags, timed ID3 in MPEG-TS, and
// whatever broken tags and streams the reader must survive.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "media/id3.hpp"
#include "media/ts_muxer.hpp"
#include "media/ts_titles.hpp"

namespace p2plive {
namespace {

// AAC-LC, 48 kHz, stereo: what OBS's ffmpeg_aac hands over. The frames' bytes are not decoded by the muxer.
StreamInfo aac() {
  StreamInfo info;
  info.kind = MediaKind::audio;
  info.codec = Codec::aac;
  info.extradata = {0x11, 0x90};
  info.timebase_den = 48000;
  info.sample_rate = 48000;
  info.channels = 2;
  info.frame_size = 1024;
  return info;
}

EncodedPacket frame(std::int64_t n) {
  EncodedPacket p;
  p.data.assign(300, static_cast<std::uint8_t>(n));
  p.pts = p.dts = n * 1024;
  p.keyframe = true;
  return p;
}

TEST(Id3, ATitleTagReadsBackAsItsCleanedTitle) {
  EXPECT_EQ(id3_title(id3_title_tag("DJ Alpha – First Track")), "DJ Alpha – First Track");
  EXPECT_EQ(clean_title("  Artist - Title \r\nsecond line"), "Artist - Title");
  EXPECT_EQ(clean_title("a\tb\x01"
                        "c\xff"
                        "d"),
            "a bcd")
      << "tabs become spaces; controls and broken UTF-8 go";
  const std::string long_title(300, 'x');
  EXPECT_EQ(clean_title(long_title).size(), max_title_bytes);
  std::string accents;
  for (int i = 0; i < 200; ++i) accents += "é";  // two bytes each: cut at a character, never inside one
  EXPECT_EQ(clean_title(accents).size(), max_title_bytes - 1);
  EXPECT_EQ(id3_title(id3_title_tag("")), "");
}

TEST(Id3, OtherEncodingsAndVersionsAreRead) {
  // ID3v2.3 (plain frame sizes), Latin-1: "Café".
  std::vector<std::uint8_t> v3{'I', 'D', '3', 3, 0, 0, 0, 0, 0,   15,  'T', 'I', 'T',
                               '2', 0,   0,   0, 5, 0, 0, 0, 'C', 'a', 'f', 0xe9};
  EXPECT_EQ(id3_title(v3), "Café");
  // UTF-16 with a byte order mark (little-endian), after another frame.
  std::vector<std::uint8_t> v4{'I', 'D', '3', 4, 0, 0, 0, 0,    0,    29,  'T', 'P', 'E',
                               '1', 0,   0,   0, 2, 0, 0, 3,    'A',  'T', 'I', 'T', '2',
                               0,   0,   0,   7, 0, 0, 1, 0xff, 0xfe, 'H', 0,   'i', 0};
  EXPECT_EQ(id3_title(v4), "Hi");
}

TEST(Id3, BrokenTagsAreRefusedWithoutReadingPastThem) {
  auto tag = id3_title_tag("Title");
  EXPECT_FALSE(id3_title(std::span(tag).first(tag.size() - 1))) << "truncated";
  auto bad = tag;
  bad[9] = 0x7f;  // the tag claims more than there is
  EXPECT_FALSE(id3_title(bad));
  bad = tag;
  bad[17] = 0x7f;  // so does the frame
  EXPECT_FALSE(id3_title(bad));
  bad = tag;
  bad[6] = 0x80;  // not syncsafe
  EXPECT_FALSE(id3_title(bad));
  bad = tag;
  bad[3] = 2;  // ID3v2.2 has other frame ids
  EXPECT_FALSE(id3_title(bad));
  bad = tag;
  bad[20] = 9;  // no such text encoding
  EXPECT_FALSE(id3_title(bad));
  EXPECT_FALSE(id3_title({}));
}

// The muxer's stream as a viewer reads it: the title set before a packet arrives with that packet's time,
// and again at every join point (about every second without video), so a late joiner learns it too.
TEST(TimedTitles, TitlesTravelInTheStreamStampedWithTheirPacketsTime) {
  std::vector<std::uint8_t> ts;
  std::vector<std::size_t> joins;
  auto muxer = TsMuxer::create(
      {aac()}, [&](std::span<const std::uint8_t> b) { ts.insert(ts.end(), b.begin(), b.end()); },
      [&] { joins.push_back(ts.size()); }, true);
  ASSERT_TRUE(muxer);
  auto& m = **muxer;
  m.set_title("First");
  for (int n = 0; n < 100; ++n) {  // 2.1 s of audio
    if (n == 60) m.set_title("Second");
    ASSERT_FALSE(m.write(frame(n)));
  }
  m.finish();

  TsTitleReader reader;
  std::vector<TsTitleReader::Title> seen;
  // Fed in odd pieces: packets split across feeds are put together.
  for (std::size_t at = 0; at < ts.size(); at += 1000) {
    reader.feed(std::span(ts).subspan(at, std::min<std::size_t>(1000, ts.size() - at)));
    while (auto t = reader.poll_title()) seen.push_back(*t);
  }
  ASSERT_EQ(reader.has_video(), false);
  ASSERT_GE(joins.size(), 3u);
  std::vector<std::string> texts;
  for (const auto& t : seen) texts.push_back(t.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"First", "First", "Second", "Second"}))
      << "at the start, at the join point 1 s in, when it changed, and at the join point 2 s in";
  ASSERT_EQ(seen.size(), 4u);
  const auto at_frame = [](int n) { return static_cast<std::int64_t>(n) * 1024 * 1'000'000 / 48000; };
  // mpegts shifts every stamp by the same offset (its muxing delay): compare differences.
  const auto offset = seen[0].pts_us - at_frame(0);
  EXPECT_NEAR(seen[2].pts_us - offset, at_frame(60), 20) << "stamped with the packet it went out with";
  EXPECT_LT(seen[1].pts_us, seen[2].pts_us);

  // A viewer who joins at the second join point hears of the title at once.
  TsTitleReader late;
  late.feed(std::span(ts).subspan(joins[1]));
  const auto first = late.poll_title();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->text, "First");
}

TEST(TimedTitles, WithoutTitlesTheProgramHasNoMetadataStream) {
  std::vector<std::uint8_t> ts;
  auto muxer = TsMuxer::create(
      {aac()}, [&](std::span<const std::uint8_t> b) { ts.insert(ts.end(), b.begin(), b.end()); }, [] {});
  ASSERT_TRUE(muxer);
  (*muxer)->set_title("ignored");
  for (int n = 0; n < 10; ++n) ASSERT_FALSE((*muxer)->write(frame(n)));
  (*muxer)->finish();
  TsTitleReader reader;
  reader.feed(ts);
  EXPECT_FALSE(reader.poll_title());
  EXPECT_EQ(reader.has_video(), false);
}

TEST(TimedTitles, GarbageAndCorruptedStreamsNeverCrashTheReader) {
  std::vector<std::uint8_t> ts;
  auto muxer = TsMuxer::create(
      {aac()}, [&](std::span<const std::uint8_t> b) { ts.insert(ts.end(), b.begin(), b.end()); }, [] {},
      true);
  ASSERT_TRUE(muxer);
  (*muxer)->set_title("Title");
  for (int n = 0; n < 60; ++n) ASSERT_FALSE((*muxer)->write(frame(n)));
  (*muxer)->finish();
  std::uint64_t state = 12345;
  for (int round = 0; round < 200; ++round) {
    auto copy = ts;
    for (int k = 0; k < 40; ++k) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      copy[(state >> 33) % copy.size()] = static_cast<std::uint8_t>(state >> 17);
    }
    TsTitleReader reader;
    reader.feed(copy);
    while (auto t = reader.poll_title()) EXPECT_LE(t->text.size(), max_title_bytes);
  }
  std::vector<std::uint8_t> garbage(188 * 50);
  for (auto& b : garbage) b = static_cast<std::uint8_t>((state = state * 6364136223846793005ull + 1) >> 40);
  for (std::size_t i = 0; i < garbage.size(); i += 188) garbage[i] = 0x47;
  TsTitleReader reader;
  reader.feed(garbage);
  while (reader.poll_title()) {
  }
}

}  // namespace
}  // namespace p2plive
