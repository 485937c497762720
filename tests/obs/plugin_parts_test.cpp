// The plugin's parts that need no running OBS: registration sizes across OBS versions, the key file, the
// viewer link, encoder settings and the dock's stats. Links libobs for obs_data and its version macros.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <obs-module.h>

#include "bootstrap.hpp"
#include "dock-stats.hpp"
#include "encoder-settings.hpp"
#include "key-store.hpp"
#include "now-playing.hpp"
#include "obs-compat.hpp"

// The module defines this through OBS_MODULE_USE_DEFAULT_LOCALE; here every text is its own key.
const char* obs_module_text(const char* lookup) { return lookup; }

namespace p2plive::plugin {
namespace {
namespace fs = std::filesystem;

// ---- registration sizes --------------------------------------------------------------------------------

TEST(RegistrationSize, Obs29_0UsesTheStructItWasBuiltWith) {
  EXPECT_EQ(service_info_size(MAKE_SEMANTIC_VERSION(29, 0, 0)), sizeof(obs_service_info));
  EXPECT_EQ(service_info_size(MAKE_SEMANTIC_VERSION(29, 0, 2)), sizeof(obs_service_info));
  EXPECT_EQ(output_info_size(MAKE_SEMANTIC_VERSION(29, 0, 2)), sizeof(obs_output_info));
  EXPECT_EQ(output_info_size(MAKE_SEMANTIC_VERSION(28, 1, 2)), sizeof(obs_output_info));
}

TEST(RegistrationSize, Obs29_1AndLaterGetTheLongerLayout) {
  for (const std::uint32_t version : {MAKE_SEMANTIC_VERSION(29, 1, 0), MAKE_SEMANTIC_VERSION(29, 1, 3),
                                      MAKE_SEMANTIC_VERSION(30, 0, 0), MAKE_SEMANTIC_VERSION(31, 1, 2)}) {
    EXPECT_EQ(service_info_size(version), sizeof(ServiceInfo291)) << version;
    EXPECT_EQ(output_info_size(version), sizeof(OutputInfo291)) << version;
  }
}

TEST(RegistrationSize, The29_1LayoutAddsFourServiceCallbacksAndOneOutputString) {
  EXPECT_EQ(sizeof(ServiceInfo291), sizeof(obs_service_info) + 4 * sizeof(void*));
  EXPECT_EQ(sizeof(OutputInfo291), sizeof(obs_output_info) + sizeof(const char*));
}

TEST(RegistrationSize, TheRunningLibobsIsOneOfThem) {
  const std::size_t size = service_info_size(obs_get_version());
  EXPECT_TRUE(size == sizeof(obs_service_info) || size == sizeof(ServiceInfo291));
}

// ---- key file ------------------------------------------------------------------------------------------

class KeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() / ("p2plive-keystore-" + std::to_string(::getpid()) + "-" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(folder_);
  }
  void TearDown() override { fs::remove_all(folder_); }
  fs::path file() const { return folder_ / "p2p-live" / key_file_name; }
  static unsigned mode_of(const fs::path& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st.st_mode & 0777u;
  }
  static std::string read(const fs::path& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  fs::path folder_;
};

TEST_F(KeyStoreTest, FirstUseMakesAKeyWithMode0600AndLaterUsesKeepIt) {
  const KeyStore store(file());
  auto first = store.load_or_create();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(mode_of(file()), 0600u);
  EXPECT_EQ(mode_of(file().parent_path()), 0700u);
  EXPECT_EQ(read(file()), first->text() + "\n");
  auto again = store.load_or_create();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->public_key(), first->public_key());
}

TEST_F(KeyStoreTest, AKeyFileOpenToOthersIsNarrowedTo0600) {
  const KeyStore store(file());
  ASSERT_TRUE(store.load_or_create().ok());
  fs::permissions(file(), fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                              fs::perms::others_read);
  ASSERT_TRUE(store.load_or_create().ok());
  EXPECT_EQ(mode_of(file()), 0600u);
}

TEST_F(KeyStoreTest, ADamagedFileIsReportedAndNeverOverwritten) {
  fs::create_directories(file().parent_path());
  std::ofstream(file()) << "p2plsk1_not-a-key\n";
  const auto loaded = KeyStore(file()).load_or_create();
  EXPECT_FALSE(loaded.ok());
  EXPECT_EQ(read(file()), "p2plsk1_not-a-key\n");
}

TEST_F(KeyStoreTest, RegenerateReplacesTheKeyAndKeeps0600) {
  const KeyStore store(file());
  auto first = store.load_or_create();
  auto second = store.regenerate();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_FALSE(second->public_key() == first->public_key());
  EXPECT_EQ(mode_of(file()), 0600u);
  EXPECT_EQ(store.load_or_create()->public_key(), second->public_key());
  EXPECT_FALSE(fs::exists(fs::path(file()) += ".new"));
}

TEST_F(KeyStoreTest, ImportTakesAValidKeyAndRefusesAnythingElse) {
  const KeyStore store(file());
  const SecretKey theirs = SecretKey::generate();
  auto imported = store.import_text("  " + theirs.text() + "\n");
  ASSERT_TRUE(imported.ok());
  EXPECT_EQ(store.load_or_create()->public_key(), theirs.public_key());
  EXPECT_EQ(mode_of(file()), 0600u);

  EXPECT_FALSE(store.import_text("hello").ok());
  EXPECT_EQ(store.load_or_create()->public_key(), theirs.public_key());  // unchanged by a refused import
}

// ---- viewer link ---------------------------------------------------------------------------------------

TEST(ViewerLink, WithoutBootstrapTheLinkNamesThisNode) {
  const SecretKey key = SecretKey::generate();
  const auto any = make_viewer_link(key.public_key(), parse_server(""), *Endpoint::parse("0.0.0.0:7000"));
  EXPECT_TRUE(any.local_only);
  EXPECT_NE(any.text.find("p=127.0.0.1:7000"), std::string::npos) << any.text;
  const auto given = make_viewer_link(key.public_key(), parse_server(""), *Endpoint::parse("127.0.0.1:7001"));
  EXPECT_FALSE(given.local_only);
}

TEST(ViewerLink, TheRoutersExternalAddressIsUsedUnlessTheStreamerGavePeers) {
  const SecretKey key = SecretKey::generate();
  const auto external = Endpoint::parse("11.77.0.1:7000");
  const auto mapped =
      make_viewer_link(key.public_key(), parse_server(""), *Endpoint::parse("0.0.0.0:7000"), *external);
  EXPECT_FALSE(mapped.local_only);
  EXPECT_NE(mapped.text.find("p=11.77.0.1:7000"), std::string::npos) << mapped.text;
  EXPECT_EQ(mapped.text.find("127.0.0.1"), std::string::npos) << mapped.text;
  // With trackers only, the external address joins them: viewers reach the broadcaster either way.
  const auto with_tracker =
      make_viewer_link(key.public_key(), parse_server("udp://tracker.example:6969/announce"),
                       *Endpoint::parse("0.0.0.0:7000"), *external);
  EXPECT_NE(with_tracker.text.find("p=11.77.0.1:7000"), std::string::npos) << with_tracker.text;
  const auto own = make_viewer_link(key.public_key(), parse_server("203.0.113.7:7000"),
                                    *Endpoint::parse("0.0.0.0:7000"), *external);
  EXPECT_NE(own.text.find("p=203.0.113.7:7000"), std::string::npos) << own.text;
  EXPECT_EQ(own.text.find("11.77.0.1"), std::string::npos) << own.text;
}

TEST(ViewerLink, DhtEntriesAreBootstrapNodesNotTrackersOrPeers) {
  const Bootstrap bootstrap = parse_server("dht://127.0.0.1:6881 udp://tracker.example:6969/announce");
  ASSERT_TRUE(bootstrap.error.empty()) << bootstrap.error;
  EXPECT_EQ(bootstrap.dht_nodes, std::vector<std::string>{"127.0.0.1:6881"});
  EXPECT_EQ(bootstrap.trackers.size(), 1u);
  EXPECT_TRUE(bootstrap.peers.empty());
  EXPECT_FALSE(parse_server("dht://nowhere").error.empty());
}

TEST(ViewerLink, ServerEntriesBecomePeersAndTrackers) {
  const Bootstrap bootstrap = parse_server(" 203.0.113.7:7000\n http://tracker.example/announce\t");
  ASSERT_TRUE(bootstrap.error.empty());
  EXPECT_EQ(bootstrap.peers.size(), 1u);
  EXPECT_EQ(bootstrap.trackers.size(), 1u);
  const SecretKey key = SecretKey::generate();
  const auto link = make_viewer_link(key.public_key(), bootstrap, *Endpoint::parse("0.0.0.0:7000"));
  EXPECT_FALSE(link.local_only);
  EXPECT_NE(link.text.find("p=203.0.113.7:7000"), std::string::npos) << link.text;
  EXPECT_EQ(link.text.find_first_of(" \t\n"), std::string::npos);
}

TEST(ViewerLink, ABadServerEntryIsNamed) {
  const Bootstrap bootstrap = parse_server("203.0.113.7:7000 nonsense");
  EXPECT_FALSE(bootstrap.error.empty());
}

// ---- encoder settings ----------------------------------------------------------------------------------

TEST(EncoderSettings, AutoKeyframesAndNoTuneAreFixedAndReported) {
  obs_data_t* video = obs_data_create();
  obs_data_set_int(video, "keyint_sec", 0);
  const auto changes = apply_live_video_settings(video);
  EXPECT_EQ(obs_data_get_int(video, "keyint_sec"), default_keyint_sec);
  EXPECT_TRUE(obs_data_get_bool(video, "repeat_headers"));
  EXPECT_STREQ(obs_data_get_string(video, "x264opts"), "tune=zerolatency");
  EXPECT_EQ(changes.size(), 3u);
  EXPECT_TRUE(apply_live_video_settings(video).empty()) << "a second pass changes nothing";
  obs_data_release(video);
}

TEST(EncoderSettings, GoodSettingsAndTheUsersOwnTuneAreLeftAlone) {
  obs_data_t* video = obs_data_create();
  obs_data_set_int(video, "keyint_sec", 2);
  obs_data_set_bool(video, "repeat_headers", true);
  obs_data_set_string(video, "x264opts", "bframes=0 tune=film");
  EXPECT_TRUE(apply_live_video_settings(video).empty());
  EXPECT_STREQ(obs_data_get_string(video, "x264opts"), "bframes=0 tune=film");
  obs_data_set_int(video, "keyint_sec", 5);
  EXPECT_EQ(apply_live_video_settings(video).size(), 1u);
  EXPECT_EQ(obs_data_get_int(video, "keyint_sec"), default_keyint_sec);
  obs_data_release(video);
}

TEST(EncoderSettings, NoticesAreBoundedAndTakenOnce) {
  take_notices();
  for (int i = 0; i < 40; ++i) post_notices({"notice " + std::to_string(i)});
  const auto taken = take_notices();
  ASSERT_FALSE(taken.empty());
  EXPECT_LE(taken.size(), 16u);
  EXPECT_EQ(taken.back(), "notice 39");
  EXPECT_TRUE(take_notices().empty());
}

// ---- dock stats ----------------------------------------------------------------------------------------

StatsSample sample(double time_s, std::uint64_t peers, std::uint64_t uploaded, std::uint64_t dropped) {
  StatsSample s;
  s.time_s = time_s;
  s.peers = peers;
  s.uploaded_bytes = uploaded;
  s.packets_dropped = dropped;
  return s;
}

TEST(DockStats, UploadRateComesFromByteCountsOverTime) {
  StatsTracker tracker;
  EXPECT_EQ(tracker.update(sample(0.0, 2, 0, 0), false).upload_kbps, 0);
  const DockStats stats = tracker.update(sample(1.0, 2, 125'000, 0), false);  // 1 Mbit in 1 s
  EXPECT_DOUBLE_EQ(stats.upload_kbps, 1000);
  EXPECT_EQ(stats.direct_peers, 2u);
  EXPECT_EQ(stats.swarm_at_least, 2u) << "no census yet: direct peers are the floor";
  EXPECT_EQ(stats.health, Health::good);
}

TEST(DockStats, ListenersComeFromTheCensusWithTheirPeak) {
  StatsTracker tracker;
  auto s = sample(0.0, 3, 0, 0);
  s.listeners = 1234;
  s.listeners_peak = 1500;
  const DockStats stats = tracker.update(s, false);
  EXPECT_EQ(stats.swarm_at_least, 1234u);
  EXPECT_EQ(stats.listeners_peak, 1500u);
  EXPECT_EQ(stats.direct_peers, 3u);
}

TEST(DockStats, HealthSaysWhatLimitsTheStream) {
  StatsTracker tracker;
  EXPECT_EQ(tracker.update(sample(0.0, 0, 0, 0), false).health, Health::waiting_for_viewers);
  EXPECT_EQ(tracker.update(sample(1.0, 3, 1000, 0), true).health, Health::slow_joins);
  EXPECT_EQ(tracker.update(sample(2.0, 3, 2000, 5), false).health, Health::dropping);
  EXPECT_EQ(tracker.update(sample(8.0, 3, 3000, 5), false).health, Health::dropping)
      << "a drop stays visible";
  EXPECT_EQ(tracker.update(sample(13.0, 3, 4000, 5), false).health, Health::good);
  EXPECT_EQ(tracker.offline().health, Health::offline);
}

// ---- track titles from a text source ------------------------------------------------------------------

TEST(NowPlaying, ATextSourceGivesTheFirstLineOfItsTextOrOfItsFile) {
  obs_data_t* settings = obs_data_create();
  obs_data_set_string(settings, "text", "Artist - Title\nsecond line");
  EXPECT_EQ(title_of_text_source(settings), "Artist - Title");

  const fs::path file = fs::temp_directory_path() / "p2plive-now-playing-test.txt";
  std::ofstream(file) << "From the file\r\nmore\n";
  obs_data_set_bool(settings, "from_file", true);  // FreeType 2
  obs_data_set_string(settings, "text_file", file.c_str());
  EXPECT_EQ(title_of_text_source(settings), "From the file");
  obs_data_set_string(settings, "text_file", (file.string() + ".missing").c_str());
  EXPECT_EQ(title_of_text_source(settings), "");  // a file that is gone shows no title, never an old one

  obs_data_set_bool(settings, "from_file", false);
  obs_data_set_bool(settings, "read_from_file", true);  // GDI+
  obs_data_set_string(settings, "file", file.c_str());
  EXPECT_EQ(title_of_text_source(settings), "From the file");
  obs_data_release(settings);
  fs::remove(file);
  EXPECT_EQ(title_of_text_source(nullptr), "");
}

}  // namespace
}  // namespace p2plive::plugin
