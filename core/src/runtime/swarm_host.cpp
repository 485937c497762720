#include "runtime/swarm_host.hpp"

#include <asio/ip/address.hpp>

#include "runtime/clock.hpp"

namespace p2plive {
namespace {

Endpoint to_endpoint(const asio::ip::udp::endpoint& e) {
  Endpoint out;
  const auto address = e.address();
  const auto v6 = address.is_v4() ? asio::ip::make_address_v6(asio::ip::v4_mapped, address.to_v4())
                                  : address.to_v6();
  out.address = v6.to_bytes();
  out.port = e.port();
  return out;
}

asio::ip::udp::endpoint to_asio(const Endpoint& e, bool socket_is_v4) {
  asio::ip::address_v6 v6(e.address);
  if (socket_is_v4 && v6.is_v4_mapped()) return {asio::ip::make_address_v4(asio::ip::v4_mapped, v6), e.port};
  return {v6, e.port};
}

constexpr int socket_buffer_bytes = 4 << 20;

}  // namespace

Result<std::unique_ptr<SwarmHost>> SwarmHost::open(asio::io_context& io, const Endpoint& listen, SwarmConfig config,
                                                   EventFn on_event) {
  const auto local = to_asio(listen, listen.is_v4());
  asio::ip::udp::socket socket(io);
  std::error_code ec;
  socket.open(local.protocol(), ec);
  if (ec) return Errc::socket_failed;
  socket.bind(local, ec);
  if (ec == asio::error::address_in_use) return Errc::port_in_use;
  if (ec) return Errc::socket_failed;
  socket.non_blocking(true, ec);
  // Bursts of fragments to several children must not overflow the kernel's buffers; failures are harmless.
  socket.set_option(asio::socket_base::send_buffer_size(socket_buffer_bytes), ec);
  socket.set_option(asio::socket_base::receive_buffer_size(socket_buffer_bytes), ec);
  return std::make_unique<SwarmHost>(io, std::move(socket), std::move(config), std::move(on_event));
}

SwarmHost::SwarmHost(asio::io_context& io, asio::ip::udp::socket socket, SwarmConfig config, EventFn on_event)
    : socket_(std::move(socket)), timer_(io), swarm_(std::move(config)), on_event_(std::move(on_event)) {
  std::error_code ec;
  local_ = to_endpoint(socket_.local_endpoint(ec));
  v4_ = socket_.local_endpoint(ec).address().is_v4();
  receive();
  swarm_.handle_timeout(steady_now());
  pump();
}

void SwarmHost::receive() {
  socket_.async_receive_from(asio::buffer(buffer_), sender_, [this](std::error_code ec, std::size_t size) {
    if (ec == asio::error::operation_aborted || closed_) return;
    if (!ec) on_datagram(sender_, size);
    // Drain whatever else is queued without going back through the reactor.
    for (int i = 0; i < 256; ++i) {
      std::error_code rec;
      const auto n = socket_.receive_from(asio::buffer(buffer_), sender_, 0, rec);
      if (rec == asio::error::would_block) break;
      if (rec) continue;  // ICMP errors (a peer went away) are not fatal
      on_datagram(sender_, n);
    }
    pump();
    receive();
  });
}

void SwarmHost::on_datagram(const asio::ip::udp::endpoint& from, std::size_t size) {
  swarm_.handle_datagram(to_endpoint(from), std::span<const std::uint8_t>(buffer_.data(), size), steady_now());
}

void SwarmHost::pump() {
  if (closed_) return;
  while (auto t = swarm_.poll_transmit(steady_now())) {
    std::error_code ec;
    socket_.send_to(asio::buffer(t->bytes), to_asio(t->to, v4_), 0, ec);
    if (ec) ++send_errors_;  // UDP: a full buffer or an unreachable peer loses this datagram only
  }
  while (auto e = swarm_.poll_event()) {
    if (on_event_) on_event_(std::move(*e));
  }
  arm_timer();
}

void SwarmHost::arm_timer() {
  const auto deadline = swarm_.poll_timeout();
  const auto delay = std::max(Time{0}, deadline - steady_now());
  timer_.expires_after(delay);
  timer_.async_wait([this](std::error_code ec) {
    if (ec == asio::error::operation_aborted || closed_) return;
    swarm_.handle_timeout(steady_now());
    pump();
  });
}

void SwarmHost::close() {
  if (closed_) return;
  swarm_.close(steady_now());
  pump();
  closed_ = true;
  std::error_code ec;
  timer_.cancel();
  socket_.close(ec);
}

}  // namespace p2plive
