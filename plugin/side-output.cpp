#include "side-output.hpp"

#include <string_view>

#include <obs-frontend-api.h>
#include <obs-module.h>
#include <util/config-file.h>

#include "encoder-settings.hpp"
#include "p2p-service.hpp"
#include "stream-info.hpp"

namespace p2plive::plugin {
namespace {

const char* text(const char* lookup) { return obs_module_text(lookup); }

bool is_ours(obs_output_t* output) {
  const char* id = obs_output_get_id(output);
  return id && std::string_view(id) == output_id;
}

bool audio_fits(obs_encoder_t* audio) {
  const auto a = audio ? codec_from_obs(obs_encoder_get_codec(audio)) : std::nullopt;
  return a && (*a == Codec::aac || *a == Codec::opus);
}

bool codecs_fit(obs_encoder_t* video, obs_encoder_t* audio) {
  const auto v = video ? codec_from_obs(obs_encoder_get_codec(video)) : std::nullopt;
  return v && (*v == Codec::h264 || *v == Codec::hevc || *v == Codec::av1) && audio_fits(audio);
}

// Simple mode names encoders by a short word; 29.0's frontend maps them to these ids.
const char* simple_encoder_id(const char* name) {
  const std::string_view n = name ? name : "";
  if (n == "nvenc") return "jim_nvenc";
  if (n == "nvenc_hevc") return "jim_hevc_nvenc";
  if (n == "amd") return "h264_texture_amf";
  if (n == "qsv") return "obs_qsv11";
  return "obs_x264";
}

struct ProfileEncoders {
  std::string video_id = "obs_x264";
  obs_data_t* video_settings = nullptr;  // owned by the caller
  long long audio_bitrate_kbps = 160;
  std::size_t audio_mixer = 0;
};

// What OBS itself would use for streaming with this profile (Settings > Output).
ProfileEncoders read_profile_encoders() {
  ProfileEncoders result;
  config_t* profile = obs_frontend_get_profile_config();
  const char* mode = profile ? config_get_string(profile, "Output", "Mode") : nullptr;
  if (mode && std::string_view(mode) == "Advanced") {
    const char* id = config_get_string(profile, "AdvOut", "Encoder");
    if (id && *id) result.video_id = id;
    if (char* dir = obs_frontend_get_current_profile_path()) {
      const std::string path = std::string(dir) + "/streamEncoder.json";
      bfree(dir);
      result.video_settings = obs_data_create_from_json_file_safe(path.c_str(), "bak");
    }
    const long long track = config_get_int(profile, "AdvOut", "TrackIndex");  // 1-based
    result.audio_mixer = track >= 1 && track <= 6 ? static_cast<std::size_t>(track - 1) : 0;
    const std::string bitrate_key = "Track" + std::to_string(result.audio_mixer + 1) + "Bitrate";
    if (const long long kbps = config_get_int(profile, "AdvOut", bitrate_key.c_str()); kbps > 0) {
      result.audio_bitrate_kbps = kbps;
    }
  } else if (profile) {
    result.video_id = simple_encoder_id(config_get_string(profile, "SimpleOutput", "StreamEncoder"));
    result.video_settings = obs_data_create();
    obs_data_set_string(result.video_settings, "rate_control", "CBR");
    const long long vbitrate = config_get_int(profile, "SimpleOutput", "VBitrate");
    obs_data_set_int(result.video_settings, "bitrate", vbitrate > 0 ? vbitrate : 2500);
    if (const char* preset = config_get_string(profile, "SimpleOutput", "Preset"); preset && *preset) {
      obs_data_set_string(result.video_settings, "preset", preset);
    }
    if (const long long kbps = config_get_int(profile, "SimpleOutput", "ABitrate"); kbps > 0) {
      result.audio_bitrate_kbps = kbps;
    }
  }
  if (!result.video_settings) result.video_settings = obs_data_create();
  // An encoder this OBS lacks (a GPU encoder on another machine's profile) falls back to x264.
  const auto codec = codec_from_obs(obs_get_encoder_codec(result.video_id.c_str()));
  if (!codec || *codec != Codec::h264) result.video_id = "obs_x264";
  return result;
}

}  // namespace

std::string SideOutput::start(const SideOutputConfig& config, std::vector<std::string>& notices) {
  release();  // the previous session's objects, stopped by now

  obs_data_t* settings = obs_data_create();
  obs_data_set_string(settings, setting_key, "");  // the plugin's own key; the secret stays in its file
  obs_data_set_string(settings, setting_listen, config.listen.c_str());
  obs_data_set_string(settings, setting_server, config.server.c_str());
  obs_data_set_int(settings, setting_upload_cap_kbps, config.upload_cap_kbps);
  obs_data_set_bool(settings, setting_port_mapping, config.port_mapping);
  obs_data_set_bool(settings, setting_dht, config.dht);
  obs_data_set_string(settings, setting_now_playing_source, config.now_playing_source.c_str());
  service_ = obs_service_create_private(service_id, "p2p_live_dock_service", settings);
  obs_data_release(settings);
  output_ =
      obs_output_create(config.sound_only ? audio_output_id : output_id, "p2p_live_dock", nullptr, nullptr);
  if (!service_ || !output_) {
    release();
    return text("P2PLive.Error.StartFailedGeneric");
  }
  obs_output_set_service(output_, service_);

  if (std::string error = attach_encoders(config.sound_only, notices); !error.empty()) {
    release();
    return error;
  }
  if (video_) obs_output_set_video_encoder(output_, video_);
  obs_output_set_audio_encoder(output_, audio_, 0);
  if (!obs_output_start(output_)) {
    const char* error = obs_output_get_last_error(output_);
    std::string message = error && *error ? error : text("P2PLive.Error.StartFailedGeneric");
    release();
    return message;
  }
  return {};
}

std::string SideOutput::attach_encoders(bool sound_only, std::vector<std::string>& notices) {
  // The main stream's encoders first, then the recording's (in Simple mode often the same ones).
  obs_output_t* candidates[] = {obs_frontend_get_streaming_output(), obs_frontend_get_recording_output()};
  std::string error;
  for (obs_output_t* running : candidates) {
    if (!running) continue;
    const bool active = obs_output_active(running);
    if (active && is_ours(running)) {
      error = text("P2PLive.Error.AlreadyMain");
    } else if (active && !audio_) {
      obs_encoder_t* video = obs_output_get_video_encoder(running);
      obs_encoder_t* audio = obs_output_get_audio_encoder(running, 0);
      if (sound_only ? audio_fits(audio) : codecs_fit(video, audio)) {
        if (!sound_only) video_ = obs_encoder_get_ref(video);
        audio_ = obs_encoder_get_ref(audio);
        blog(LOG_INFO, "[p2p-live] P2P shares the %s of output '%s'",
             sound_only ? "audio encoder" : "encoders", obs_output_get_name(running));
      }
    }
    obs_output_release(running);
  }
  if (!error.empty()) return error;
  if (audio_ && (video_ || sound_only)) {
    if (!video_) return {};
    const auto problems = review_video_encoder(video_);
    encoder_poor_ = !problems.empty();
    notices.insert(notices.end(), problems.begin(), problems.end());
    return {};
  }
  return create_encoders(sound_only, notices);
}

std::string SideOutput::create_encoders(bool sound_only, std::vector<std::string>& notices) {
  ProfileEncoders profile = read_profile_encoders();
  if (!sound_only) {
    const auto changes = apply_live_video_settings(profile.video_settings);
    notices.insert(notices.end(), changes.begin(), changes.end());
    video_ =
        obs_video_encoder_create(profile.video_id.c_str(), "p2p_live_video", profile.video_settings, nullptr);
  }
  obs_data_release(profile.video_settings);

  obs_data_t* audio_settings = obs_data_create();
  obs_data_set_string(audio_settings, "rate_control", "CBR");
  obs_data_set_int(audio_settings, "bitrate", profile.audio_bitrate_kbps);
  audio_ = obs_audio_encoder_create("ffmpeg_aac", "p2p_live_audio", audio_settings, profile.audio_mixer, nullptr);
  obs_data_release(audio_settings);
  if ((!video_ && !sound_only) || !audio_) return text("P2PLive.Error.EncoderInit");
  if (video_) obs_encoder_set_video(video_, obs_get_video());
  obs_encoder_set_audio(audio_, obs_get_audio());
  blog(LOG_INFO, "[p2p-live] OBS is not streaming or recording: P2P encodes with its own %s",
       sound_only ? "AAC encoder (sound only)" : profile.video_id.c_str());
  return {};
}

void SideOutput::stop() {
  if (active()) obs_output_stop(output_);
}

void SideOutput::release() {
  if (output_) {
    if (obs_output_active(output_)) obs_output_force_stop(output_);
    obs_output_release(output_);
    output_ = nullptr;
  }
  if (video_) obs_encoder_release(video_);
  if (audio_) obs_encoder_release(audio_);
  video_ = audio_ = nullptr;
  encoder_poor_ = false;
  if (service_) obs_service_release(service_);
  service_ = nullptr;
}

}  // namespace p2plive::plugin
