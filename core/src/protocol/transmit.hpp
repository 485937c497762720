// A datagram for the driver to send: what every layer of the protocol hands out.
#pragma once

#include <cstdint>
#include <vector>

#include "p2plive/endpoint.hpp"

namespace p2plive {

struct Transmit {
  Endpoint to;
  std::vector<std::uint8_t> bytes;
};

}  // namespace p2plive
