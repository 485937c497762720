// The viewer's local HTTP server, on the node's own io_context (so it shares the node's one thread and
// needs no locks):
//   /stream.ts   live MPEG-TS from the latest join point, to any number of clients (up to max_clients)
//   /live.m3u8   live HLS, segments cut at join points; /seg/N.ts are the segments
//   /stats.json  the node's stats
//   /            the web player (the embedded files of data/web)
// Each client has a bounded send queue; one that falls max_client_queue_bytes behind is dropped.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <span>
#include <string>

#include "http/hls_window.hpp"
#include "http/http_connection.hpp"
#include "http/live_buffer.hpp"
#include "p2plive/endpoint.hpp"
#include "p2plive/error.hpp"
#include "p2plive/log.hpp"

namespace p2plive::http {

struct ServerConfig {
  Endpoint listen = Endpoint::loopback(0);
  bool any_port_if_busy = false;  // take a free port when listen's port is in use
  std::size_t max_client_queue_bytes = 4 * 1024 * 1024;
  std::size_t max_clients = 64;
  std::string allow_origin{};  // Access-Control-Allow-Origin, sent only when set (no cross-origin reads by default)
  LogSink log{};
};

class Server {
 public:
  using StatsFn = std::function<std::string()>;  // a JSON object; called on the io thread

  // Fails with std::errc::address_in_use, or another system error from bind/listen.
  static Result<std::unique_ptr<Server>> open(asio::io_context& io, ServerConfig config, StatsFn stats);

  Server(asio::ip::tcp::acceptor acceptor, ServerConfig config, StatsFn stats);
  // Everything below runs on the io thread.
  void push(std::span<const std::uint8_t> ts_bytes, bool join_point, std::uint64_t timestamp_us);
  // The same without a copy: the bytes are shared with whoever else holds them (the viewer's chunk store).
  void push(SharedBytes ts_bytes, bool join_point, std::uint64_t timestamp_us);
  // The broadcaster started a new session: what follows begins at its first join point, with timestamps
  // of their own. New clients start there; HLS marks a discontinuity.
  void new_session();
  void close();
  Endpoint local_endpoint() const { return local_; }
  std::size_t stream_clients() const { return streams_.size(); }
  std::uint64_t clients_dropped() const { return clients_dropped_; }

 private:
  void accept();
  void route(const std::shared_ptr<Connection>& client, const Request& request);
  void start_stream(const std::shared_ptr<Connection>& client, bool head_only);
  void respond(const std::shared_ptr<Connection>& client, bool head_only, int status, std::string_view type,
               std::span<const SharedBytes> body);
  void respond_text(const std::shared_ptr<Connection>& client, bool head_only, int status, std::string_view type,
                    std::string body);
  void forget(const std::shared_ptr<Connection>& client);
  void log(LogLevel level, const std::string& text) const {
    if (config_.log) config_.log(level, text);
  }

  asio::ip::tcp::acceptor acceptor_;
  ServerConfig config_;
  StatsFn stats_;
  Endpoint local_;
  JoinBuffer join_buffer_;
  HlsWindow hls_;
  std::list<std::shared_ptr<Connection>> streams_;   // /stream.ts clients that have been sent the head
  std::list<std::shared_ptr<Connection>> waiting_;   // /stream.ts clients waiting for the first join point
  std::size_t open_connections_ = 0;
  // Connections still sending their request head, oldest first. When they fill every slot, the oldest
  // makes way for the newcomer: idle connections cannot lock players out, a real request takes microseconds.
  std::list<std::weak_ptr<Connection>> reading_;
  std::uint64_t clients_dropped_ = 0;
  bool closed_ = false;
};

}  // namespace p2plive::http
