#include "runtime/node_runtime.hpp"

#include <asio/post.hpp>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <optional>
#include <string_view>

#include "runtime/clock.hpp"

namespace p2plive {

std::error_code NodeRuntime::open(const Endpoint& listen, SwarmConfig config, SwarmHost::EventFn on_event) {
  auto host = SwarmHost::open(io_, listen, std::move(config), std::move(on_event));
  if (!host) return host.error();
  host_ = std::move(host).value();
  return {};
}

void NodeRuntime::start_port_mapping(bool enabled) {
  const Endpoint bound = host_->local_endpoint();
  fixed_reachability_.state = enabled ? reachability_before_mapping(bound) : Reachability::State::off;
  if (fixed_reachability_.state != Reachability::State::probing) return;
  mapper_ = std::make_unique<PortMapper>(bound, PortMapperOptions{}, [this](const Reachability& r) {
    asio::post(io_, [this, line = describe(r)] { log(LogLevel::info, line); });
  });
}

namespace {

// P2PLIVE_DHT_BOOTSTRAP: the nodes to use when none are given (HOST:PORT,...), or "off" for no DHT unless
// some are given. For a DHT of your own, and for test suites, which must never reach the public one.
std::optional<std::vector<std::string>> default_dht_bootstrap() {
  const char* env = std::getenv("P2PLIVE_DHT_BOOTSTRAP");
  if (!env || !*env) return std::vector<std::string>{};
  if (std::string_view(env) == "off") return std::nullopt;
  std::vector<std::string> nodes;
  std::string_view rest(env);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    if (comma != 0) nodes.emplace_back(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return nodes;
}

}  // namespace

std::error_code NodeRuntime::start_dht(const DhtOptions& options) {
  const Endpoint bound = host_->local_endpoint();
  auto bootstrap = options.bootstrap;
  if (bootstrap.empty()) {
    auto defaults = default_dht_bootstrap();
    if (!defaults) return {};
    bootstrap = std::move(*defaults);
  }
  const bool on_loopback = reachability_before_mapping(bound) == Reachability::State::local;
  if (!options.enabled || (on_loopback && bootstrap.empty())) return {};
  DhtConfig config;
  config.listen = bound;
  config.listen.port = 0;
  config.bootstrap = bootstrap;
  config.private_network = !bootstrap.empty();  // our own nodes, maybe on loopback or a LAN
  config.log = [this](const std::string& line) {
    asio::post(io_, [this, line] { log(LogLevel::info, line); });
  };
  auto dht = MainlineDht::start(std::move(config));
  if (!dht) return dht.error();
  dht_ = std::move(dht).value();
  log(LogLevel::info, "DHT node at " + dht_->local_endpoint().to_string());
  return {};
}

void NodeRuntime::publish_on_dht(const SecretKey& key, std::uint64_t epoch) {
  if (!dht_) return;
  const Endpoint bound = host_->local_endpoint();
  const auto reach = reachability();
  std::vector<Endpoint> endpoints;
  if (reach.external) endpoints.push_back(*reach.external);
  if (!bound.is_unspecified() && (!reach.external || *reach.external != bound)) endpoints.push_back(bound);
  const auto port = reach.external ? reach.external->port : bound.port;
  dht_->publish(key, port, std::move(endpoints), epoch);
}

void NodeRuntime::look_up_on_dht(const PublicKey& key, bool wanted) {
  if (!dht_ || wanted == looking_up_) return;
  looking_up_ = wanted;
  if (!wanted) {
    dht_->stop_lookup();
    return;
  }
  dht_->lookup(key, [this](std::vector<Endpoint> endpoints, bool signed_record) {
    asio::post(io_, [this, endpoints = std::move(endpoints), signed_record] {
      host_->swarm().add_peers(endpoints, signed_record);
      host_->pump();
    });
  });
}

Reachability NodeRuntime::reachability() const { return mapper_ ? mapper_->current() : fixed_reachability_; }

std::error_code NodeRuntime::start(const std::filesystem::path& stats_path, CollectFn collect) {
  if (!stats_path.empty()) {
    stats_file_.open(stats_path, std::ios::app);
    if (!stats_file_) return Errc::output_open_failed;
  }
  collect_ = std::move(collect);
  refresh_stats();
  schedule_stats();
  thread_ = std::thread([this] { io_.run(); });
  return {};
}

void NodeRuntime::schedule_stats() {
  stats_timer_.expires_after(std::chrono::seconds(1));
  stats_timer_.async_wait([this](std::error_code ec) {
    if (ec) return;
    refresh_stats();
    schedule_stats();
  });
}

void NodeRuntime::refresh_stats() {
  if (!collect_) return;
  const auto s = collect_();
  if (stats_file_.is_open()) {
    stats_file_ << to_json_line(s, unix_now_us() / 1000) << '\n';
    stats_file_.flush();
  }
  std::lock_guard lock(snapshot_mutex_);
  snapshot_ = s;
}

Stats NodeRuntime::swarm_stats(std::string role) const {
  const auto s = host_->swarm().stats(steady_now());
  Stats out;
  out.role = std::move(role);
  out.peers = s.peers;
  out.uploaded_bytes = s.uploaded_bytes;
  out.downloaded_bytes = s.downloaded_bytes;
  out.chunks_published = s.chunks_published;
  out.chunks_received = s.chunks_received;
  out.forged_rejected = s.forged_rejected;
  out.malformed_dropped = s.malformed_dropped;
  out.send_rate_kbit_s = s.send_rate_bps / 1000;
  out.tracker_announces = s.tracker_announces;
  out.tracker_peers = s.tracker_peers;
  if (s.epoch != 0) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(s.epoch));
    out.epoch = hex;
  }
  out.epoch_start_us = s.epoch_start_us;
  out.epochs_started = s.epochs_started;
  out.old_epoch_dropped = s.old_epoch_dropped;
  out.bad_tags = s.session.bad_tags;
  out.replays = s.session.replays;
  out.unknown_sessions = s.session.unknown_connections;
  out.unsolicited_fragments = s.unsolicited_fragments;
  out.withholders_evicted = s.withholders_evicted;
  out.children = s.children;
  out.parents = s.parents;
  out.requests_sent = s.requests_sent;
  out.requests_served = s.requests_served;
  out.requests_refused = s.requests_refused;
  const auto reach = reachability();
  out.reachability = reachability_field(reach);
  if (reach.external) out.external_address = reach.external->to_string();
  if (s.observed_address) out.observed_address = s.observed_address->to_string();
  out.symmetric_nat = s.symmetric_nat;
  out.introductions_sent = s.introductions_sent;
  out.introductions_received = s.introductions_received;
  out.introduced_sessions = s.introduced_sessions;
  out.listeners = s.listeners;
  out.listeners_peak = s.listeners_peak;
  out.dht_nodes = dht_ ? static_cast<std::int64_t>(dht_->nodes()) : -1;
  return out;
}

Stats NodeRuntime::snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  return snapshot_;
}

void NodeRuntime::stop(std::function<void()> before_close) {
  if (stopped_) return;
  stopped_ = true;
  if (!thread_.joinable()) {
    dht_.reset();
    mapper_.reset();
    return;
  }
  asio::post(io_, [this, before_close = std::move(before_close)] {
    if (before_close) before_close();
    if (host_) host_->close();
    stats_timer_.cancel();
    refresh_stats();
    io_.stop();
  });
  thread_.join();
  dht_.reset();
  mapper_.reset();  // removes the router's mapping: the port closes with the socket
}

}  // namespace p2plive
