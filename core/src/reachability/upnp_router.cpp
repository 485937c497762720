// UPnP IGD through miniupnpc: SSDP discovery on the LAN, then SOAP calls to the router's WANIPConnection.
#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>

#include <string>

#include "reachability/router_port.hpp"

namespace p2plive {
namespace {

constexpr int upnp_conflict_in_mapping = 718;
constexpr int upnp_only_permanent_leases = 725;

std::string upnp_error(int code) {
  const char* text = strupnperror(code);
  return text ? std::string(text) + " (" + std::to_string(code) + ")" : "UPnP error " + std::to_string(code);
}

class UpnpRouter final : public RouterPort {
 public:
  UpnpRouter(UPNPUrls urls, IGDdatas data, std::string lan_address)
      : urls_(urls), data_(data), lan_address_(std::move(lan_address)) {}
  ~UpnpRouter() override { FreeUPNPUrls(&urls_); }
  UpnpRouter(const UpnpRouter&) = delete;
  UpnpRouter& operator=(const UpnpRouter&) = delete;

  const char* method() const override { return "UPnP"; }

  MapAttempt map(std::uint16_t internal_port, std::uint16_t external_port,
                 std::chrono::seconds lifetime) override {
    MapAttempt attempt;
    char external_ip[40] = {};
    int r = UPNP_GetExternalIPAddress(urls_.controlURL, data_.first.servicetype, external_ip);
    if (r != UPNPCOMMAND_SUCCESS) {
      attempt.why = "the UPnP router did not tell its external address: " + upnp_error(r);
      return attempt;
    }
    auto external = Endpoint::parse(std::string(external_ip) + ":" + std::to_string(external_port));
    if (!external || external->is_unspecified()) {
      attempt.why = "the UPnP router has no external address yet";
      return attempt;
    }
    const std::string ext = std::to_string(external_port), in = std::to_string(internal_port);
    std::string lease = std::to_string(lifetime.count());
    r = UPNP_AddPortMapping(urls_.controlURL, data_.first.servicetype, ext.c_str(), in.c_str(),
                            lan_address_.c_str(), "p2p-live", "UDP", nullptr, lease.c_str());
    if (r == upnp_only_permanent_leases) {  // old IGDs: a permanent mapping, removed on exit all the same
      lifetime = std::chrono::seconds{0};
      r = UPNP_AddPortMapping(urls_.controlURL, data_.first.servicetype, ext.c_str(), in.c_str(),
                              lan_address_.c_str(), "p2p-live", "UDP", nullptr, "0");
    }
    if (r != UPNPCOMMAND_SUCCESS) {
      attempt.port_taken = r == upnp_conflict_in_mapping;
      attempt.why = "the UPnP router refused to map UDP port " + ext + ": " + upnp_error(r);
      return attempt;
    }
    attempt.grant = PortGrant{*external, lifetime};
    return attempt;
  }

  void unmap(std::uint16_t, const PortGrant& grant) override {
    const std::string ext = std::to_string(grant.external.port);
    UPNP_DeletePortMapping(urls_.controlURL, data_.first.servicetype, ext.c_str(), "UDP", nullptr);
  }

 private:
  UPNPUrls urls_;
  IGDdatas data_;
  std::string lan_address_;
};

}  // namespace

std::unique_ptr<RouterPort> find_upnp_router(const Endpoint& bound, std::chrono::milliseconds wait,
                                             std::string& why) {
  // A socket bound to one address looks for routers on that address's interface only.
  std::string interface_address;
  if (bound.is_v4() && !bound.is_unspecified()) {
    interface_address = bound.to_string();
    interface_address.resize(interface_address.rfind(':'));
  }
  int error = 0;
  UPNPDev* devices = upnpDiscover(static_cast<int>(wait.count()),
                                  interface_address.empty() ? nullptr : interface_address.c_str(), nullptr,
                                  UPNP_LOCAL_PORT_ANY, 0, 2, &error);
  if (!devices) {
    why = "no UPnP router answered";
    return nullptr;
  }
  UPNPUrls urls{};
  IGDdatas data{};
  char lan_address[64] = {};
  const int found = UPNP_GetValidIGD(devices, &urls, &data, lan_address, sizeof lan_address);
  freeUPNPDevlist(devices);
  if (found == 1) return std::make_unique<UpnpRouter>(urls, data, lan_address);
  if (found != 0) FreeUPNPUrls(&urls);
  why = found == 2   ? "the UPnP router says it is not connected to the internet"
        : found == 3 ? "a UPnP device answered, but it is not an internet gateway"
                     : "no UPnP router answered";
  return nullptr;
}

}  // namespace p2plive
