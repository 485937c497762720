#include "raw_udp.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace p2plive::attack {
namespace {

std::uint32_t v4_of(const Endpoint& e) {
  std::uint32_t a = 0;
  std::memcpy(&a, e.address.data() + 12, 4);
  return a;  // network order, as the address bytes are
}

Endpoint endpoint_of(std::uint32_t net_address, std::uint16_t net_port) {
  return Endpoint::v4(ntohl(net_address), ntohs(net_port));
}

}  // namespace

RawSender::RawSender() {
  fd_ = ::socket(AF_INET, SOCK_RAW, IPPROTO_RAW);  // implies IP_HDRINCL
}

RawSender::~RawSender() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawSender::send(const Endpoint& from, const Endpoint& to, std::span<const std::uint8_t> payload) {
  if (fd_ < 0) return false;
  packet_.assign(sizeof(iphdr) + sizeof(udphdr) + payload.size(), 0);
  auto* ip = reinterpret_cast<iphdr*>(packet_.data());
  ip->version = 4;
  ip->ihl = 5;
  ip->ttl = 64;
  ip->protocol = IPPROTO_UDP;
  ip->tot_len = htons(static_cast<std::uint16_t>(packet_.size()));
  ip->saddr = v4_of(from);
  ip->daddr = v4_of(to);  // the kernel fills in the id and the header checksum
  auto* udp = reinterpret_cast<udphdr*>(packet_.data() + sizeof(iphdr));
  udp->source = htons(from.port);
  udp->dest = htons(to.port);
  udp->len = htons(static_cast<std::uint16_t>(sizeof(udphdr) + payload.size()));
  udp->check = 0;  // optional over IPv4
  std::memcpy(packet_.data() + sizeof(iphdr) + sizeof(udphdr), payload.data(), payload.size());
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_addr.s_addr = ip->daddr;
  return ::sendto(fd_, packet_.data(), packet_.size(), 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst) ==
         static_cast<ssize_t>(packet_.size());
}

Sniffer::Sniffer() {
  fd_ = ::socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
  if (fd_ < 0) return;
  sockaddr_ll at{};
  at.sll_family = AF_PACKET;
  at.sll_protocol = htons(ETH_P_IP);
  at.sll_ifindex = static_cast<int>(if_nametoindex("lo"));
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

Sniffer::~Sniffer() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<Captured> Sniffer::next(int timeout_ms) {
  if (fd_ < 0) return std::nullopt;
  pollfd p{fd_, POLLIN, 0};
  while (::poll(&p, 1, timeout_ms) > 0) {
    sockaddr_ll from{};
    socklen_t len = sizeof from;
    const auto n = ::recvfrom(fd_, buffer_.data(), buffer_.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
    // On lo every packet shows twice, going out and coming in: keep the incoming copy only.
    if (n < static_cast<ssize_t>(sizeof(iphdr) + sizeof(udphdr)) || from.sll_pkttype == PACKET_OUTGOING) continue;
    const auto* ip = reinterpret_cast<const iphdr*>(buffer_.data());
    if (ip->version != 4 || ip->protocol != IPPROTO_UDP) continue;
    const std::size_t header = ip->ihl * 4u;
    const auto* udp = reinterpret_cast<const udphdr*>(buffer_.data() + header);
    const std::size_t total = std::min<std::size_t>(static_cast<std::size_t>(n), ntohs(ip->tot_len));
    if (total < header + sizeof(udphdr)) continue;
    Captured c{endpoint_of(ip->saddr, udp->source), endpoint_of(ip->daddr, udp->dest), {}};
    c.payload.assign(buffer_.begin() + static_cast<std::ptrdiff_t>(header + sizeof(udphdr)),
                     buffer_.begin() + static_cast<std::ptrdiff_t>(total));
    return c;
  }
  return std::nullopt;
}

}  // namespace p2plive::attack
