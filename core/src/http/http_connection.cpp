#include "http/http_connection.hpp"

#include <asio/read_until.hpp>
#include <asio/write.hpp>
#include <istream>

namespace p2plive::http {
namespace {

constexpr std::size_t max_request_head_bytes = 8 * 1024;
// A client that has not sent its request head this long after connecting is idle, and closed.
constexpr auto request_timeout = std::chrono::seconds(5);

}  // namespace

std::optional<Request> parse_request_line(std::string_view line) {
  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return std::nullopt;
  const auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return std::nullopt;
  Request r{std::string(line.substr(0, sp1)), std::string(line.substr(sp1 + 1, sp2 - sp1 - 1))};
  if (r.method != "GET" && r.method != "HEAD") return std::nullopt;
  if (!line.substr(sp2 + 1).starts_with("HTTP/1.")) return std::nullopt;
  if (r.path.empty() || r.path[0] != '/') return std::nullopt;
  if (const auto q = r.path.find_first_of("?#"); q != std::string::npos) r.path.resize(q);
  return r;
}

Connection::Connection(asio::ip::tcp::socket socket, std::size_t max_queue_bytes)
    : socket_(std::move(socket)),
      request_timer_(socket_.get_executor()),
      request_buffer_(max_request_head_bytes),
      max_queue_bytes_(max_queue_bytes) {
  std::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  // A fixed kernel send buffer (instead of one that grows to megabytes) keeps a stalled client's backlog
  // in our bounded queue, where it is counted and the client dropped.
  socket_.set_option(asio::socket_base::send_buffer_size(256 * 1024), ignored);
}

void Connection::read_request(RequestFn on_request) {
  auto self = shared_from_this();
  request_timer_.expires_after(request_timeout);
  request_timer_.async_wait([self](std::error_code ec) {
    if (!ec) self->close();
  });
  asio::async_read_until(socket_, request_buffer_, "\r\n\r\n",
                         [self, on_request = std::move(on_request)](std::error_code ec, std::size_t) {
                           self->request_timer_.cancel();
                           if (ec || self->closed_) {
                             self->close();  // hung up, timed out, or a head larger than the limit
                             on_request(self, std::nullopt);
                             return;
                           }
                           std::istream in(&self->request_buffer_);
                           std::string line;
                           std::getline(in, line);
                           if (!line.empty() && line.back() == '\r') line.pop_back();
                           on_request(self, parse_request_line(line));
                         });
}

bool Connection::send(SharedBytes bytes) {
  if (closed_) return false;
  if (queued_bytes_ + bytes->size() > max_queue_bytes_) return false;
  queued_bytes_ += bytes->size();
  queue_.push_back(std::move(bytes));
  write_next();
  return true;
}

void Connection::send_unbounded(SharedBytes bytes) {
  if (closed_) return;
  queued_bytes_ += bytes->size();
  queue_.push_back(std::move(bytes));
  write_next();
}

void Connection::send_unbounded(std::string text) {
  send_unbounded(std::make_shared<const std::vector<std::uint8_t>>(text.begin(), text.end()));
}

void Connection::finish() {
  finishing_ = true;
  write_next();
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  queue_.clear();
  queued_bytes_ = 0;
  request_timer_.cancel();
  std::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

void Connection::watch_for_hangup(std::function<void()> on_hangup) {
  // Whatever the client sends after its request is read and ignored; the read ends when it hangs up.
  socket_.async_read_some(asio::buffer(discard_),
                          [self = shared_from_this(), on_hangup = std::move(on_hangup)](std::error_code ec, std::size_t) {
                            if (self->closed_) return;
                            if (ec) {
                              self->close();
                              on_hangup();
                              return;
                            }
                            self->watch_for_hangup(on_hangup);
                          });
}

void Connection::write_next() {
  if (writing_ || closed_) return;
  if (queue_.empty()) {
    if (finishing_) {
      std::error_code ignored;
      socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
      close();
    }
    return;
  }
  writing_ = true;
  auto front = queue_.front();
  asio::async_write(socket_, asio::buffer(*front), [self = shared_from_this(), front](std::error_code ec, std::size_t) {
    self->writing_ = false;
    if (self->closed_) return;
    if (ec) {
      self->close();
      return;
    }
    self->queued_bytes_ -= front->size();
    self->queue_.pop_front();
    self->write_next();
  });
}

}  // namespace p2plive::http
