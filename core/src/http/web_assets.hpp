// The web player's files (data/web, and mpegts.js from npm), compiled into the program so the page works
// wherever p2plive is copied. The build generates the table (embed_web.cmake).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace p2plive::http {

struct WebAsset {
  std::string_view path;  // "/index.html"
  std::string_view content_type;
  std::span<const std::uint8_t> bytes;
};

const WebAsset* find_web_asset(std::string_view path);

}  // namespace p2plive::http
