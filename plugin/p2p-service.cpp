#include "p2p-service.hpp"

#include <cstdint>
#include <string>

#include <obs-module.h>

#include "encoder-settings.hpp"
#include "obs-compat.hpp"
#include "trampoline.hpp"

namespace p2plive::plugin {
namespace {

const char* supported_video_codecs[] = {"h264", "hevc", "av1", nullptr};
const char* supported_audio_codecs[] = {"aac", "opus", nullptr};

// OBS refuses to start a service whose key is empty ("missing stream key") before any output runs. We want
// the output's own message, which says how to make a key, so get_key is never empty.
constexpr const char* no_key_placeholder = "none";

class P2PService {
 public:
  explicit P2PService(obs_data_t* settings) { update(settings); }

  // OBS calls update() on the UI thread and reads url()/key() there too. The output does not use these:
  // it reads the service's settings object, which is reference counted and thread-safe.
  void update(obs_data_t* settings) {
    key_ = obs_data_get_string(settings, setting_key);
    std::string listen = obs_data_get_string(settings, setting_listen);
    url_ = "p2plive://" + (listen.empty() ? std::string(default_listen) : listen);
  }

  const char* url() const { return url_.c_str(); }
  const char* key() const { return key_.empty() ? no_key_placeholder : key_.c_str(); }

 private:
  std::string key_;
  std::string url_;
};

P2PService* self(void* data) { return static_cast<P2PService*>(data); }

void get_defaults(obs_data_t* settings) {
  obs_data_set_default_string(settings, setting_listen, default_listen);
  obs_data_set_default_string(settings, setting_server, "");
  obs_data_set_default_string(settings, setting_key, "");
  obs_data_set_default_int(settings, setting_upload_cap_kbps, 0);
  obs_data_set_default_bool(settings, setting_port_mapping, true);
  obs_data_set_default_bool(settings, setting_dht, true);
  obs_data_set_default_string(settings, setting_now_playing_source, "");
}

obs_properties_t* get_properties() {
  obs_properties_t* props = obs_properties_create();
  obs_property_t* p = obs_properties_add_text(props, setting_key, obs_module_text("P2PLive.Key"), OBS_TEXT_PASSWORD);
  obs_property_set_long_description(p, obs_module_text("P2PLive.Key.Description"));
  p = obs_properties_add_text(props, setting_listen, obs_module_text("P2PLive.Listen"), OBS_TEXT_DEFAULT);
  obs_property_set_long_description(p, obs_module_text("P2PLive.Listen.Description"));
  p = obs_properties_add_text(props, setting_server, obs_module_text("P2PLive.Server"), OBS_TEXT_MULTILINE);
  obs_property_set_long_description(p, obs_module_text("P2PLive.Server.Description"));
  p = obs_properties_add_int(props, setting_upload_cap_kbps, obs_module_text("P2PLive.UploadCap"), 0, 10'000'000, 100);
  obs_property_set_long_description(p, obs_module_text("P2PLive.UploadCap.Description"));
  p = obs_properties_add_bool(props, setting_port_mapping, obs_module_text("P2PLive.PortMapping"));
  obs_property_set_long_description(p, obs_module_text("P2PLive.PortMapping.Description"));
  p = obs_properties_add_bool(props, setting_dht, obs_module_text("P2PLive.Dht"));
  obs_property_set_long_description(p, obs_module_text("P2PLive.Dht.Description"));
  p = obs_properties_add_text(props, setting_now_playing_source, obs_module_text("P2PLive.NowPlaying"),
                              OBS_TEXT_DEFAULT);
  obs_property_set_long_description(p, obs_module_text("P2PLive.NowPlaying.Description"));
  return props;
}

// Viewers join at keyframes and the swarm wants no encoder lookahead (encoder-settings.hpp). OBS calls this
// when it (re)configures the streaming encoders for this service; the streamer sees every change in the dock.
void apply_encoder_settings(obs_data_t* video, obs_data_t* /*audio*/) {
  post_notices(apply_live_video_settings(video));
}

}  // namespace

void register_p2p_service() {
  ServiceInfo291 info = {};
  obs_service_info& base = info.base;
  base.id = service_id;
  base.get_name = [](void*) { return obs_module_text("P2PLive.Service"); };
  base.create = [](obs_data_t* settings, obs_service_t*) -> void* {
    return guarded("service create", [&]() -> void* { return new P2PService(settings); }, nullptr);
  };
  base.destroy = [](void* data) { delete self(data); };
  base.update = [](void* data, obs_data_t* settings) {
    guarded("service update", [&] { self(data)->update(settings); });
  };
  base.get_defaults = get_defaults;
  base.get_properties = [](void*) {
    return guarded("service properties", get_properties, static_cast<obs_properties_t*>(nullptr));
  };
  base.get_url = [](void* data) { return self(data)->url(); };
  base.get_key = [](void* data) { return self(data)->key(); };
  base.apply_encoder_settings = [](void*, obs_data_t* video, obs_data_t* audio) {
    guarded("apply_encoder_settings", [&] { apply_encoder_settings(video, audio); });
  };
  // OBS 29.0's frontend creates the output that the service names.
  base.get_output_type = [](void*) { return output_id; };
  base.get_supported_video_codecs = [](void*) { return supported_video_codecs; };

  // OBS 29.1+.
  info.get_protocol = [](void*) { return protocol_name; };
  info.get_supported_audio_codecs = [](void*) { return supported_audio_codecs; };
  info.get_connect_info = [](void* data, std::uint32_t type) -> const char* {
    if (type == connect_info_server_url) return self(data)->url();
    if (type == connect_info_stream_key) return self(data)->key();
    return nullptr;
  };
  info.can_try_to_connect = [](void*) { return true; };  // the output explains what is missing

  register_service(info);
}

}  // namespace p2plive::plugin
