#include "media/id3.hpp"

#include <algorithm>

namespace p2plive {
namespace {

// Syncsafe integers: 7 bits a byte, so that a tag never holds a false MPEG sync pattern.
void put_syncsafe(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 21; shift >= 0; shift -= 7) out.push_back(static_cast<std::uint8_t>((v >> shift) & 0x7f));
}
std::optional<std::uint32_t> syncsafe(std::span<const std::uint8_t> b) {
  std::uint32_t v = 0;
  for (const auto byte : b) {
    if (byte & 0x80) return std::nullopt;
    v = v << 7 | byte;
  }
  return v;
}
std::uint32_t big_endian(std::span<const std::uint8_t> b) {
  std::uint32_t v = 0;
  for (const auto byte : b) v = v << 8 | byte;
  return v;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | cp >> 6);
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | cp >> 12);
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | cp >> 18);
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// UTF-16 (with a byte order mark, or big-endian without), surrogate pairs included, to UTF-8.
std::string from_utf16(std::span<const std::uint8_t> b, bool big) {
  if (b.size() >= 2 && ((b[0] == 0xff && b[1] == 0xfe) || (b[0] == 0xfe && b[1] == 0xff))) {
    big = b[0] == 0xfe;
    b = b.subspan(2);
  }
  std::string out;
  for (std::size_t i = 0; i + 1 < b.size(); i += 2) {
    std::uint32_t unit = big ? (b[i] << 8 | b[i + 1]) : (b[i + 1] << 8 | b[i]);
    if (unit == 0) break;
    if (unit >= 0xd800 && unit < 0xdc00 && i + 3 < b.size()) {
      const std::uint32_t low = big ? (b[i + 2] << 8 | b[i + 3]) : (b[i + 3] << 8 | b[i + 2]);
      if (low >= 0xdc00 && low < 0xe000) {
        unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
        i += 2;
      }
    }
    if (unit >= 0xd800 && unit < 0xe000) continue;  // a lone surrogate
    append_utf8(out, unit);
  }
  return out;
}

// The length of the valid UTF-8 sequence at s[i], or 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  return n;
}

}  // namespace

std::string clean_title(std::string_view text) {
  text = text.substr(0, text.find_first_of("\r\n"));
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto n = utf8_sequence(text, i);
    if (n == 0) {
      ++i;
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    const bool control = n == 1 && (c < 0x20 || c == 0x7f);
    if (!control) {
      if (out.size() + n > max_title_bytes) break;
      out.append(text.substr(i, n));
    } else if (c == '\t') {
      out += ' ';
    }
    i += n;
  }
  const auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  return out.substr(first, out.find_last_not_of(' ') - first + 1);
}

std::vector<std::uint8_t> id3_title_tag(std::string_view title) {
  const std::string text = clean_title(title);
  std::vector<std::uint8_t> tag{'I', 'D', '3', 4, 0, 0};
  const auto frame_size = static_cast<std::uint32_t>(1 + text.size());  // the encoding byte, then the text
  put_syncsafe(tag, 10 + frame_size);
  tag.insert(tag.end(), {'T', 'I', 'T', '2'});
  put_syncsafe(tag, frame_size);
  tag.insert(tag.end(), {0, 0, 3});  // no frame flags; encoding 3: UTF-8
  tag.insert(tag.end(), text.begin(), text.end());
  return tag;
}

std::optional<std::string> id3_title(std::span<const std::uint8_t> tag) {
  if (tag.size() < 10 || tag[0] != 'I' || tag[1] != 'D' || tag[2] != '3') return std::nullopt;
  const int version = tag[3];
  const std::uint8_t flags = tag[5];
  const auto size = syncsafe(tag.subspan(6, 4));
  if ((version != 3 && version != 4) || !size || *size > tag.size() - 10) return std::nullopt;
  if (flags & 0x80) return std::nullopt;  // unsynchronised as a whole: not what a broadcaster writes
  auto frames = tag.subspan(10, *size);
  if (flags & 0x40) {  // an extended header: skip it
    if (frames.size() < 4) return std::nullopt;
    const auto ext =
        version == 4 ? syncsafe(frames.subspan(0, 4)) : std::optional(big_endian(frames.subspan(0, 4)) + 4);
    if (!ext || *ext > frames.size()) return std::nullopt;
    frames = frames.subspan(*ext);
  }
  while (frames.size() >= 10 && frames[0] != 0) {
    const auto id = frames.subspan(0, 4);
    const auto frame_size =
        version == 4 ? syncsafe(frames.subspan(4, 4)) : std::optional(big_endian(frames.subspan(4, 4)));
    if (!frame_size || *frame_size > frames.size() - 10) return std::nullopt;
    const auto body = frames.subspan(10, *frame_size);
    if (std::equal(id.begin(), id.end(), "TIT2") && !body.empty()) {
      const auto text = body.subspan(1);
      std::string utf8;
      switch (body[0]) {
        case 0:  // ISO-8859-1
          for (const auto c : text) {
            if (c == 0) break;
            append_utf8(utf8, c);
          }
          break;
        case 1:
          utf8 = from_utf16(text, false);
          break;
        case 2:
          utf8 = from_utf16(text, true);
          break;
        case 3:
          utf8.assign(text.begin(), std::find(text.begin(), text.end(), std::uint8_t{0}));
          break;
        default:
          return std::nullopt;
      }
      return clean_title(utf8);
    }
    frames = frames.subspan(10 + *frame_size);
  }
  return std::nullopt;
}

}  // namespace p2plive
