// A viewing (or relaying) node: joins the swarm from a link, verifies every chunk, forwards it to other
// viewers, and hands the in-order MPEG-TS stream, starting at a join point, to its media sink.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "p2plive/endpoint.hpp"
#include "p2plive/error.hpp"
#include "p2plive/link.hpp"
#include "p2plive/log.hpp"
#include "p2plive/media.hpp"
#include "p2plive/stats.hpp"

namespace p2plive {

struct ViewerConfig {
  Link link;
  Endpoint listen = Endpoint::v4(0, 0);
  bool relay = false;                     // relays don't play; they still verify and forward
  std::filesystem::path stats_path{};
  MediaSink sink{};
  LogSink log{};
};

class Viewer {
 public:
  static Result<std::unique_ptr<Viewer>> start(ViewerConfig config);
  virtual ~Viewer() = default;
  virtual void stop() = 0;
  virtual Stats stats() const = 0;
  virtual Endpoint local_endpoint() const = 0;
};

}  // namespace p2plive
