// A Mainline DHT node on its own, with no swarm (`p2plive dht-node`): a bootstrap node for a DHT of your
// own (a LAN, a test), or one more node for the public one.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "p2plive/endpoint.hpp"
#include "p2plive/error.hpp"
#include "p2plive/log.hpp"

namespace p2plive {

class DhtNode {
 public:
  // `bootstrap` empty: BitTorrent's public routers; otherwise those nodes only, and addresses on loopback
  // and private networks count as nodes (they do not in the public DHT).
  static Result<std::unique_ptr<DhtNode>> start(const Endpoint& listen, std::vector<std::string> bootstrap,
                                                LogSink log);
  virtual ~DhtNode() = default;
  virtual Endpoint local_endpoint() const = 0;
  virtual std::size_t nodes() const = 0;  // in its routing table
};

}  // namespace p2plive
