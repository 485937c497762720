#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "p2plive/key.hpp"

namespace p2plive {
namespace {

// One directory per test process, removed when the process exits.
struct TempDir {
  std::filesystem::path path = std::filesystem::temp_directory_path() / ("p2plive_key_test_" + std::to_string(::getpid()));
  TempDir() { std::filesystem::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::filesystem::path temp_path(const char* name) {
  static const TempDir dir;
  auto path = dir.path / name;
  std::filesystem::remove(path);
  return path;
}

TEST(SecretKey, TextRoundTripsAndKeepsThePublicKey) {
  const auto key = SecretKey::generate();
  const auto text = key.text();
  EXPECT_EQ(text.rfind("p2plsk1_", 0), 0u);
  EXPECT_EQ(text.find_first_of(" \n\t"), std::string::npos);
  auto parsed = SecretKey::parse("  " + text + "\n");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->public_key(), key.public_key());
}

TEST(SecretKey, SaveWritesOneLineWithMode0600AndNeverOverwrites) {
  const auto path = temp_path("k1");
  const auto key = SecretKey::generate();
  ASSERT_FALSE(key.save(path));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(path);
  std::string line, rest;
  std::getline(in, line);
  EXPECT_EQ(line, key.text());
  EXPECT_FALSE(std::getline(in, rest));
  EXPECT_EQ(key.save(path), make_error_code(Errc::key_file_unwritable));
  auto loaded = SecretKey::load(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->public_key(), key.public_key());
}

TEST(SecretKey, MalformedTextGetsItsOwnError) {
  const auto text = SecretKey::generate().text();
  EXPECT_EQ(SecretKey::parse("").error(), make_error_code(Errc::key_bad_prefix));
  EXPECT_EQ(SecretKey::parse("hello").error(), make_error_code(Errc::key_bad_prefix));
  EXPECT_EQ(SecretKey::parse(to_text(SecretKey::generate().public_key())).error(), make_error_code(Errc::key_bad_prefix));
  EXPECT_EQ(SecretKey::parse(text.substr(0, text.size() - 3)).error(), make_error_code(Errc::key_bad_encoding));
  EXPECT_EQ(SecretKey::parse(text + "AAAA").error(), make_error_code(Errc::key_bad_encoding));
  EXPECT_EQ(SecretKey::parse("p2plsk1_!!!!").error(), make_error_code(Errc::key_bad_encoding));
  // Every single-character change in the encoded part is caught.
  for (std::size_t i = 8; i < text.size(); ++i) {
    auto damaged = text;
    damaged[i] = damaged[i] == 'A' ? 'B' : 'A';
    auto r = SecretKey::parse(damaged);
    EXPECT_FALSE(r.ok()) << "position " << i;
  }
  EXPECT_EQ(SecretKey::load(temp_path("missing")).error(), make_error_code(Errc::key_file_unreadable));
}

TEST(PublicKey, TextRoundTripsAndRejectsDamage) {
  const auto key = SecretKey::generate().public_key();
  const auto text = to_text(key);
  EXPECT_EQ(text.rfind("p2plpk1_", 0), 0u);
  auto parsed = parse_public_key(text);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, key);
  auto damaged = text;
  damaged[20] = damaged[20] == 'x' ? 'y' : 'x';
  EXPECT_EQ(parse_public_key(damaged).error(), make_error_code(Errc::key_bad_checksum));
}

TEST(Errors, EveryMessageSaysWhatToDo) {
  for (auto e : {Errc::key_bad_prefix, Errc::key_file_unreadable, Errc::link_bad_prefix, Errc::port_in_use,
                 Errc::input_open_failed}) {
    const auto message = make_error_code(e).message();
    EXPECT_GT(message.size(), 20u);
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace p2plive
