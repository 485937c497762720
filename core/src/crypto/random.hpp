// Random numbers that strangers must not guess (session ids, epochs, tokens): libsodium's CSPRNG.
#pragma once

#include <cstdint>
#include <span>

namespace p2plive {

std::uint64_t secure_random_u64();
void secure_random_fill(std::span<std::uint8_t> out);

}  // namespace p2plive
