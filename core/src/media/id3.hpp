// Track titles as ID3v2 tags, the form timed metadata takes in MPEG-TS (stream type 0x15): what the
// broadcaster writes when the music changes, and what viewers (and the web page, and HLS players) read.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace p2plive {

// Titles longer than this are cut (at a character boundary): a track's name, not an essay.
inline constexpr std::size_t max_title_bytes = 255;

// A title as it may travel: the first line of what DJ software wrote, trimmed, with control characters
// and invalid UTF-8 left out, at most max_title_bytes.
std::string clean_title(std::string_view text);

// An ID3v2.4 tag with one TIT2 (title) frame, in UTF-8.
std::vector<std::uint8_t> id3_title_tag(std::string_view title);

// The TIT2 frame of an ID3v2.3 or v2.4 tag, as UTF-8 (clean_title'd); nullopt for anything else,
// malformed or truncated. Reads only what the tag's own sizes allow.
std::optional<std::string> id3_title(std::span<const std::uint8_t> tag);

}  // namespace p2plive
