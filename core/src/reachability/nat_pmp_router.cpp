// NAT-PMP (RFC 6886) through libnatpmp: one UDP exchange with the default gateway on port 5351.
#define ENABLE_STRNATPMPERR
#include <arpa/inet.h>
#include <natpmp.h>
#include <sys/select.h>

#include <string>

#include "reachability/router_port.hpp"

namespace p2plive {
namespace {

using Clock = std::chrono::steady_clock;

// How long one request may take. libnatpmp retries at 250 ms, doubling, nine times (over two minutes);
// a gateway that has not answered within this does not speak NAT-PMP.
constexpr std::chrono::milliseconds request_budget{2500};

std::string natpmp_error(int r) { return std::string(strnatpmperr(r)) + " (" + std::to_string(r) + ")"; }

// Waits for the answer to the request just sent, retrying as libnatpmp says, until `budget` runs out.
int await_response(natpmp_t& natpmp, natpmpresp_t& response, std::chrono::milliseconds budget) {
  const auto deadline = Clock::now() + budget;
  int r = NATPMP_TRYAGAIN;
  while (r == NATPMP_TRYAGAIN) {
    const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
    if (left.count() <= 0) return NATPMP_ERR_NOGATEWAYSUPPORT;
    timeval timeout{};
    getnatpmprequesttimeout(&natpmp, &timeout);
    if (std::chrono::seconds(timeout.tv_sec) + std::chrono::microseconds(timeout.tv_usec) > left) {
      timeout.tv_sec = static_cast<time_t>(left.count() / 1000000);
      timeout.tv_usec = static_cast<suseconds_t>(left.count() % 1000000);
    }
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(natpmp.s, &fds);
    select(natpmp.s + 1, &fds, nullptr, nullptr, &timeout);
    r = readnatpmpresponseorretry(&natpmp, &response);
  }
  return r;
}

class NatPmpRouter final : public RouterPort {
 public:
  NatPmpRouter(natpmp_t natpmp, std::uint32_t public_address)
      : natpmp_(natpmp), public_address_(public_address) {}
  ~NatPmpRouter() override { closenatpmp(&natpmp_); }
  NatPmpRouter(const NatPmpRouter&) = delete;
  NatPmpRouter& operator=(const NatPmpRouter&) = delete;

  const char* method() const override { return "NAT-PMP"; }

  MapAttempt map(std::uint16_t internal_port, std::uint16_t external_port,
                 std::chrono::seconds lifetime) override {
    MapAttempt attempt;
    int r = sendnewportmappingrequest(&natpmp_, NATPMP_PROTOCOL_UDP, internal_port, external_port,
                                      static_cast<std::uint32_t>(lifetime.count()));
    natpmpresp_t response{};
    if (r >= 0) r = await_response(natpmp_, response, request_budget);
    if (r < 0) {
      attempt.why = "the NAT-PMP router refused to map UDP port " + std::to_string(external_port) + ": " +
                    natpmp_error(r);
      return attempt;
    }
    // The router may grant another port than the one asked for, and a shorter lifetime.
    attempt.grant = PortGrant{Endpoint::v4(public_address_, response.pnu.newportmapping.mappedpublicport),
                              std::chrono::seconds(response.pnu.newportmapping.lifetime)};
    return attempt;
  }

  void unmap(std::uint16_t internal_port, const PortGrant&) override {
    // RFC 6886 3.4: a lifetime of 0 (and an external port of 0) removes the mapping.
    if (sendnewportmappingrequest(&natpmp_, NATPMP_PROTOCOL_UDP, internal_port, 0, 0) < 0) return;
    natpmpresp_t response{};
    await_response(natpmp_, response, std::chrono::milliseconds{500});
  }

 private:
  natpmp_t natpmp_;
  std::uint32_t public_address_;  // host order
};

}  // namespace

std::unique_ptr<RouterPort> find_nat_pmp_router(std::chrono::milliseconds wait, std::string& why) {
  natpmp_t natpmp{};
  if (initnatpmp(&natpmp, 0, 0) < 0) {
    why = "no default gateway to ask over NAT-PMP";
    return nullptr;
  }
  natpmpresp_t response{};
  int r = sendpublicaddressrequest(&natpmp);
  if (r >= 0) r = await_response(natpmp, response, wait);
  if (r < 0) {
    why = r == NATPMP_ERR_NOGATEWAYSUPPORT ? "the gateway does not answer NAT-PMP"
          : r == NATPMP_ERR_NETWORKFAILURE ? "the NAT-PMP gateway has no external address yet"
                                           : "NAT-PMP: " + natpmp_error(r);
    closenatpmp(&natpmp);
    return nullptr;
  }
  return std::make_unique<NatPmpRouter>(natpmp, ntohl(response.pnu.publicaddress.addr.s_addr));
}

}  // namespace p2plive
