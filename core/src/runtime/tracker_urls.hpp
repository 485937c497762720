// Tracker URLs from links and the command line, turned into the endpoints the swarm announces to. Only UDP
// trackers (BEP 15) are spoken: udp://HOST:PORT, with an optional path such as /announce. Host names are
// resolved here, at the edge, once, when a node starts; the sans-IO swarm only ever sees addresses.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "p2plive/endpoint.hpp"
#include "p2plive/error.hpp"

namespace p2plive {

struct TrackerUrl {
  std::string host;
  std::uint16_t port = 0;
};

// Errors: tracker_bad_url.
Result<TrackerUrl> parse_tracker_url(std::string_view url);
// Errors: tracker_bad_url, tracker_unresolved. Returns the first address the host resolves to.
Result<Endpoint> resolve_tracker(std::string_view url);

}  // namespace p2plive
