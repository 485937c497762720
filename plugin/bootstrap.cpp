#include "bootstrap.hpp"

#include <algorithm>

#include <obs-module.h>

#include "obs-log.hpp"
#include "p2plive/link.hpp"

namespace p2plive::plugin {

Bootstrap parse_server(std::string_view server) {
  Bootstrap bootstrap;
  constexpr std::string_view spaces = " \t\r\n";
  std::size_t pos = 0;
  while ((pos = server.find_first_not_of(spaces, pos)) != std::string_view::npos) {
    const std::size_t end = std::min(server.find_first_of(spaces, pos), server.size());
    const std::string_view entry = server.substr(pos, end - pos);
    pos = end;
    constexpr std::string_view dht_scheme = "dht://";
    if (entry.substr(0, dht_scheme.size()) == dht_scheme) {
      const auto node = entry.substr(dht_scheme.size());
      if (auto parsed = Endpoint::parse(node); !parsed) {
        bootstrap.error = format_message(obs_module_text("P2PLive.Error.BadServer"),
                                         std::string(entry).c_str(), parsed.error().message().c_str());
        return bootstrap;
      }
      bootstrap.dht_nodes.emplace_back(node);
      continue;
    }
    if (entry.find("://") != std::string_view::npos) {
      bootstrap.trackers.emplace_back(entry);
      continue;
    }
    auto peer = Endpoint::parse(entry);
    if (!peer) {
      bootstrap.error = format_message(obs_module_text("P2PLive.Error.BadServer"), std::string(entry).c_str(),
                                       peer.error().message().c_str());
      return bootstrap;
    }
    bootstrap.peers.push_back(*peer);
  }
  return bootstrap;
}

ViewerLink make_viewer_link(const PublicKey& key, const Bootstrap& bootstrap, const Endpoint& listen,
                            const std::optional<Endpoint>& external) {
  ViewerLink result;
  Link link{key, bootstrap.peers, bootstrap.trackers};
  if (link.peers.empty() && external) {
    link.peers.push_back(*external);
  } else if (link.peers.empty() && link.trackers.empty()) {
    Endpoint reachable = listen;
    if (listen.is_unspecified()) {
      reachable = Endpoint::loopback(listen.port);
      result.local_only = true;
    }
    link.peers.push_back(reachable);
  }
  result.text = link.to_string();
  return result;
}

}  // namespace p2plive::plugin
