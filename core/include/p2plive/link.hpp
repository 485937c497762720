// The viewer link: the public key plus bootstrap peers and trackers, as one shell-safe line.
//   p2plive:1:<viewer key>[,p=<host:port>]...[,t=<percent-encoded tracker URL>]...
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "p2plive/endpoint.hpp"
#include "p2plive/error.hpp"
#include "p2plive/key.hpp"

namespace p2plive {

struct Link {
  PublicKey key;
  std::vector<Endpoint> peers;
  std::vector<std::string> trackers;

  std::string to_string() const;
  static Result<Link> parse(std::string_view text);
};

}  // namespace p2plive
