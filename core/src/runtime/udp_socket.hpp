// The swarm's UDP socket: big buffers, kernel receive times, and ICMP errors reported per destination
// (IP_RECVERR) so that a peer whose process died is noticed within a round trip.
#pragma once

#include <asio/ip/udp.hpp>
#include <functional>
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

}  // namespace p2plive
