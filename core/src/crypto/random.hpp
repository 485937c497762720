// Random numbers that strangers must not guess (session ids, epochs, tokens): libsodium's CSPRNG.
#pragma once

#include <cstdint>

namespace p2plive {

std::uint64_t secure_random_u64();

}  // namespace p2plive
