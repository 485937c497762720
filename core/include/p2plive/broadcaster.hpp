// A broadcasting node: muxes encoded packets to MPEG-TS, cuts and signs chunks, and publishes them to the
// swarm over UDP. It runs on its own thread; push() only copies into a bounded queue and never blocks.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "p2plive/endpoint.hpp"
#include "p2plive/error.hpp"
#include "p2plive/key.hpp"
#include "p2plive/log.hpp"
#include "p2plive/media.hpp"
#include "p2plive/reachability.hpp"
#include "p2plive/stats.hpp"

namespace p2plive {

struct BroadcasterConfig {
  SecretKey key;
  Endpoint listen = Endpoint::v4(0, 0);   // 0.0.0.0:0 picks any free port
  std::vector<std::string> trackers{};
  std::filesystem::path stats_path{};     // empty: no stats file
  double upload_cap_bps = 0;              // 0: no cap; sends are paced at it, live pushes first
  bool port_mapping = true;               // ask the home router to forward the port (UPnP IGD, NAT-PMP)
  // The Mainline DHT: find (or be found by) the swarm with no tracker and no peer in the link. Off on a
  // loopback address unless bootstrap nodes are given; empty: BitTorrent's public routers.
  bool dht = true;
  std::vector<std::string> dht_bootstrap{};  // HOST:PORT
  // The stream carries track titles (timed ID3, set with set_now_playing): the program lists the metadata
  // stream from its first byte, so this is fixed at start.
  bool titles = false;
  std::size_t queue_limit_bytes = 16u << 20;
  MediaSink on_published{};               // optional: every published chunk, on the node's thread
  LogSink log{};
  // Chunks travel numbered with 32 bits; a session that lasts beyond this many (years, at 25 ms a chunk)
  // is followed by a new one, at the next join point. Tests lower it.
  std::uint64_t max_epoch_chunks = 0xfff00000u;
};

class Broadcaster {
 public:
  // Binds the socket and starts the node's thread. Fails with port_in_use, muxer_failed, ...
  static Result<std::unique_ptr<Broadcaster>> start(BroadcasterConfig config, std::vector<StreamInfo> streams);
  virtual ~Broadcaster() = default;

  // Thread-safe and non-blocking. When the queue is full it drops (video before audio) and returns false.
  virtual bool push(EncodedPacket packet) = 0;
  // Thread-safe: the track now playing (the first line, cleaned), stamped with the media time of the next
  // packet pushed. Ignored unless config.titles.
  virtual void set_now_playing(std::string title) = 0;
  // Flushes what is queued, says goodbye to peers and joins the thread. Safe to call twice.
  virtual void stop() = 0;
  virtual Stats stats() const = 0;
  virtual Endpoint local_endpoint() const = 0;
  // What the home router said about the port; `external`, when set, is the address to put in links.
  virtual Reachability reachability() const = 0;
};

}  // namespace p2plive
