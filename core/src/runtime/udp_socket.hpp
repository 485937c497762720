// The swarm's UDP socket: big buffers, kernel receive times, and ICMP errors reported per destination
// (IP_RECVERR) so that a peer whose process died is noticed within a round trip.
#pragma once

#include <sys/socket.h>
#include <asio/ip/udp.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

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
// time (SO_TIMESTAMPNS). With UDP_GRO (set by open_swarm_socket) the kernel may hand over a train of
// datagrams from one sender as one buffer of equal-size segments (the last may be shorter): a peer's
// segmented send arrives whole, never cut up on the way.
class DatagramReader {
 public:
  static constexpr std::size_t capacity = 8;
  struct Datagrams {
    asio::ip::udp::endpoint from;
    std::span<const std::uint8_t> bytes;
    std::size_t segment_size = 0;  // each datagram's size but the last's; 0: one datagram
    std::optional<std::int64_t> received_unix_us;
    template <typename F>
    void for_each(F&& f) const {
      const auto step = segment_size ? segment_size : bytes.size();
      for (std::size_t at = 0; at < bytes.size(); at += step)
        f(bytes.subspan(at, std::min(step, bytes.size() - at)));
    }
  };
  DatagramReader();
  // Up to `capacity` buffers (0 when none is queued), or -1 with errno on any other error.
  int read(int fd);
  Datagrams operator[](std::size_t i) const;

 private:
  static constexpr std::size_t max_buffer = 65536;  // a whole segmented train
  static constexpr std::size_t control_bytes = CMSG_SPACE(sizeof(timespec)) + CMSG_SPACE(sizeof(int));
  std::vector<std::uint8_t> buffers_;
  std::array<sockaddr_storage, capacity> from_{};
  std::array<iovec, capacity> iov_{};
  struct alignas(cmsghdr) Control {
    char bytes[control_bytes];
  };
  std::array<Control, capacity> control_{};
  std::array<mmsghdr, capacity> messages_{};
};

}  // namespace p2plive
