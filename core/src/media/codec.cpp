#include "media/codec.hpp"

namespace p2plive {

const char* codec_name(Codec codec) {
  switch (codec) {
    case Codec::h264: return "h264";
    case Codec::hevc: return "hevc";
    case Codec::av1: return "av1";
    case Codec::aac: return "aac";
    case Codec::opus: return "opus";
  }
  return "unknown";
}

AVCodecID to_av_codec_id(Codec codec) {
  switch (codec) {
    case Codec::h264: return AV_CODEC_ID_H264;
    case Codec::hevc: return AV_CODEC_ID_HEVC;
    case Codec::av1: return AV_CODEC_ID_AV1;
    case Codec::aac: return AV_CODEC_ID_AAC;
    case Codec::opus: return AV_CODEC_ID_OPUS;
  }
  return AV_CODEC_ID_NONE;
}

std::optional<Codec> from_av_codec_id(AVCodecID id) {
  switch (id) {
    case AV_CODEC_ID_H264: return Codec::h264;
    case AV_CODEC_ID_HEVC: return Codec::hevc;
    case AV_CODEC_ID_AV1: return Codec::av1;
    case AV_CODEC_ID_AAC: return Codec::aac;
    case AV_CODEC_ID_OPUS: return Codec::opus;
    default: return std::nullopt;
  }
}

MediaKind kind_of(Codec codec) {
  switch (codec) {
    case Codec::h264:
    case Codec::hevc:
    case Codec::av1: return MediaKind::video;
    case Codec::aac:
    case Codec::opus: return MediaKind::audio;
  }
  return MediaKind::video;
}

}  // namespace p2plive
