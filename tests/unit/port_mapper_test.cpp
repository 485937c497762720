// The port mapper's life cycle against a scripted router: mapping, renewal, a taken port, a router behind
// another NAT, no router at all, and removal on exit. The real routers (miniupnpd over UPnP and NAT-PMP)
// are in tests/integration/test_home_router.py.
#include "reachability/port_mapper.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace p2plive {
namespace {

using namespace std::chrono_literals;

struct RouterLog {
  std::mutex mutex;
  std::vector<std::uint16_t> asked;              // external ports asked for, in order
  std::vector<std::uint16_t> removed;            // external ports unmapped
  std::uint32_t external_address = 0x0b4d0001u;  // 11.77.0.1
  std::uint16_t taken_port = 0;                  // answered "taken"
  std::chrono::seconds granted{3600};
};

class ScriptedRouter final : public RouterPort {
 public:
  explicit ScriptedRouter(std::shared_ptr<RouterLog> log) : log_(std::move(log)) {}
  const char* method() const override { return "UPnP"; }
  MapAttempt map(std::uint16_t, std::uint16_t external_port, std::chrono::seconds) override {
    std::lock_guard lock(log_->mutex);
    log_->asked.push_back(external_port);
    MapAttempt attempt;
    if (external_port == log_->taken_port) {
      attempt.port_taken = true;
      attempt.why = "ConflictInMappingEntry (718)";
      return attempt;
    }
    attempt.grant = PortGrant{Endpoint::v4(log_->external_address, external_port), log_->granted};
    return attempt;
  }
  void unmap(std::uint16_t, const PortGrant& grant) override {
    std::lock_guard lock(log_->mutex);
    log_->removed.push_back(grant.external.port);
  }

 private:
  std::shared_ptr<RouterLog> log_;
};

RouterFinder finds(std::shared_ptr<RouterLog> log) {
  return [log](std::string&) { return std::make_unique<ScriptedRouter>(log); };
}
RouterFinder finds_nothing(std::string reason) {
  return [reason](std::string& why) {
    why = reason;
    return std::unique_ptr<RouterPort>{};
  };
}

// Waits (generously) until the mapper leaves `probing`.
Reachability settled(const PortMapper& mapper) {
  for (auto until = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < until;) {
    const auto r = mapper.current();
    if (r.state != Reachability::State::probing) return r;
    std::this_thread::sleep_for(5ms);
  }
  return mapper.current();
}

const Endpoint lan = Endpoint::v4(0x0a4d0102u, 7000);  // 10.77.1.2:7000

TEST(PortMapper, MapsTheSamePortOutsideAndRemovesItOnExit) {
  auto log = std::make_shared<RouterLog>();
  std::atomic<int> changes{0};
  {
    PortMapper mapper(lan, {.finders = {finds(log)}}, [&](const Reachability&) { ++changes; });
    const auto r = settled(mapper);
    ASSERT_EQ(r.state, Reachability::State::mapped);
    EXPECT_EQ(r.method, "UPnP");
    ASSERT_TRUE(r.external);
    EXPECT_EQ(r.external->to_string(), "11.77.0.1:7000");
    EXPECT_EQ(reachability_field(r), "upnp");
    EXPECT_EQ(describe(r), "reachable at 11.77.0.1:7000 (UPnP)");
  }
  std::lock_guard lock(log->mutex);
  EXPECT_EQ(log->asked, std::vector<std::uint16_t>{7000});
  EXPECT_EQ(log->removed, std::vector<std::uint16_t>{7000});
  EXPECT_EQ(changes, 1);
}

TEST(PortMapper, RenewsAtHalfTheLifetimeTheRouterGranted) {
  auto log = std::make_shared<RouterLog>();
  log->granted = 2s;  // renewed about every second
  std::atomic<int> changes{0};
  PortMapper mapper(lan, {.finders = {finds(log)}}, [&](const Reachability&) { ++changes; });
  std::this_thread::sleep_for(3500ms);
  std::lock_guard lock(log->mutex);
  EXPECT_GE(log->asked.size(), 3u);
  EXPECT_LE(log->asked.size(), 5u);
  for (auto port : log->asked) EXPECT_EQ(port, 7000);
  EXPECT_TRUE(log->removed.empty());
  EXPECT_EQ(changes, 1) << "a renewal that changes nothing is not reported";
}

TEST(PortMapper, TakesAnotherExternalPortWhenOursIsTaken) {
  auto log = std::make_shared<RouterLog>();
  log->taken_port = 7000;
  PortMapper mapper(lan, {.finders = {finds(log)}}, {});
  const auto r = settled(mapper);
  ASSERT_EQ(r.state, Reachability::State::mapped);
  EXPECT_NE(r.external->port, 7000);
  std::lock_guard lock(log->mutex);
  ASSERT_EQ(log->asked.size(), 2u);
  EXPECT_EQ(log->asked[0], 7000);
}

TEST(PortMapper, ARouterBehindAnotherNatDoesNotCount) {
  auto log = std::make_shared<RouterLog>();
  log->external_address = 0x64400001u;  // 100.64.0.1: the carrier's NAT is beyond it
  {
    PortMapper mapper(lan, {.finders = {finds(log)}}, {});
    const auto r = settled(mapper);
    EXPECT_EQ(r.state, Reachability::State::not_mapped);
    EXPECT_FALSE(r.external);
    EXPECT_NE(r.detail.find("100.64.0.1"), std::string::npos) << r.detail;
    EXPECT_NE(r.detail.find("another NAT"), std::string::npos) << r.detail;
  }
  std::lock_guard lock(log->mutex);
  EXPECT_EQ(log->removed.size(), 1u) << "the useless mapping is removed at once";
}

TEST(PortMapper, SaysWhyWhenNoRouterMapsThePort) {
  auto log = std::make_shared<RouterLog>();
  PortMapper mapper(lan,
                    {.finders = {finds_nothing("no UPnP router answered"),
                                 finds_nothing("the gateway does not answer NAT-PMP")}},
                    {});
  const auto r = settled(mapper);
  EXPECT_EQ(r.state, Reachability::State::not_mapped);
  EXPECT_EQ(r.detail, "no UPnP router answered; the gateway does not answer NAT-PMP");
  EXPECT_EQ(reachability_field(r), "not_mapped");
  EXPECT_EQ(describe(r).rfind("not reachable from the internet: no UPnP router answered", 0), 0u)
      << describe(r);
}

TEST(PortMapper, TheSecondProtocolIsAskedWhenTheFirstFindsNothing) {
  auto log = std::make_shared<RouterLog>();
  PortMapper mapper(lan, {.finders = {finds_nothing("no UPnP router answered"), finds(log)}}, {});
  EXPECT_EQ(settled(mapper).state, Reachability::State::mapped);
}

TEST(PortMapper, StopsPromptlyWhileWaitingToRetry) {
  const auto start = std::chrono::steady_clock::now();
  {
    PortMapper mapper(lan, {.finders = {finds_nothing("no UPnP router answered")}, .retry_after = 300s}, {});
    settled(mapper);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(Reachability, WhereASocketStandsBeforeAnyRouterIsAsked) {
  using S = Reachability::State;
  EXPECT_EQ(reachability_before_mapping(Endpoint::loopback(7000)), S::local);
  EXPECT_EQ(reachability_before_mapping(*Endpoint::parse("[::1]:7000")), S::local);
  EXPECT_EQ(reachability_before_mapping(*Endpoint::parse("0.0.0.0:7000")), S::probing);
  EXPECT_EQ(reachability_before_mapping(*Endpoint::parse("[::]:7000")), S::probing);
  EXPECT_EQ(reachability_before_mapping(*Endpoint::parse("192.168.1.20:7000")), S::probing);
  EXPECT_EQ(reachability_before_mapping(*Endpoint::parse("11.77.0.1:7000")), S::public_ip);
}

TEST(Reachability, PrivateAddressesAreTheOnesStrangersCannotReach) {
  for (const char* at : {"10.1.2.3:1", "172.16.0.1:1", "172.31.255.255:1", "192.168.0.1:1", "100.64.0.1:1",
                         "100.127.255.255:1", "169.254.1.1:1", "127.0.0.1:1", "0.0.0.0:1", "[fd00::1]:1",
                         "[fe80::1]:1", "[::1]:1"})
    EXPECT_TRUE(is_private_address(*Endpoint::parse(at))) << at;
  for (const char* at : {"11.77.0.1:1", "172.32.0.1:1", "100.128.0.1:1", "8.8.8.8:1", "[2001:db8::1]:1"})
    EXPECT_FALSE(is_private_address(*Endpoint::parse(at))) << at;
}

}  // namespace
}  // namespace p2plive
