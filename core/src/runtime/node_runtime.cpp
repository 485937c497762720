#include "runtime/node_runtime.hpp"

#include <asio/post.hpp>
#include <cstdio>
#include <future>

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
  mapper_.reset();  // removes the router's mapping: the port closes with the socket
}

}  // namespace p2plive
