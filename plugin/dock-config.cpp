#include "dock-config.hpp"

#include <algorithm>

#include <obs-module.h>

#include "module-config.hpp"

namespace p2plive::plugin {
namespace {
constexpr const char* file_name = "dock.json";
}

DockConfig load_dock_config() {
  DockConfig config;
  const auto file = module_config_file(file_name);
  if (!file) return config;
  obs_data_t* data = obs_data_create_from_json_file_safe(file->c_str(), "bak");
  if (!data) return config;  // first start, or unreadable: defaults
  const long long port = obs_data_get_int(data, "listen_port");
  if (port > 0 && port < 65536) config.listen_port = static_cast<int>(port);
  config.server = obs_data_get_string(data, "server");
  config.upload_cap_kbps = std::max(0LL, obs_data_get_int(data, "upload_cap_kbps"));
  config.shown_once = obs_data_get_bool(data, "shown_once");
  config.port_mapping =
      !obs_data_has_user_value(data, "port_mapping") || obs_data_get_bool(data, "port_mapping");
  config.dht = !obs_data_has_user_value(data, "dht") || obs_data_get_bool(data, "dht");
  config.sound_only = obs_data_get_bool(data, "sound_only");
  config.now_playing_source = obs_data_get_string(data, "now_playing_source");
  obs_data_release(data);
  return config;
}

void save_dock_config(const DockConfig& config) {
  const auto file = module_config_file(file_name);
  if (!file) return;
  std::error_code ec;
  std::filesystem::create_directories(file->parent_path(), ec);
  obs_data_t* data = obs_data_create();
  obs_data_set_int(data, "listen_port", config.listen_port);
  obs_data_set_string(data, "server", config.server.c_str());
  obs_data_set_int(data, "upload_cap_kbps", config.upload_cap_kbps);
  obs_data_set_bool(data, "shown_once", config.shown_once);
  obs_data_set_bool(data, "port_mapping", config.port_mapping);
  obs_data_set_bool(data, "dht", config.dht);
  obs_data_set_bool(data, "sound_only", config.sound_only);
  obs_data_set_string(data, "now_playing_source", config.now_playing_source.c_str());
  if (!obs_data_save_json_safe(data, file->c_str(), "tmp", "bak")) {
    blog(LOG_WARNING, "[p2p-live] cannot save the dock settings to %s", file->c_str());
  }
  obs_data_release(data);
}

}  // namespace p2plive::plugin
