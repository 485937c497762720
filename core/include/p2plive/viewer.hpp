// A viewing (or relaying) node: joins the swarm from a link, verifies every chunk, forwards it to other
// viewers, and hands the in-order MPEG-TS stream, starting at a join point, to its media sink.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "p2plive/endpoint.hpp"
#include "p2plive/error.hpp"
#include "p2plive/link.hpp"
#include "p2plive/log.hpp"
#include "p2plive/media.hpp"
#include "p2plive/reachability.hpp"
#include "p2plive/stats.hpp"

namespace p2plive {

struct ViewerConfig {
  Link link;
  Endpoint listen = Endpoint::v4(0, 0);
  bool relay = false;                     // relays don't play; they still verify and forward
  double upload_cap_bps = 0;              // 0: no cap; sends are paced at it, live pushes first
  bool no_upload = false;                 // forward nothing: take no children, answer no repairs
  bool port_mapping = true;               // ask the home router to forward the port (UPnP IGD, NAT-PMP)
  // The Mainline DHT: find (or be found by) the swarm with no tracker and no peer in the link. Off on a
  // loopback address unless bootstrap nodes are given; empty: BitTorrent's public routers.
  bool dht = true;
  std::vector<std::string> dht_bootstrap{};  // HOST:PORT
  std::filesystem::path stats_path{};
  MediaSink sink{};
  LogSink log{};
  // Serve the stream to local players over HTTP: /stream.ts, /live.m3u8, /stats.json and a web page.
  std::optional<Endpoint> http{};
  bool http_any_port_if_busy = false;                      // take a free port if http's is in use
  std::size_t http_client_queue_bytes = 4 * 1024 * 1024;   // a client that falls this far behind is dropped
  // A web origin (https://example.org) whose pages may read the stream and the stats; empty: none, only
  // the viewer's own page. Any page may otherwise read a local viewer, as its stats name its peers.
  std::string http_allow_origin{};
};

// What a viewer's status line and web page show, refreshed once a second with the stats.
struct ViewerStatus {
  Stats stats;
  double down_kbit_s = 0;
  double up_kbit_s = 0;
  double on_time_percent = 100;   // chunks played / (played + skipped as missing)
  double behind_live_ms = 0;      // now minus the broadcast time of the last chunk handed to players
  double buffer_ms = 0;           // stream time verified but held back, waiting for a missing chunk
  std::uint64_t http_clients = 0;
  std::uint64_t http_clients_dropped = 0;
  bool started = false;           // playback has begun (a join point arrived)
  std::string media;              // "audio" (sound alone), "video", or "" until the stream's program map came
  std::string link;               // the link this node watches, for the page to show and share
};

class Viewer {
 public:
  static Result<std::unique_ptr<Viewer>> start(ViewerConfig config);
  virtual ~Viewer() = default;
  virtual void stop() = 0;
  virtual Stats stats() const = 0;
  virtual Endpoint local_endpoint() const = 0;
  virtual Reachability reachability() const = 0;
  virtual ViewerStatus status() const = 0;
  // Where the HTTP server listens, when config.http was set.
  virtual std::optional<Endpoint> http_endpoint() const = 0;
};

// The stats and status as one JSON object: the --stats line's fields plus the status figures.
std::string to_json(const ViewerStatus& status, std::int64_t unix_ms);

}  // namespace p2plive
