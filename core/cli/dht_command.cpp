// dht-node: a Mainline DHT node with no swarm, for a DHT of your own (tests, a LAN) to bootstrap from.
#include <cstdio>

#include "commands.hpp"
#include "console.hpp"
#include "p2plive/dht_node.hpp"

namespace p2plive::cli {

Command add_dht_node(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("dht-node", "Run a Mainline DHT node only (a bootstrap node for a DHT of your own)");
  struct Options {
    std::string listen = "0.0.0.0:6881";
    std::vector<std::string> bootstrap;
    bool verbose = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--listen", o->listen, "UDP HOST:PORT for the DHT")->capture_default_str();
  cmd->add_option("--dht-bootstrap", o->bootstrap,
                  "DHT node HOST:PORT to join through (repeatable; replaces BitTorrent's public routers)");
  cmd->add_flag("--verbose", o->verbose, "Also print informational messages");
  return [o] {
    auto listen = Endpoint::parse(o->listen);
    if (!listen) return fail("--listen " + o->listen, listen.error());
    block_stop_signals();
    auto node = DhtNode::start(*listen, o->bootstrap, stderr_log(o->verbose));
    if (!node) return fail("dht-node on " + o->listen, node.error());
    std::printf("%s\n", (*node)->local_endpoint().to_string().c_str());
    std::fflush(stdout);
    wait_until_stopped(std::nullopt);
    return 0;
  };
}

}  // namespace p2plive::cli
