// A swarm with no server at all: the Mainline DHT (BEP 5, BEP 44), through libtorrent-rasterbar's DHT in a
// session with nothing else on (no torrents, no UPnP, no local discovery). Why libtorrent rather than our
// own: the DHT is an old, busy, hostile network, and its node has to get routing, token checks, throttles
// and BEP 44's storage rules right; libtorrent's has run on millions of machines for years.
//
// The broadcaster announces the swarm's info-hash (swarm_info_hash: its key, hashed) with its swarm port,
// and keeps a BEP 44 mutable item under its Ed25519 stream key, salt "p2plive", that lists its endpoints
// and epoch, re-published well before the DHT forgets it. A viewer with a key-only link reads the item and
// the announced peers; what the item says is signed by the stream key, what the announce says is not (it
// is only a hint, and the session handshake proves or refutes the broadcaster anyway).
//
// It runs on libtorrent's threads and one of its own; callbacks come on that thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "p2plive/endpoint.hpp"
#include "p2plive/error.hpp"
#include "p2plive/key.hpp"

namespace p2plive {

struct DhtConfig {
  Endpoint listen = Endpoint::v4(0, 0);  // the DHT's own UDP port (libtorrent opens TCP there too)
  std::vector<std::string> bootstrap;    // HOST:PORT; empty: BitTorrent's public routers
  bool private_network = false;          // nodes on loopback and private addresses count (test DHTs)
  std::function<void(const std::string&)> log;
};

// The BEP 44 value: where the broadcaster is, and which broadcast session.
struct StreamRecord {
  std::vector<Endpoint> endpoints;
  std::uint64_t epoch = 0;
  std::int64_t seq = 0;  // BEP 44's sequence number: newer records replace older ones
};
std::string encode_record(const StreamRecord& record);  // bencoded
std::optional<StreamRecord> decode_record(const std::string& bencoded);
// What BEP 44 signs: "4:salt<n>:<salt>3:seqi<seq>e1:v<value>".
std::string signed_part(const std::string& salt, std::int64_t seq, const std::string& value);

class MainlineDht {
 public:
  static Result<std::unique_ptr<MainlineDht>> start(DhtConfig config);
  virtual ~MainlineDht() = default;

  // The broadcaster: announce the swarm and keep the record (re-published every republish_interval, and at
  // once when it changes).
  virtual void publish(const SecretKey& key, std::uint16_t swarm_port, std::vector<Endpoint> endpoints,
                       std::uint64_t epoch) = 0;
  // A viewer: look the stream up every lookup_interval until it has what it needs; `found` gets the
  // endpoints of each answer (signed: from the item; not: announced peers).
  using FoundFn = std::function<void(std::vector<Endpoint> endpoints, bool signed_record)>;
  virtual void lookup(const PublicKey& key, FoundFn found) = 0;
  virtual void stop_lookup() = 0;
  virtual std::size_t nodes() const = 0;  // in the routing table
  virtual Endpoint local_endpoint() const = 0;
};

}  // namespace p2plive
