// The streamer's own key, kept in the plugin's config folder so that nobody has to run `p2plive keygen`:
// made on first use, mode 0600, replaced only when the streamer asks (regenerate or import). The same key
// means the same viewer link, so viewers find the stream again after every restart.
//
// Pure file handling over the core's SecretKey: no OBS calls, so it is tested on its own. Nothing here
// logs, and errors carry no key text.
#pragma once

#include <filesystem>
#include <string_view>
#include <system_error>

#include "p2plive/error.hpp"
#include "p2plive/key.hpp"

namespace p2plive::plugin {

inline constexpr const char* key_file_name = "stream.key";

class KeyStore {
 public:
  explicit KeyStore(std::filesystem::path file) : file_(std::move(file)) {}
  const std::filesystem::path& file() const { return file_; }

  // The key in the file, or a new one written there when there is no file yet. A damaged file is reported
  // (key_bad_*), never overwritten: it may be the only copy of the streamer's identity.
  Result<SecretKey> load_or_create() const;
  // Replace the key with a new one, or with `text` after checking it. Viewer links change with the key.
  Result<SecretKey> regenerate() const;
  Result<SecretKey> import_text(std::string_view text) const;

 private:
  std::error_code replace(const SecretKey& key) const;
  std::filesystem::path file_;
};

}  // namespace p2plive::plugin
