// The viewing node: the swarm verifies chunks, playout orders them, the sink gets the MPEG-TS bytes.
#include <asio/steady_timer.hpp>

#include "p2plive/viewer.hpp"
#include "playout/playout.hpp"
#include "runtime/clock.hpp"
#include "runtime/delay_window.hpp"
#include "runtime/node_runtime.hpp"

namespace p2plive {
namespace {

constexpr auto playout_tick = std::chrono::milliseconds(20);

class ViewerNode final : public Viewer {
 public:
  explicit ViewerNode(ViewerConfig config)
      : config_(std::move(config)), runtime_(config_.log), playout_timer_(runtime_.io()) {}
  ~ViewerNode() override { stop(); }

  std::error_code open() {
    if (config_.link.peers.empty()) return Errc::link_no_bootstrap;
    SwarmConfig swarm;
    swarm.stream_key = config_.link.key;
    swarm.role = config_.relay ? wire::Role::relay : wire::Role::viewer;
    swarm.bootstrap = config_.link.peers;
    swarm.rng_seed = static_cast<std::uint64_t>(unix_now_us()) ^ std::hash<const void*>{}(this);
    if (config_.relay) swarm.max_children = 8;
    auto on_event = [this](SwarmEvent&& event) {
      if (auto* verified = std::get_if<ChunkVerified>(&event)) on_verified(*verified->chunk);
    };
    if (auto ec = runtime_.open(config_.listen, std::move(swarm), std::move(on_event))) return ec;
    schedule_playout();
    return runtime_.start(config_.stats_path, [this] { return collect(); });
  }

  void stop() override {
    runtime_.stop([this] { playout_timer_.cancel(); });
  }
  Stats stats() const override { return runtime_.snapshot(); }
  Endpoint local_endpoint() const override { return runtime_.host().local_endpoint(); }

 private:
  void on_verified(const Chunk& chunk) {
    const auto now_us = unix_now_us();
    // Chunks published before this viewer received its first one are its join catch-up (from the last
    // keyframe), not the swarm's delay.
    if (first_chunk_us_ == 0) first_chunk_us_ = now_us;
    if (static_cast<std::int64_t>(chunk.timestamp_us) >= first_chunk_us_)
      delays_.add(static_cast<double>(now_us - static_cast<std::int64_t>(chunk.timestamp_us)) / 1000.0);
    playout_.push(chunk, steady_now());
    deliver();
  }

  void deliver() {
    while (auto chunk = playout_.poll_output()) {
      bytes_out_ += chunk->payload.size();
      if (config_.sink && !config_.relay) config_.sink(chunk->payload, chunk->is_join_point());
    }
  }

  void schedule_playout() {
    playout_timer_.expires_after(playout_tick);
    playout_timer_.async_wait([this](std::error_code ec) {
      if (ec) return;
      playout_.handle_timeout(steady_now());
      deliver();
      schedule_playout();
    });
  }

  Stats collect() {
    const auto s = runtime_.host().swarm().stats(steady_now());
    Stats out;
    out.role = config_.relay ? "relay" : "viewer";
    out.peers = s.peers;
    out.uploaded_bytes = s.uploaded_bytes;
    out.downloaded_bytes = s.downloaded_bytes;
    out.chunks_received = s.chunks_received;
    out.chunks_late = playout_.stats().chunks_late;
    out.chunks_missing = playout_.stats().chunks_missing;
    out.chunks_played = playout_.stats().chunks_played;
    out.delay_ms_p50 = delays_.percentile(0.50);
    out.delay_ms_p99 = delays_.percentile(0.99);
    out.forged_rejected = s.forged_rejected;
    out.malformed_dropped = s.malformed_dropped;
    out.bytes_out = bytes_out_;
    return out;
  }

  ViewerConfig config_;
  NodeRuntime runtime_;
  asio::steady_timer playout_timer_;
  Playout playout_;
  DelayWindow delays_;
  std::int64_t first_chunk_us_ = 0;
  std::uint64_t bytes_out_ = 0;
};

}  // namespace

Result<std::unique_ptr<Viewer>> Viewer::start(ViewerConfig config) {
  auto node = std::make_unique<ViewerNode>(std::move(config));
  if (auto ec = node->open()) return ec;
  return std::unique_ptr<Viewer>(std::move(node));
}

}  // namespace p2plive
