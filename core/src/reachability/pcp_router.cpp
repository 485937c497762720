// PCP (RFC 6887) to the default gateway on port 5351. No Debian package has a PCP client library, so the
// messages are ours (pcp_wire.cpp); libnatpmp still finds the gateway, as it does for NAT-PMP.
#include <arpa/inet.h>
#include <natpmp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>

#include <sodium.h>

#include "reachability/pcp_wire.hpp"
#include "reachability/router_port.hpp"

namespace p2plive {
namespace {

using Clock = std::chrono::steady_clock;

// RFC 6887 8.1.1 retransmits from 3 s on; a home router on the LAN answers in milliseconds, so we start
// at 250 ms and double, within the same budget as NAT-PMP.
constexpr std::chrono::milliseconds first_wait{250};
constexpr std::chrono::milliseconds request_budget{2500};

Endpoint from_sockaddr(const sockaddr_in& a) {
  return Endpoint::v4(ntohl(a.sin_addr.s_addr), ntohs(a.sin_port));
}

// Sends `request` until an answer with the same opcode comes or `budget` runs out. Other datagrams
// (a stale answer, an ANNOUNCE the router multicasts after a reboot) are skipped.
std::optional<pcp::Response> exchange(int fd, const std::vector<std::uint8_t>& request, std::uint8_t opcode,
                                      std::chrono::milliseconds budget) {
  const auto deadline = Clock::now() + budget;
  auto wait = first_wait;
  while (Clock::now() < deadline) {
    if (send(fd, request.data(), request.size(), 0) < 0) return std::nullopt;
    const auto resend_at = std::min(deadline, Clock::now() + wait);
    wait *= 2;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(resend_at - Clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      std::uint8_t buffer[1100];
      const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n < 0) return std::nullopt;  // ICMP port unreachable: nothing listens on 5351
      auto response = pcp::decode_response({buffer, static_cast<std::size_t>(n)});
      if (response && response->opcode == opcode) return response;
    }
  }
  return std::nullopt;
}

class PcpRouter final : public RouterPort {
 public:
  PcpRouter(int fd, Endpoint client) : fd_(fd), client_(client) {
    randombytes_buf(nonce_.data(), nonce_.size());
  }
  ~PcpRouter() override { close(fd_); }
  PcpRouter(const PcpRouter&) = delete;
  PcpRouter& operator=(const PcpRouter&) = delete;

  const char* method() const override { return "PCP"; }

  MapAttempt map(std::uint16_t internal_port, std::uint16_t external_port,
                 std::chrono::seconds lifetime) override {
    MapAttempt attempt;
    Endpoint client = client_;
    client.port = internal_port;
    const auto request =
        pcp::encode_map({client, external_port, static_cast<std::uint32_t>(lifetime.count()), nonce_});
    const auto response = exchange(fd_, request, pcp::opcode_map, request_budget);
    if (!response) {
      attempt.why =
          "the PCP router did not answer a request to map UDP port " + std::to_string(external_port);
    } else if (response->nonce != nonce_ || response->internal_port != internal_port) {
      attempt.why = "the PCP router answered about another mapping";
    } else if (response->result != 0) {
      attempt.port_taken = response->result == pcp::result_cannot_provide_external;
      attempt.why = "the PCP router refused to map UDP port " + std::to_string(external_port) + ": " +
                    pcp::result_name(response->result);
    } else {
      // Like NAT-PMP, PCP may grant another port than the one suggested, and a shorter lifetime.
      attempt.grant = PortGrant{response->external, std::chrono::seconds(response->lifetime_s)};
    }
    return attempt;
  }

  void unmap(std::uint16_t internal_port, const PortGrant& grant) override {
    // RFC 6887 15: the same nonce and internal port with a lifetime of 0 deletes the mapping.
    Endpoint client = client_;
    client.port = internal_port;
    exchange(fd_, pcp::encode_map({client, grant.external.port, 0, nonce_}), pcp::opcode_map,
             std::chrono::milliseconds{500});
  }

 private:
  int fd_;           // connected to the gateway's port 5351
  Endpoint client_;  // our address on the way to it (the socket's), which PCP puts in every request
  pcp::Nonce nonce_{};
};

}  // namespace

std::unique_ptr<RouterPort> find_pcp_router(std::chrono::milliseconds wait, std::string& why) {
  natpmp_t natpmp{};
  if (initnatpmp(&natpmp, 0, 0) < 0) {
    why = "no default gateway to ask over PCP";
    return nullptr;
  }
  sockaddr_in gateway{};
  gateway.sin_family = AF_INET;
  gateway.sin_port = htons(pcp::server_port);
  gateway.sin_addr.s_addr = natpmp.gateway;
  closenatpmp(&natpmp);

  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in local{};
  socklen_t length = sizeof local;
  if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&gateway), sizeof gateway) < 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) < 0) {
    why = std::string("cannot reach the gateway for PCP: ") + std::strerror(errno);
    if (fd >= 0) close(fd);
    return nullptr;
  }
  Endpoint client = from_sockaddr(local);
  // ANNOUNCE asks nothing of the router; any PCP answer, even UNSUPP_OPCODE, shows that it speaks PCP.
  if (!exchange(fd, pcp::encode_announce(client), pcp::opcode_announce, wait)) {
    why = "the gateway does not answer PCP";
    close(fd);
    return nullptr;
  }
  return std::make_unique<PcpRouter>(fd, client);
}

}  // namespace p2plive
