#include "key-store.hpp"

namespace p2plive::plugin {
namespace fs = std::filesystem;
namespace {

constexpr auto owner_only = fs::perms::owner_read | fs::perms::owner_write;

// The folder holds only our key and settings; keep other users out of it too.
std::error_code make_folder(const fs::path& file) {
  std::error_code ec;
  const fs::path folder = file.parent_path();
  if (folder.empty() || fs::is_directory(folder, ec)) return {};
  fs::create_directories(folder, ec);
  if (!ec) fs::permissions(folder, fs::perms::owner_all, ec);
  return ec ? make_error_code(Errc::key_file_unwritable) : std::error_code{};
}

// A key file that someone made readable to others (a copy, an unzip) is narrowed back to 0600.
void narrow_mode(const fs::path& file) {
  std::error_code ec;
  const fs::perms perms = fs::status(file, ec).permissions();
  if (!ec && (perms & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
    fs::permissions(file, owner_only, ec);
  }
}

}  // namespace

Result<SecretKey> KeyStore::load_or_create() const {
  std::error_code ec;
  if (!fs::exists(file_, ec)) {
    if (auto made = make_folder(file_)) return made;
    SecretKey key = SecretKey::generate();
    if (!key.save(file_)) return key;
    // Lost a race with another caller (the dock and an output starting together): take theirs.
  }
  narrow_mode(file_);
  return SecretKey::load(file_);
}

Result<SecretKey> KeyStore::regenerate() const {
  SecretKey key = SecretKey::generate();
  if (auto ec = replace(key)) return ec;
  return key;
}

Result<SecretKey> KeyStore::import_text(std::string_view text) const {
  auto key = SecretKey::parse(text);
  if (!key) return key.error();
  if (auto ec = replace(*key)) return ec;
  return key;
}

// SecretKey::save creates with 0600 and refuses to overwrite, so write a fresh file and rename it over the
// old one: a crash in between leaves either the old key or the new one, never half a key.
std::error_code KeyStore::replace(const SecretKey& key) const {
  if (auto ec = make_folder(file_)) return ec;
  fs::path fresh = file_;
  fresh += ".new";
  std::error_code ec;
  fs::remove(fresh, ec);
  if (auto saved = key.save(fresh)) return saved;
  fs::rename(fresh, file_, ec);
  if (ec) {
    fs::remove(fresh, ec);
    return make_error_code(Errc::key_file_unwritable);
  }
  return {};
}

}  // namespace p2plive::plugin
