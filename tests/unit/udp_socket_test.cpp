// The swarm's socket on real loopback UDP: a dead peer's ICMP error must not cost a live peer its datagram.
#include "runtime/udp_socket.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <thread>

namespace p2plive {
namespace {

using asio::ip::udp;

udp::endpoint loopback_any() { return {asio::ip::make_address_v4("127.0.0.1"), 0}; }

// A port that nobody listens on: bound once, then closed.
udp::endpoint closed_port(asio::io_context& io) {
  udp::socket s(io, loopback_any());
  const auto e = s.local_endpoint();
  s.close();
  return e;
}

std::size_t receive_all(udp::socket& s) {
  std::size_t n = 0;
  std::array<std::uint8_t, 64> buf{};
  std::error_code ec;
  s.non_blocking(true, ec);
  for (;;) {
    udp::endpoint from;
    s.receive_from(asio::buffer(buf), from, 0, ec);
    if (ec) return n;
    ++n;
  }
}

TEST(UdpSocket, ADeadPeersIcmpErrorDoesNotEatTheNextDatagramToALivePeer) {
  asio::io_context io;
  auto sender = open_swarm_socket(io, loopback_any());
  ASSERT_TRUE(sender);
  udp::socket& out = sender.value();
  udp::socket live(io, loopback_any());
  const auto dead = closed_port(io);
  const std::array<std::uint8_t, 4> bytes{1, 2, 3, 4};
  int errors_seen = 0;
  const auto drain = [&] { ++errors_seen; };
  constexpr int rounds = 20;
  for (int i = 0; i < rounds; ++i) {
    ASSERT_TRUE(send_datagram(out, bytes, dead, drain));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the port-unreachable comes back
    EXPECT_TRUE(send_datagram(out, bytes, live.local_endpoint(), drain));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(receive_all(live), static_cast<std::size_t>(rounds));
  EXPECT_GT(errors_seen, 0);  // the kernel did report the dead peer, and the send went out all the same
}

TEST(UdpSocket, APortInUseIsReportedAsSuch) {
  asio::io_context io;
  auto first = open_swarm_socket(io, loopback_any());
  ASSERT_TRUE(first);
  auto second = open_swarm_socket(io, first->local_endpoint());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), make_error_code(Errc::port_in_use));
}

}  // namespace
}  // namespace p2plive
