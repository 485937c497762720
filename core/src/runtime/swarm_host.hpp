// The asio driver of the sans-IO Swarm: one UDP socket and one timer on one io_context.
// It waits for the socket to be readable, then drains it with non-blocking batched reads, each datagram with
// the kernel's receive time (so that a busy process does not mistake its own lateness for queueing on the
// network). After every input it drains the swarm's datagrams and events and re-arms the timer at
// poll_timeout().
#pragma once

#include <array>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "p2plive/endpoint.hpp"
#include "p2plive/error.hpp"
#include "protocol/swarm.hpp"
#include "runtime/udp_socket.hpp"

namespace p2plive {

class SwarmHost {
 public:
  using EventFn = std::function<void(SwarmEvent&&)>;

  // Binds the socket. Fails with port_in_use or socket_failed.
  static Result<std::unique_ptr<SwarmHost>> open(asio::io_context& io, const Endpoint& listen,
                                                 SwarmConfig config, EventFn on_event);

  Swarm& swarm() { return swarm_; }
  // Call after feeding the swarm from outside (e.g. publish): sends, delivers events, re-arms the timer.
  void pump();
  void close();
  Endpoint local_endpoint() const { return local_; }
  std::uint64_t send_errors() const { return send_errors_; }

  SwarmHost(asio::io_context& io, asio::ip::udp::socket socket, SwarmConfig config, EventFn on_event);

 private:
  void receive();
  void drain();
  void drain_errors();  // ICMP errors the kernel queued (IP_RECVERR): peers that have gone
  void arm_timer();

  asio::ip::udp::socket socket_;
  asio::steady_timer timer_;
  Swarm swarm_;
  EventFn on_event_;
  Endpoint local_;
  DatagramReader reader_;
  static constexpr std::size_t max_batch = 64;  // datagrams handed to send_datagrams at once
  std::vector<Transmit> ready_;
  std::vector<OutgoingDatagram> batch_;
  std::uint64_t send_errors_ = 0;
  bool closed_ = false;
  bool v4_ = true;
};

}  // namespace p2plive
