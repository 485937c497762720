#include "p2plive/link.hpp"

#include <cctype>

namespace p2plive {
namespace {

constexpr std::string_view prefix = "p2plive:";
constexpr std::string_view version = "1";

// Characters a shell leaves alone anywhere in a word; everything else is percent-encoded.
bool is_safe(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '~' || c == ':' ||
         c == '/' || c == '-';
}

std::string encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    if (is_safe(c)) {
      out += c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += hex[b >> 4];
      out += hex[b & 15];
    }
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      if (!is_safe(text[i])) return Errc::link_bad_field;
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return Errc::link_bad_field;
    const int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) return Errc::link_bad_field;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

}  // namespace

std::string Link::to_string() const {
  std::string out = std::string(prefix) + std::string(version) + ":" + to_text(key);
  for (const auto& peer : peers) out += ",p=" + encode(peer.to_string());
  for (const auto& tracker : trackers) out += ",t=" + encode(tracker);
  return out;
}

Result<Link> Link::parse(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.substr(0, prefix.size()) != prefix) return Errc::link_bad_prefix;
  text.remove_prefix(prefix.size());
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return Errc::link_bad_version;
  if (text.substr(0, colon) != version) return Errc::link_bad_version;
  text.remove_prefix(colon + 1);

  Link link;
  const auto key_end = text.find(',');
  auto key = parse_public_key(text.substr(0, key_end));
  if (!key) return key.error();
  link.key = *key;
  text = key_end == std::string_view::npos ? std::string_view{} : text.substr(key_end + 1);

  while (!text.empty()) {
    const auto end = text.find(',');
    const auto field = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    const auto eq = field.find('=');
    if (eq == std::string_view::npos || eq == 0) return Errc::link_bad_field;
    auto value = decode(field.substr(eq + 1));
    if (!value || value->empty()) return Errc::link_bad_field;
    const auto name = field.substr(0, eq);
    if (name == "p") {
      auto peer = Endpoint::parse(*value);
      if (!peer || peer->port == 0) return Errc::link_bad_endpoint;
      link.peers.push_back(*peer);
    } else if (name == "t") {
      link.trackers.push_back(*value);
    }
    // Unknown fields are skipped, so newer links still work here.
  }
  return link;
}

}  // namespace p2plive
