#include "runtime/udp_socket.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

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
  // Trains of one sender's datagrams in one read (see DatagramReader); harmless if refused.
  ::setsockopt(socket.native_handle(), SOL_UDP, UDP_GRO, &on, sizeof on);
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

namespace {

// UDP generic segmentation offload (UDP_SEGMENT, Linux 4.18): a run of datagrams to one peer, all the same
// size but the last, goes down the stack as one; the kernel cuts it into the datagrams at the end.
constexpr std::size_t max_segments = 64;
constexpr std::size_t max_segmented_bytes = 65000;
// The kernel or the route said no once: plain datagrams from then on (for every socket of the process; a
// demo runs several nodes, each on a thread of its own).
std::atomic<bool> gso_refused{false};

// How many of `datagrams`, from the first, can travel as one segmented send.
std::size_t segment_run(std::span<const OutgoingDatagram> datagrams) {
  if (gso_refused.load(std::memory_order_relaxed)) return 1;
  const auto size = datagrams[0].bytes.size();
  std::size_t n = 1, bytes = size;
  while (n < datagrams.size() && n < max_segments && datagrams[n].to == datagrams[0].to &&
         datagrams[n].bytes.size() <= size && bytes + datagrams[n].bytes.size() <= max_segmented_bytes) {
    bytes += datagrams[n].bytes.size();
    if (datagrams[n++].bytes.size() < size) break;  // a shorter one can only be the last
  }
  return n;
}

}  // namespace

std::size_t send_datagrams(asio::ip::udp::socket& socket, std::span<const OutgoingDatagram> datagrams,
                           const std::function<void()>& on_pending_error) {
  constexpr std::size_t batch = 32;
  struct alignas(cmsghdr) Control {
    char bytes[CMSG_SPACE(sizeof(std::uint16_t))];
  };
  std::array<mmsghdr, batch> messages{};
  std::array<std::size_t, batch> runs{};
  std::array<Control, batch> controls{};
  std::vector<iovec> iov(datagrams.size());
  std::size_t failed = 0;
  for (std::size_t next = 0; next < datagrams.size();) {
    std::size_t n = 0, used_iov = 0, at = next;
    while (n < batch && at < datagrams.size()) {
      const auto rest = datagrams.subspan(at);
      const auto run = segment_run(rest);
      for (std::size_t k = 0; k < run; ++k)
        iov[used_iov + k] = {const_cast<std::uint8_t*>(rest[k].bytes.data()), rest[k].bytes.size()};
      auto& h = messages[n].msg_hdr;
      h = {};
      h.msg_name = const_cast<sockaddr*>(rest[0].to.data());
      h.msg_namelen = static_cast<socklen_t>(rest[0].to.size());
      h.msg_iov = &iov[used_iov];
      h.msg_iovlen = run;
      if (run > 1) {
        h.msg_control = controls[n].bytes;
        h.msg_controllen = sizeof controls[n].bytes;
        cmsghdr* c = CMSG_FIRSTHDR(&h);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
        const auto segment = static_cast<std::uint16_t>(rest[0].bytes.size());
        std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
      }
      runs[n++] = run;
      used_iov += run;
      at += run;
    }
    const int sent =
        ::sendmmsg(socket.native_handle(), messages.data(), static_cast<unsigned>(n), MSG_DONTWAIT);
    if (sent > 0) {
      for (int k = 0; k < sent; ++k) next += runs[static_cast<std::size_t>(k)];
      continue;
    }
    // The first of the batch failed. Segmented, it may be the offload that was refused (EIO, EINVAL): its
    // datagrams go again one by one, and so does everything after. Alone, it gets send_datagram's retries.
    if (runs[0] > 1 && (errno == EIO || errno == EINVAL || errno == EOPNOTSUPP))
      gso_refused.store(true, std::memory_order_relaxed);
    for (std::size_t k = 0; k < runs[0]; ++k)
      if (!send_datagram(socket, datagrams[next + k].bytes, datagrams[next + k].to, on_pending_error))
        ++failed;
    next += runs[0];
  }
  return failed;
}

DatagramReader::DatagramReader() : buffers_(capacity * max_buffer) {}

int DatagramReader::read(int fd) {
  for (std::size_t i = 0; i < capacity; ++i) {
    iov_[i] = {buffers_.data() + i * max_buffer, max_buffer};
    messages_[i] = {};
    auto& h = messages_[i].msg_hdr;
    h.msg_name = &from_[i];
    h.msg_namelen = sizeof from_[i];
    h.msg_iov = &iov_[i];
    h.msg_iovlen = 1;
    h.msg_control = control_[i].bytes;
    h.msg_controllen = control_bytes;
  }
  const int n = ::recvmmsg(fd, messages_.data(), capacity, MSG_DONTWAIT, nullptr);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
  return n;
}

DatagramReader::Datagrams DatagramReader::operator[](std::size_t i) const {
  Datagrams d;
  const auto& h = messages_[i].msg_hdr;
  std::memcpy(d.from.data(), &from_[i], std::min<std::size_t>(h.msg_namelen, d.from.capacity()));
  d.from.resize(h.msg_namelen);
  d.bytes = std::span<const std::uint8_t>(buffers_.data() + i * max_buffer, messages_[i].msg_len);
  for (auto* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&h), c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts{};
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      d.received_unix_us = static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
    } else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int segment = 0;
      std::memcpy(&segment, CMSG_DATA(c), sizeof segment);
      if (segment > 0) d.segment_size = static_cast<std::size_t>(segment);
    }
  }
  return d;
}

}  // namespace p2plive
