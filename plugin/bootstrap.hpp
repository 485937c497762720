// The service's `server` text (trackers and HOST:PORT peers) and the viewer link made from it. Shared by
// the output, which links to the address it really bound, and the dock, which shows the link before going
// live; both must agree, so a link posted early still works.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "p2plive/endpoint.hpp"
#include "p2plive/key.hpp"

namespace p2plive::plugin {

struct Bootstrap {
  std::vector<Endpoint> peers;
  std::vector<std::string> trackers;
  std::vector<std::string> dht_nodes;  // dht://HOST:PORT entries: the DHT nodes to join through
  std::string error;  // localised; empty when every entry parsed
};

// `server` holds tracker URLs, HOST:PORT peers and dht://HOST:PORT bootstrap nodes (replacing BitTorrent's
// public routers), separated by any whitespace.
Bootstrap parse_server(std::string_view server);

struct ViewerLink {
  std::string text;
  bool local_only = false;  // no peer or tracker given and we listen on every address: loopback is all we know
};

// Without bootstrap peers the link names this node: `external`, the address the home router forwards to
// us, when it mapped the port; else (and only when there are no trackers either) `listen`, or 127.0.0.1
// when `listen` is 0.0.0.0.
ViewerLink make_viewer_link(const PublicKey& key, const Bootstrap& bootstrap, const Endpoint& listen,
                            const std::optional<Endpoint>& external = std::nullopt);

}  // namespace p2plive::plugin
