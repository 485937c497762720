// The swarm's UDP socket: big buffers, kernel receive times, and ICMP errors reported per destination
// (IP_RECVERR) so that a peer whose process died is noticed within a round trip.
#pragma once

#include <sys/socket.h>
#include <asio/ip/udp.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "p2plive/error.hpp"

namespace p2plive {

// Opens and binds the socket with those options. Fails with port_in_use or socket_failed.
Result<asio::ip::udp::socket> open_swarm_socket(asio::io_context& io, const asio::ip::udp::endpoint& local);

// Sends one datagram. With IP_RECVERR the kernel fails the next send, whatever its destination, with an
// ICMP error that concerns another peer: that error goes to on_pending_error (which drains the error queue)
// and the send is tried again, so one dead peer never costs a live one its datagrams.
// Returns false when the datagram was not sent (a full buffer, a bad address).
bool send_datagram(asio::ip::udp::socket& socket, std::span<const std::uint8_t> bytes,
                   const asio::ip::udp::endpoint& to, const std::function<void()>& on_pending_error);

struct OutgoingDatagram {
  std::span<const std::uint8_t> bytes;
  asio::ip::udp::endpoint to;
};

// Sends them in order, a batch per sendmmsg(2) call (a relay sends a chunk's fragments to several children
// at once, and one system call each was most of its CPU). One the kernel refuses goes through
// send_datagram, with its handling of errors, and the rest go on. Returns how many were not sent.
std::size_t send_datagrams(asio::ip::udp::socket& socket, std::span<const OutgoingDatagram> datagrams,
                           const std::function<void()>& on_pending_error);

// Reads queued datagrams a batch per recvmmsg(2) call, each with its sender and the kernel's receive
// time (SO_TIMESTAMPNS).
class DatagramReader {
 public:
  static constexpr std::size_t capacity = 16;
  struct Datagram {
    asio::ip::udp::endpoint from;
    std::span<const std::uint8_t> bytes;
    std::optional<std::int64_t> received_unix_us;
  };
  // Up to `capacity` datagrams (0 when none is queued), or -1 with errno on any other error.
  int read(int fd);
  Datagram operator[](std::size_t i) const;

 private:
  static constexpr std::size_t max_datagram = 2048;
  static constexpr std::size_t control_bytes = CMSG_SPACE(sizeof(timespec));
  std::array<std::array<std::uint8_t, max_datagram>, capacity> buffers_{};
  std::array<sockaddr_storage, capacity> from_{};
  std::array<iovec, capacity> iov_{};
  struct alignas(cmsghdr) Control {
    char bytes[control_bytes];
  };
  std::array<Control, capacity> control_{};
  std::array<mmsghdr, capacity> messages_{};
};

}  // namespace p2plive
