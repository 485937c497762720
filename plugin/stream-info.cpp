#include "stream-info.hpp"

#include <strings.h>

#include <media-io/audio-io.h>
#include <media-io/video-io.h>
#include <obs-module.h>

#include "obs-log.hpp"

namespace p2plive::plugin {
namespace {

__extension__ typedef __int128 Int128;

std::vector<std::uint8_t> extradata_of(obs_encoder_t* encoder) {
  std::uint8_t* data = nullptr;
  std::size_t size = 0;
  if (!obs_encoder_get_extra_data(encoder, &data, &size) || !data || size == 0) return {};
  return {data, data + size};
}

int bitrate_kbps_of(obs_encoder_t* encoder) {
  obs_data_t* settings = obs_encoder_get_settings(encoder);
  const auto bitrate = static_cast<int>(obs_data_get_int(settings, "bitrate"));
  obs_data_release(settings);
  return bitrate;
}

const char* codec_text(const char* obs_codec) { return obs_codec ? obs_codec : "?"; }

std::string describe_video(obs_encoder_t* encoder, StreamInfo& info) {
  if (!encoder) return obs_module_text("P2PLive.Error.NoVideoEncoder");
  const auto codec = codec_from_obs(obs_encoder_get_codec(encoder));
  if (!codec || (*codec != Codec::h264 && *codec != Codec::hevc && *codec != Codec::av1)) {
    return format_message(obs_module_text("P2PLive.Error.VideoCodec"), codec_text(obs_encoder_get_codec(encoder)));
  }
  info.kind = MediaKind::video;
  info.codec = *codec;
  info.extradata = extradata_of(encoder);
  info.width = static_cast<int>(obs_encoder_get_width(encoder));
  info.height = static_cast<int>(obs_encoder_get_height(encoder));
  info.bitrate_kbps = bitrate_kbps_of(encoder);
  // OBS stamps video packets in frames: timebase fps_den / fps_num.
  const video_output_info* video = video_output_get_info(obs_encoder_video(encoder));
  if (!video || video->fps_num == 0 || video->fps_den == 0) return obs_module_text("P2PLive.Error.NoVideo");
  info.timebase_num = static_cast<int>(video->fps_den);
  info.timebase_den = static_cast<int>(video->fps_num);
  return {};
}

std::string describe_audio(obs_encoder_t* encoder, StreamInfo& info) {
  if (!encoder) return obs_module_text("P2PLive.Error.NoAudioEncoder");
  const auto codec = codec_from_obs(obs_encoder_get_codec(encoder));
  if (!codec || (*codec != Codec::aac && *codec != Codec::opus)) {
    return format_message(obs_module_text("P2PLive.Error.AudioCodec"), codec_text(obs_encoder_get_codec(encoder)));
  }
  info.kind = MediaKind::audio;
  info.codec = *codec;
  info.extradata = extradata_of(encoder);
  info.sample_rate = static_cast<int>(obs_encoder_get_sample_rate(encoder));
  info.channels = static_cast<int>(audio_output_get_channels(obs_encoder_audio(encoder)));
  info.frame_size = static_cast<int>(obs_encoder_get_frame_size(encoder));
  info.bitrate_kbps = bitrate_kbps_of(encoder);
  if (info.sample_rate <= 0) return obs_module_text("P2PLive.Error.NoAudio");
  // OBS stamps audio packets in samples.
  info.timebase_num = 1;
  info.timebase_den = info.sample_rate;
  return {};
}

}  // namespace

std::optional<Codec> codec_from_obs(const char* obs_codec) {
  if (!obs_codec) return std::nullopt;
  struct Entry {
    const char* name;
    Codec codec;
  };
  static constexpr Entry table[] = {
      {"h264", Codec::h264}, {"hevc", Codec::hevc}, {"av1", Codec::av1}, {"aac", Codec::aac}, {"opus", Codec::opus},
  };
  for (const Entry& entry : table) {
    if (strcasecmp(entry.name, obs_codec) == 0) return entry.codec;  // ffmpeg_aac says "AAC"
  }
  return std::nullopt;
}

StreamsOrError describe_streams(obs_output_t* output) {
  StreamsOrError result;
  if ((obs_output_get_flags(output) & OBS_OUTPUT_VIDEO) != 0) {
    result.error = describe_video(obs_output_get_video_encoder(output), result.streams.emplace_back());
  }
  if (result.error.empty()) {
    result.error = describe_audio(obs_output_get_audio_encoder(output, 0), result.streams.emplace_back());
  }
  if (!result.ok()) result.streams.clear();
  return result;
}

std::string describe_for_log(const std::vector<StreamInfo>& streams) {
  std::string text;
  for (const StreamInfo& stream : streams) {
    if (!text.empty()) text += ", ";
    text += codec_name(stream.codec);
    text += stream.kind == MediaKind::video
                ? " " + std::to_string(stream.width) + "x" + std::to_string(stream.height)
                : " " + std::to_string(stream.sample_rate) + " Hz";
  }
  if (streams.size() == 1 && streams.front().kind == MediaKind::audio) text += ", sound only";
  return text;
}

std::int64_t rescale(std::int64_t value, int from_num, int from_den, int to_num, int to_den) {
  if (from_num == to_num && from_den == to_den) return value;
  const Int128 numerator = static_cast<Int128>(value) * from_num * to_den;
  const Int128 denominator = static_cast<Int128>(from_den) * to_num;
  if (denominator == 0) return value;
  const Int128 half = denominator / 2;
  const Int128 rounded = numerator >= 0 ? (numerator + half) / denominator : (numerator - half) / denominator;
  return static_cast<std::int64_t>(rounded);
}

std::optional<EncodedPacket> to_encoded_packet(const encoder_packet& packet, const std::vector<StreamInfo>& streams) {
  MediaKind kind = MediaKind::video;
  if (packet.type == OBS_ENCODER_AUDIO && packet.track_idx == 0) {
    kind = MediaKind::audio;
  } else if (packet.type != OBS_ENCODER_VIDEO) {
    return std::nullopt;
  }
  int index = 0;
  while (static_cast<std::size_t>(index) < streams.size() &&
         streams[static_cast<std::size_t>(index)].kind != kind) {
    ++index;
  }
  if (static_cast<std::size_t>(index) >= streams.size() || !packet.data) return std::nullopt;

  const StreamInfo& stream = streams[static_cast<std::size_t>(index)];
  EncodedPacket out;
  out.stream_index = index;
  out.data.assign(packet.data, packet.data + packet.size);
  out.pts = rescale(packet.pts, packet.timebase_num, packet.timebase_den, stream.timebase_num, stream.timebase_den);
  out.dts = rescale(packet.dts, packet.timebase_num, packet.timebase_den, stream.timebase_num, stream.timebase_den);
  // Every AAC or Opus frame decodes on its own; OBS only flags video keyframes.
  out.keyframe = packet.keyframe || packet.type == OBS_ENCODER_AUDIO;
  return out;
}

}  // namespace p2plive::plugin
