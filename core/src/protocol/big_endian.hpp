// Network byte order for the codecs (wire, session framing, trackers): appending and reading integers
// of 1 to 8 bytes, most significant first. Reading never checks bounds; the caller has.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace p2plive {

inline void put_be(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

inline std::uint64_t get_be(std::span<const std::uint8_t> in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | in[at + static_cast<std::size_t>(i)];
  return v;
}

}  // namespace p2plive
