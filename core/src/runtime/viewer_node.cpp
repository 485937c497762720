// The viewing node: the swarm verifies chunks, playout orders them, the sink and the local HTTP server get
// the MPEG-TS bytes.
#include <asio/steady_timer.hpp>
#include <mutex>
#include <nlohmann/json.hpp>

#include "crypto/random.hpp"
#include "http/http_server.hpp"
#include "media/ts_titles.hpp"
#include "p2plive/viewer.hpp"
#include "playout/playout.hpp"
#include "runtime/clock.hpp"
#include "runtime/delay_window.hpp"
#include "runtime/node_runtime.hpp"
#include "runtime/tracker_urls.hpp"

namespace p2plive {
namespace {

constexpr auto playout_tick = std::chrono::milliseconds(20);

class ViewerNode final : public Viewer {
 public:
  explicit ViewerNode(ViewerConfig config)
      : config_(std::move(config)), runtime_(config_.log), playout_timer_(runtime_.io()) {}
  ~ViewerNode() override { stop(); }

  std::error_code open() {
    const bool key_only = config_.link.peers.empty() && config_.link.trackers.empty();
    if (key_only && !config_.dht) return Errc::link_no_bootstrap;
    SwarmConfig swarm;
    swarm.stream_key = config_.link.key;
    swarm.role = config_.relay ? wire::Role::relay : wire::Role::viewer;
    swarm.bootstrap = config_.link.peers;
    // A tracker that cannot be used is worth a warning while anything else can get us in.
    std::error_code tracker_error;
    for (const auto& url : config_.link.trackers) {
      auto tracker = resolve_tracker(url);
      if (tracker) {
        swarm.trackers.push_back(*tracker);
        continue;
      }
      tracker_error = tracker.error();
      runtime_.log(LogLevel::warning, "tracker " + url + ": " + tracker_error.message());
    }
    if (swarm.bootstrap.empty() && swarm.trackers.empty() && !key_only) return tracker_error;
    swarm.rng_seed = secure_random_u64();
    swarm.sending.upload_cap_bps = config_.upload_cap_bps;
    if (config_.no_upload) {
      swarm.trees.max_children = 0;
      swarm.repair.answers_requests = false;
    }
    auto on_event = [this](SwarmEvent&& event) {
      if (auto* verified = std::get_if<ChunkVerified>(&event)) on_verified(std::move(verified->chunk));
      else if (std::holds_alternative<EpochStarted>(event)) on_new_session();
    };
    started_at_ = steady_now();  // the swarm says its first hello as it opens
    if (auto ec = runtime_.open(config_.listen, std::move(swarm), std::move(on_event))) return ec;
    runtime_.start_port_mapping(config_.port_mapping);
    // A link that names peers or trackers needs no DHT: a viewer joins it only for a key-only link, or
    // when told which nodes to use.
    const bool wants_dht = key_only || !config_.dht_bootstrap.empty();
    if (auto ec = wants_dht ? runtime_.start_dht({config_.dht, config_.dht_bootstrap}) : std::error_code{}) {
      if (key_only) return ec;
      runtime_.log(LogLevel::warning, "DHT: " + ec.message());
    }
    if (key_only && !runtime_.dht_running()) return Errc::link_no_bootstrap;
    if (config_.http && !config_.relay) {
      http::ServerConfig hc;
      hc.listen = *config_.http;
      hc.any_port_if_busy = config_.http_any_port_if_busy;
      hc.max_client_queue_bytes = config_.http_client_queue_bytes;
      hc.allow_origin = config_.http_allow_origin;
      hc.log = config_.log;
      // /stats.json is the latest once-a-second snapshot, the same figures as the --stats line.
      auto server = http::Server::open(runtime_.io(), hc, [this] { return to_json(status(), unix_now_us() / 1000); });
      if (!server) return server.error();
      http_ = std::move(server).value();
      http_endpoint_ = http_->local_endpoint();
    }
    schedule_playout();
    return runtime_.start(config_.stats_path, [this] { return collect(); });
  }

  void stop() override {
    runtime_.stop([this] {
      playout_timer_.cancel();
      if (http_) http_->close();
    });
  }
  Stats stats() const override { return runtime_.snapshot(); }
  Endpoint local_endpoint() const override { return runtime_.host().local_endpoint(); }
  Reachability reachability() const override { return runtime_.reachability(); }
  std::optional<Endpoint> http_endpoint() const override { return http_endpoint_; }
  ViewerStatus status() const override {
    std::lock_guard lock(status_mutex_);
    return status_;
  }

 private:
  void on_verified(std::shared_ptr<const Chunk> shared) {
    const Chunk& chunk = *shared;
    const auto now_us = unix_now_us();
    // Chunks published before this viewer received its first one are its join catch-up (from the last
    // keyframe), not the swarm's delay.
    if (first_chunk_us_ == 0) first_chunk_us_ = now_us;
    if (static_cast<std::int64_t>(chunk.timestamp_us) >= first_chunk_us_)
      delays_.add(static_cast<double>(now_us - static_cast<std::int64_t>(chunk.timestamp_us)) / 1000.0);
    newest_verified_us_ = std::max(newest_verified_us_, chunk.timestamp_us);
    playout_.push(std::move(shared), steady_now());
    deliver();
  }

  // The broadcaster started again (Stop/Start in OBS, a crash and a restart): playback starts afresh at
  // the new session's first join point, and players see a new stream begin there.
  void on_new_session() {
    const bool had_one = playout_.started() || bytes_out_ > 0;
    playout_.restart();
    titles_.reset();
    first_chunk_us_ = 0;
    session_start_delay_ms_ = -1;
    if (http_ && had_one) http_->new_session();
  }

  void deliver() {
    while (auto chunk = playout_.poll_output()) {
      if (first_frame_ms_ < 0) first_frame_ms_ = static_cast<double>((steady_now() - started_at_).count()) / 1000.0;
      if (session_start_delay_ms_ < 0)
        session_start_delay_ms_ = static_cast<double>(unix_now_us() - static_cast<std::int64_t>(chunk->timestamp_us)) / 1000.0;
      bytes_out_ += chunk->payload.size();
      last_played_us_ = chunk->timestamp_us;
      titles_.feed(chunk->payload);
      while (auto title = titles_.poll_title()) now_playing_ = std::move(title->text);
      if (config_.relay) continue;
      if (config_.sink) config_.sink(chunk->payload, chunk->is_join_point());
      // Shared with the store, not copied: the HLS window and the players' queues hold the same bytes.
      if (http_) http_->push(http::SharedBytes(chunk, &chunk->payload), chunk->is_join_point(), chunk->timestamp_us);
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
    auto out = runtime_.swarm_stats(config_.relay ? "relay" : "viewer");
    // The DHT is asked while we lack a parent or know few peers, and left alone once we are in.
    runtime_.look_up_on_dht(config_.link.key, out.parents == 0 || out.peers < 3);
    out.chunks_late = playout_.stats().chunks_late;
    out.chunks_missing = playout_.stats().chunks_missing;
    out.chunks_played = playout_.stats().chunks_played;
    out.chunks_before_start = playout_.stats().chunks_before_start;
    out.play_start_seq = playout_.start_seq().value_or(0);
    out.play_next_seq = playout_.next_seq().value_or(0);
    out.first_frame_ms = first_frame_ms_;
    out.session_start_delay_ms = session_start_delay_ms_;
    out.delay_ms_p50 = delays_.percentile(0.50);
    out.delay_ms_p99 = delays_.percentile(0.99);
    out.bytes_out = bytes_out_;
    out.now_playing = now_playing_;
    update_status(out);
    return out;
  }

  void update_status(const Stats& s) {
    const auto now_us = unix_now_us();
    ViewerStatus v;
    v.stats = s;
    if (last_collect_us_ != 0 && now_us > last_collect_us_) {
      const double seconds = static_cast<double>(now_us - last_collect_us_) / 1e6;
      v.down_kbit_s = static_cast<double>(s.downloaded_bytes - last_down_) * 8 / 1000 / seconds;
      v.up_kbit_s = static_cast<double>(s.uploaded_bytes - last_up_) * 8 / 1000 / seconds;
    }
    last_collect_us_ = now_us;
    last_down_ = s.downloaded_bytes;
    last_up_ = s.uploaded_bytes;
    const auto judged = s.chunks_played + s.chunks_missing;
    if (judged > 0) v.on_time_percent = 100.0 * static_cast<double>(s.chunks_played) / static_cast<double>(judged);
    v.started = playout_.started();
    if (const auto video = titles_.has_video()) v.media = *video ? "video" : "audio";
    v.link = config_.link.to_string();
    if (last_played_us_ != 0) {
      v.behind_live_ms = static_cast<double>(now_us - static_cast<std::int64_t>(last_played_us_)) / 1000.0;
      v.buffer_ms = static_cast<double>(newest_verified_us_ - std::min(newest_verified_us_, last_played_us_)) / 1000.0;
    }
    if (http_) {
      v.http_clients = http_->stream_clients();
      v.http_clients_dropped = http_->clients_dropped();
    }
    std::lock_guard lock(status_mutex_);
    status_ = v;
  }

  ViewerConfig config_;
  NodeRuntime runtime_;
  asio::steady_timer playout_timer_;
  Playout playout_;
  DelayWindow delays_;
  std::int64_t first_chunk_us_ = 0;
  Time started_at_{0};
  double first_frame_ms_ = -1;
  double session_start_delay_ms_ = -1;
  std::uint64_t bytes_out_ = 0;
  TsTitleReader titles_;  // what the played stream says of itself: video or not, and its titles
  std::string now_playing_;
  std::uint64_t newest_verified_us_ = 0;  // broadcast times, for the status figures
  std::uint64_t last_played_us_ = 0;
  std::int64_t last_collect_us_ = 0;
  std::uint64_t last_down_ = 0, last_up_ = 0;
  std::unique_ptr<http::Server> http_;    // after runtime_: destroyed first, while the io_context lives
  std::optional<Endpoint> http_endpoint_;
  mutable std::mutex status_mutex_;
  ViewerStatus status_;
};

}  // namespace

std::string to_json(const ViewerStatus& v, std::int64_t unix_ms) {
  auto j = nlohmann::ordered_json::parse(to_json_line(v.stats, unix_ms));
  j["down_kbit_s"] = v.down_kbit_s;
  j["up_kbit_s"] = v.up_kbit_s;
  j["on_time_percent"] = v.on_time_percent;
  j["behind_live_ms"] = v.behind_live_ms;
  j["buffer_ms"] = v.buffer_ms;
  j["http_clients"] = v.http_clients;
  j["http_clients_dropped"] = v.http_clients_dropped;
  j["started"] = v.started;
  j["media"] = v.media;
  j["link"] = v.link;
  return j.dump();
}

Result<std::unique_ptr<Viewer>> Viewer::start(ViewerConfig config) {
  auto node = std::make_unique<ViewerNode>(std::move(config));
  if (auto ec = node->open()) return ec;
  return std::unique_ptr<Viewer>(std::move(node));
}

}  // namespace p2plive
