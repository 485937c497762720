// One HTTP client on the node's io_context. It reads one GET (or HEAD) request, then the server answers
// with a whole response or a live stream. Writes go through a bounded queue: a client that reads too
// slowly is dropped, so it can never hold up the node's thread or the other clients.
#pragma once

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <array>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/live_buffer.hpp"

namespace p2plive::http {

struct Request {
  std::string method;  // "GET" or "HEAD"
  std::string path;    // without the query string
};

// "GET /x?y HTTP/1.1" -> {GET, /x}; nullopt for anything else.
std::optional<Request> parse_request_line(std::string_view line);

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using RequestFn = std::function<void(const std::shared_ptr<Connection>&, const std::optional<Request>&)>;

  Connection(asio::ip::tcp::socket socket, std::size_t max_queue_bytes);

  // Reads the request head (bounded in size and time) and hands it over: nullopt if it was malformed, or
  // if the client hung up or timed out (then closed() is true).
  void read_request(RequestFn on_request);
  // Queues bytes; false (and nothing queued) if that would pass the queue limit.
  bool send(SharedBytes bytes);
  // Queues a whole response's part whatever the limit: responses are bounded by what they serve.
  void send_unbounded(SharedBytes bytes);
  void send_unbounded(std::string text);
  // A stream client gets its backlog (from the last join point) on top of the usual limit.
  void set_queue_limit(std::size_t bytes) { max_queue_bytes_ = bytes; }
  // Closes once the queue is written.
  void finish();
  // Closes now, dropping whatever is queued.
  void close();
  // After a streaming response starts: notices the client hanging up even while nothing is sent.
  void watch_for_hangup(std::function<void()> on_hangup);
  bool closed() const { return closed_; }
  std::size_t queued_bytes() const { return queued_bytes_; }

 private:
  void write_next();

  asio::ip::tcp::socket socket_;
  asio::steady_timer request_timer_;
  asio::streambuf request_buffer_;
  std::size_t max_queue_bytes_;
  std::deque<SharedBytes> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool finishing_ = false;
  bool closed_ = false;
  std::array<char, 512> discard_{};
};

}  // namespace p2plive::http
