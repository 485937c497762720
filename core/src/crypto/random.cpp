#include "crypto/random.hpp"

#include <sodium.h>

namespace p2plive {

std::uint64_t secure_random_u64() {
  std::uint64_t v = 0;
  randombytes_buf(&v, sizeof v);
  return v;
}

void secure_random_fill(std::span<std::uint8_t> out) { randombytes_buf(out.data(), out.size()); }

}  // namespace p2plive
