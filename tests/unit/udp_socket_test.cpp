// The swarm's socket on real loopback UDP: a dead peer's ICMP error must not cost a live peer its datagram.
#include "runtime/udp_socket.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

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

// Batched and segmented sends (sendmmsg, UDP_SEGMENT) and batched reads (recvmmsg, with trains of
// segments as UDP_GRO hands them over) keep every datagram whole, apart and in order: runs of equal sizes to
// one peer with a shorter last one, interleaved peers, lone datagrams, and more than one batch of each.
TEST(UdpSocket, BatchedSendsAndReadsKeepEveryDatagramWholeAndInOrder) {
  asio::io_context io;
  auto sender = open_swarm_socket(io, loopback_any());
  auto a = open_swarm_socket(io, loopback_any());
  auto b = open_swarm_socket(io, loopback_any());
  ASSERT_TRUE(sender && a && b);
  std::vector<std::vector<std::uint8_t>> bytes;
  bytes.reserve(40 * 9);  // `out` points into it: it must not move
  std::vector<OutgoingDatagram> out;
  std::vector<std::vector<std::uint8_t>> expected_a, expected_b;
  for (int chunk = 0; chunk < 40; ++chunk) {
    const bool to_a = chunk % 3 != 2;
    const int fragments = 1 + chunk % 9;  // 1 to 9: lone ones, and runs with a shorter last one
    for (int f = 0; f < fragments; ++f) {
      const std::size_t size = f + 1 == fragments ? 100 + chunk : 1200;
      bytes.emplace_back(size, static_cast<std::uint8_t>(chunk * 16 + f));
      (to_a ? expected_a : expected_b).push_back(bytes.back());
      out.push_back({bytes.back(), (to_a ? a : b)->local_endpoint()});
    }
  }
  EXPECT_EQ(send_datagrams(sender.value(), out, [] {}), 0u);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::size_t trains = 0;  // reads that handed over several datagrams at once (UDP_GRO)
  const auto read_all = [&](udp::socket& s) {
    DatagramReader reader;
    std::vector<std::vector<std::uint8_t>> got;
    for (int n; (n = reader.read(s.native_handle())) > 0;)
      for (int k = 0; k < n; ++k) {
        const auto d = reader[static_cast<std::size_t>(k)];
        d.for_each([&](std::span<const std::uint8_t> datagram) {
          got.emplace_back(datagram.begin(), datagram.end());
        });
        trains += d.segment_size != 0;
        EXPECT_TRUE(d.received_unix_us.has_value());
      }
    return got;
  };
  EXPECT_EQ(read_all(a.value()), expected_a);
  EXPECT_EQ(read_all(b.value()), expected_b);
  std::printf("reads of several datagrams at once: %zu\n", trains);
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
