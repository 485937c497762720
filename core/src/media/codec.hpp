// Maps the core's codec names to FFmpeg's codec ids and back.
#pragma once

#include <cstdint>  // before FFmpeg headers: they need UINT64_C in C++
#include <optional>

extern "C" {
#include <libavcodec/codec_id.h>
}

#include "p2plive/media.hpp"

namespace p2plive {

AVCodecID to_av_codec_id(Codec codec);
// nullopt for codecs the swarm does not carry.
std::optional<Codec> from_av_codec_id(AVCodecID id);
MediaKind kind_of(Codec codec);

}  // namespace p2plive
