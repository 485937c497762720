#include "http/http_server.hpp"

#include <charconv>

#include "http/web_assets.hpp"

namespace p2plive::http {
namespace {

asio::ip::tcp::endpoint to_asio(const Endpoint& e) {
  asio::ip::address_v6 v6(e.address);
  if (v6.is_v4_mapped()) return {asio::ip::make_address_v4(asio::ip::v4_mapped, v6), e.port};
  return {v6, e.port};
}

Endpoint from_asio(const asio::ip::tcp::endpoint& e) {
  const auto a = e.address();
  const auto v6 = a.is_v4() ? asio::ip::make_address_v6(asio::ip::v4_mapped, a.to_v4()) : a.to_v6();
  Endpoint out;
  out.address = v6.to_bytes();
  out.port = e.port();
  return out;
}

std::error_code bind_listen(asio::ip::tcp::acceptor& acceptor, const asio::ip::tcp::endpoint& where) {
  std::error_code ec;
  acceptor.open(where.protocol(), ec);
  if (ec) return ec;
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  acceptor.bind(where, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) acceptor.close();
  return ec;
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

// Close-delimited responses (Connection: close): a live stream has no length, and one request per
// connection keeps the server small. No other origin may read them unless the user named it: a page
// elsewhere would otherwise read the stream and the stats (which name the viewer's peers).
std::string head(int status, std::string_view type, std::optional<std::size_t> length, std::string_view allow_origin) {
  std::string h = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\nContent-Type: ";
  h += type;
  h += "\r\nCache-Control: no-cache, no-store\r\n";
  if (!allow_origin.empty()) {
    h += "Access-Control-Allow-Origin: ";
    h += allow_origin;
    h += "\r\nVary: Origin\r\n";
  }
  h += "Connection: close\r\n";
  if (length) h += "Content-Length: " + std::to_string(*length) + "\r\n";
  return h + "\r\n";
}

std::optional<std::uint64_t> segment_index(std::string_view path) {
  constexpr std::string_view prefix = "/seg/", suffix = ".ts";
  if (!path.starts_with(prefix) || !path.ends_with(suffix)) return std::nullopt;
  const auto digits = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  std::uint64_t index = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty()) return std::nullopt;
  return index;
}

}  // namespace

Result<std::unique_ptr<Server>> Server::open(asio::io_context& io, ServerConfig config, StatsFn stats) {
  asio::ip::tcp::acceptor acceptor(io);
  auto where = to_asio(config.listen);
  auto ec = bind_listen(acceptor, where);
  if (ec == asio::error::address_in_use && config.any_port_if_busy) {
    where.port(0);
    ec = bind_listen(acceptor, where);
  }
  // asio has its own error category; callers test for the standard condition.
  if (ec == asio::error::address_in_use) return std::make_error_code(std::errc::address_in_use);
  if (ec) return ec;
  auto server = std::make_unique<Server>(std::move(acceptor), std::move(config), std::move(stats));
  server->accept();
  return server;
}

Server::Server(asio::ip::tcp::acceptor acceptor, ServerConfig config, StatsFn stats)
    : acceptor_(std::move(acceptor)), config_(std::move(config)), stats_(std::move(stats)) {
  local_ = from_asio(acceptor_.local_endpoint());
}

void Server::accept() {
  acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket socket) {
    if (closed_ || ec == asio::error::operation_aborted) return;
    if (!ec) {
      auto client = std::make_shared<Connection>(std::move(socket), config_.max_client_queue_bytes);
      reading_.remove_if([](const std::weak_ptr<Connection>& w) { return w.expired(); });
      if (open_connections_ >= config_.max_clients && !reading_.empty()) {
        if (auto oldest = reading_.front().lock()) oldest->close();  // its read completes, and frees the slot
        reading_.pop_front();
      }
      if (open_connections_ >= config_.max_clients + 1) {
        respond_text(client, false, 503, "text/plain", "too many clients\n");
      } else {
        ++open_connections_;
        reading_.push_back(client);
        client->read_request([this](const std::shared_ptr<Connection>& c, const std::optional<Request>& request) {
          --open_connections_;
          reading_.remove_if([&](const std::weak_ptr<Connection>& w) { return w.expired() || w.lock() == c; });
          if (closed_ || c->closed()) return;
          if (!request) return respond_text(c, false, 400, "text/plain", "bad request\n");
          route(c, *request);
        });
      }
    }
    accept();  // errors such as too many open files are transient; keep accepting
  });
}

void Server::route(const std::shared_ptr<Connection>& client, const Request& request) {
  const bool head_only = request.method == "HEAD";
  const auto& path = request.path;
  if (path == "/stream.ts") return start_stream(client, head_only);
  if (path == "/stats.json") return respond_text(client, head_only, 200, "application/json", stats_() + "\n");
  if (path == "/live.m3u8") {
    if (auto playlist = hls_.playlist())
      return respond_text(client, head_only, 200, "application/vnd.apple.mpegurl", std::move(*playlist));
    return respond_text(client, head_only, 503, "text/plain", "no segment yet; try again in a second\n");
  }
  if (auto index = segment_index(path)) {
    if (const auto* chunks = hls_.segment(*index)) return respond(client, head_only, 200, "video/mp2t", *chunks);
    return respond_text(client, head_only, 404, "text/plain", "segment no longer in the window\n");
  }
  if (const auto* asset = find_web_asset(path == "/" ? "/index.html" : path)) {
    auto body = std::make_shared<const std::vector<std::uint8_t>>(asset->bytes.begin(), asset->bytes.end());
    const SharedBytes parts[] = {body};
    return respond(client, head_only, 200, asset->content_type, parts);
  }
  respond_text(client, head_only, 404, "text/plain", "not found\n");
}

void Server::respond(const std::shared_ptr<Connection>& client, bool head_only, int status, std::string_view type,
                     std::span<const SharedBytes> body) {
  std::size_t length = 0;
  for (const auto& part : body) length += part->size();
  client->send_unbounded(head(status, type, length, config_.allow_origin));
  if (!head_only)
    for (const auto& part : body) client->send_unbounded(part);
  client->finish();
}

void Server::respond_text(const std::shared_ptr<Connection>& client, bool head_only, int status,
                          std::string_view type, std::string body) {
  auto bytes = std::make_shared<const std::vector<std::uint8_t>>(body.begin(), body.end());
  const SharedBytes parts[] = {bytes};
  respond(client, head_only, status, type, parts);
}

void Server::start_stream(const std::shared_ptr<Connection>& client, bool head_only) {
  if (head_only) {
    client->send_unbounded(head(200, "video/mp2t", std::nullopt, config_.allow_origin));
    return client->finish();
  }
  if (streams_.size() + waiting_.size() >= config_.max_clients)
    return respond_text(client, false, 503, "text/plain", "too many stream clients\n");
  client->send_unbounded(head(200, "video/mp2t", std::nullopt, config_.allow_origin));
  client->watch_for_hangup([this, weak = std::weak_ptr<Connection>(client)] {
    if (auto c = weak.lock()) forget(c);
  });
  const auto& backlog = join_buffer_.since_join_point();
  if (backlog.empty()) {
    waiting_.push_back(client);
    return;
  }
  // The backlog goes out in one burst, so the player starts at once; the queue limit counts from there.
  client->set_queue_limit(config_.max_client_queue_bytes + join_buffer_.bytes());
  for (const auto& chunk : backlog) client->send_unbounded(chunk);
  streams_.push_back(client);
}

void Server::forget(const std::shared_ptr<Connection>& client) {
  streams_.remove(client);
  waiting_.remove(client);
}

void Server::push(std::span<const std::uint8_t> ts_bytes, bool join_point, std::uint64_t timestamp_us) {
  push(std::make_shared<const std::vector<std::uint8_t>>(ts_bytes.begin(), ts_bytes.end()), join_point, timestamp_us);
}

void Server::push(SharedBytes chunk, bool join_point, std::uint64_t timestamp_us) {
  if (closed_) return;
  join_buffer_.push(chunk, join_point);
  hls_.push(chunk, join_point, timestamp_us);
  if (join_point) streams_.splice(streams_.end(), waiting_);
  for (auto it = streams_.begin(); it != streams_.end();) {
    auto& client = *it;
    if (!client->closed() && client->send(chunk)) {
      ++it;
      continue;
    }
    if (!client->closed()) {
      ++clients_dropped_;
      log(LogLevel::info, "http: dropped a /stream.ts client that fell " +
                              std::to_string(client->queued_bytes() / 1024) + " KiB behind");
      client->close();
    }
    it = streams_.erase(it);
  }
}

void Server::new_session() {
  join_buffer_ = JoinBuffer{};
  hls_.start_over();
}

void Server::close() {
  if (closed_) return;
  closed_ = true;
  std::error_code ignored;
  acceptor_.close(ignored);
  for (auto& c : streams_) c->close();
  for (auto& c : waiting_) c->close();
  streams_.clear();
  waiting_.clear();
}

}  // namespace p2plive::http
