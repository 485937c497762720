// Files in the plugin's config folder (OBS: ~/.config/obs-studio/plugin_config/p2p-live/).
#pragma once

#include <filesystem>
#include <optional>

#include <obs-module.h>

namespace p2plive::plugin {

// nullopt when libobs has no config folder: a libobs started without one (headless tools) answers with a
// relative path, and a key must not land in whatever the working directory is.
inline std::optional<std::filesystem::path> module_config_file(const char* name) {
  char* raw = obs_module_config_path(name);
  if (!raw) return std::nullopt;
  std::filesystem::path path(raw);
  bfree(raw);
  if (!path.is_absolute()) return std::nullopt;
  return path;
}

}  // namespace p2plive::plugin
