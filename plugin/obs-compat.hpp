// Registration structs across OBS versions. We build against 29.0.2, whose obs_service_info and
// obs_output_info are shorter than 29.1's. 29.1 added members at the end (and made some required), and
// libobs refuses a struct larger than the one it knows. So we fill the 29.1 layout and pass the size
// that the running libobs understands.
#pragma once

#include <cstddef>
#include <cstdint>

#include <obs-module.h>

namespace p2plive::plugin {

// obs_service_info as of OBS 29.1 (unchanged through 31): the 29.0 struct plus four callbacks.
struct ServiceInfo291 {
  obs_service_info base;
  const char* (*get_protocol)(void* data);
  const char** (*get_supported_audio_codecs)(void* data);
  const char* (*get_connect_info)(void* data, std::uint32_t type);
  bool (*can_try_to_connect)(void* data);
};

// obs_output_info as of OBS 29.1: the 29.0 struct plus the protocols it serves (required with
// OBS_OUTPUT_SERVICE there).
struct OutputInfo291 {
  obs_output_info base;
  const char* protocols;
};

static_assert(offsetof(ServiceInfo291, get_protocol) == sizeof(obs_service_info),
              "the 29.1 members must follow the 29.0 struct without padding");
static_assert(offsetof(OutputInfo291, protocols) == sizeof(obs_output_info),
              "the 29.1 member must follow the 29.0 struct without padding");

// OBS_SERVICE_CONNECT_INFO_* of 29.1.
inline constexpr std::uint32_t connect_info_server_url = 0;
inline constexpr std::uint32_t connect_info_stream_key = 2;

inline constexpr std::uint32_t obs_29_1_version = MAKE_SEMANTIC_VERSION(29, 1, 0);

// The size to register a struct with: libobs before 29.1 rejects the longer layout, 29.1 and later require
// it. Pure, so the choice is tested for every version without loading that libobs.
constexpr std::size_t registration_size(std::uint32_t runtime_version, std::size_t size_29_0,
                                        std::size_t size_29_1) {
  return runtime_version >= obs_29_1_version ? size_29_1 : size_29_0;
}
constexpr std::size_t service_info_size(std::uint32_t runtime_version) {
  return registration_size(runtime_version, sizeof(obs_service_info), sizeof(ServiceInfo291));
}
constexpr std::size_t output_info_size(std::uint32_t runtime_version) {
  return registration_size(runtime_version, sizeof(obs_output_info), sizeof(OutputInfo291));
}

// True when the running libobs knows the 29.1 registration structs.
inline bool runtime_has_obs_29_1() { return obs_get_version() >= obs_29_1_version; }

inline void register_service(const ServiceInfo291& info) {
  obs_register_service_s(&info.base, service_info_size(obs_get_version()));
}

inline void register_output(const OutputInfo291& info) {
  obs_register_output_s(&info.base, output_info_size(obs_get_version()));
}

}  // namespace p2plive::plugin
