#include "runtime/udp_socket.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

namespace p2plive {
namespace {

constexpr int socket_buffer_bytes = 4 << 20;
constexpr int send_attempts = 4;  // each failed attempt clears one pending error

// asio's errors, as send_to reports them (standalone asio's system category does not compare equal to
// std::errc).
bool is_pending_icmp_error(const std::error_code& ec) {
  return ec == asio::error::connection_refused || ec == asio::error::host_unreachable ||
         ec == asio::error::network_unreachable;
}

}  // namespace

Result<asio::ip::udp::socket> open_swarm_socket(asio::io_context& io, const asio::ip::udp::endpoint& local) {
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
  // Kernel receive times, for the delay measurements of congestion control (harmless if refused).
  const int on = 1;
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  // ICMP errors with the address they concern: a peer whose process died answers "port unreachable".
  if (local.address().is_v4()) ::setsockopt(socket.native_handle(), SOL_IP, IP_RECVERR, &on, sizeof on);
  else ::setsockopt(socket.native_handle(), SOL_IPV6, IPV6_RECVERR, &on, sizeof on);
  return socket;
}

bool send_datagram(asio::ip::udp::socket& socket, std::span<const std::uint8_t> bytes,
                   const asio::ip::udp::endpoint& to, const std::function<void()>& on_pending_error) {
  for (int attempt = 0; attempt < send_attempts; ++attempt) {
    std::error_code ec;
    socket.send_to(asio::buffer(bytes.data(), bytes.size()), to, 0, ec);
    if (!ec) return true;
    if (!is_pending_icmp_error(ec)) return false;
    if (on_pending_error) on_pending_error();
  }
  return false;
}

}  // namespace p2plive
