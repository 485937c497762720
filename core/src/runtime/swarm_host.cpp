#include "runtime/swarm_host.hpp"

#include <asio/ip/address.hpp>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "runtime/clock.hpp"
#include "runtime/udp_socket.hpp"

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

}  // namespace

Result<std::unique_ptr<SwarmHost>> SwarmHost::open(asio::io_context& io, const Endpoint& listen, SwarmConfig config,
                                                   EventFn on_event) {
  auto socket = open_swarm_socket(io, to_asio(listen, listen.is_v4()));
  if (!socket) return socket.error();
  std::error_code ec;
  config.announce_port = socket->local_endpoint(ec).port();  // what trackers hand out to others
  return std::make_unique<SwarmHost>(io, std::move(socket).value(), std::move(config), std::move(on_event));
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
  socket_.async_wait(asio::ip::udp::socket::wait_read, [this](std::error_code ec) {
    if (ec == asio::error::operation_aborted || closed_) return;
    drain();
    pump();
    receive();
  });
}

// Reads what is queued on the socket (a bounded number of batches, so timers still get their turn), each
// datagram with the time the kernel received it, translated to the steady clock the swarm runs on; a train
// of one sender's datagrams (UDP_GRO) is fed to the swarm one datagram at a time. A short batch means the
// queue is empty: no further call to learn so.
void SwarmHost::drain() {
  const int fd = socket_.native_handle();
  const auto steady = steady_now();
  const auto steady_minus_unix = steady - Time{unix_now_us()};
  for (int batch = 0; batch < 16; ++batch) {
    const int n = reader_.read(fd);
    if (n < 0) {
      drain_errors();  // ICMP errors (a peer went away) are not fatal: they are news for the swarm
      continue;
    }
    for (int i = 0; i < n; ++i) {
      const auto d = reader_[static_cast<std::size_t>(i)];
      const Time received_at =
          d.received_unix_us ? std::min(steady, Time{*d.received_unix_us} + steady_minus_unix) : steady;
      const auto from = to_endpoint(d.from);
      d.for_each([&](std::span<const std::uint8_t> datagram) {
        swarm_.handle_datagram(from, datagram, steady_now(), received_at);
      });
    }
    if (static_cast<std::size_t>(n) < DatagramReader::capacity) break;
  }
}

void SwarmHost::drain_errors() {
  const int fd = socket_.native_handle();
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage to{};
    std::array<std::uint8_t, 64> ignored{};
    iovec iov{ignored.data(), ignored.size()};
    alignas(cmsghdr) char control[512];
    msghdr msg{};
    msg.msg_name = &to;
    msg.msg_namelen = sizeof to;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (::recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) break;
    for (auto* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      const bool v4 = c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR;
      const bool v6 = c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR;
      if (!v4 && !v6) continue;
      sock_extended_err err{};
      std::memcpy(&err, CMSG_DATA(c), sizeof err);
      if (err.ee_errno != ECONNREFUSED || msg.msg_namelen == 0) continue;
      asio::ip::udp::endpoint dest;
      std::memcpy(dest.data(), &to, std::min<std::size_t>(msg.msg_namelen, dest.capacity()));
      dest.resize(msg.msg_namelen);
      swarm_.handle_unreachable(to_endpoint(dest), steady_now());
    }
  }
}

void SwarmHost::pump() {
  if (closed_) return;
  // What the swarm lets out now (its pacing decides), sent in batches. The vectors are members, so that a
  // wakeup allocates nothing once they have grown.
  const auto flush = [&] {
    for (const auto& t : ready_) batch_.push_back({t.bytes, to_asio(t.to, v4_)});
    // UDP: a full buffer loses that datagram only; another peer's ICMP error is news, and the send is
    // retried.
    send_errors_ += send_datagrams(socket_, batch_, [this] { drain_errors(); });
    ready_.clear();
    batch_.clear();
  };
  while (auto t = swarm_.poll_transmit(steady_now())) {
    ready_.push_back(std::move(*t));
    if (ready_.size() == max_batch) flush();
  }
  if (!ready_.empty()) flush();
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
