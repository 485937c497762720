// The broadcasting node: packets queue up from any thread; the node's thread muxes, chunks, signs and
// publishes them. The queue is bounded and push() never blocks.
#include <asio/post.hpp>
#include <atomic>
#include <deque>
#include <mutex>

#include "crypto/random.hpp"
#include "media/chunker.hpp"
#include "media/id3.hpp"
#include "media/ts_muxer.hpp"
#include "p2plive/broadcaster.hpp"
#include "runtime/clock.hpp"
#include "runtime/node_runtime.hpp"
#include "runtime/tracker_urls.hpp"

namespace p2plive {
namespace {

class BroadcasterNode final : public Broadcaster {
 public:
  BroadcasterNode(BroadcasterConfig config, std::vector<StreamInfo> streams)
      : config_(std::move(config)), streams_(std::move(streams)), runtime_(config_.log) {}
  ~BroadcasterNode() override { stop(); }

  std::error_code open() {
    auto muxer = TsMuxer::create(
        streams_, [this](std::span<const std::uint8_t> bytes) { chunker_.append(bytes, media_time_); },
        [this] { chunker_.mark_join_point(); }, config_.titles);
    if (!muxer) return muxer.error();
    muxer_ = std::move(muxer).value();

    start_epoch(0);
    SwarmConfig swarm;
    swarm.stream_key = config_.key.public_key();
    swarm.role = wire::Role::broadcaster;
    swarm.crypto = session::sodium_crypto(config_.key.public_key(), &config_.key);  // proves the stream in handshakes
    swarm.rng_seed = secure_random_u64();
    swarm.trees.max_children = 6;  // over its substream trees: about 1.5x the bitrate in pushes
    swarm.sending.upload_cap_bps = config_.upload_cap_bps;
    // A malformed tracker URL is the user's to fix now; one that does not resolve may be a passing
    // network problem, and the broadcast goes on without it.
    for (const auto& url : config_.trackers) {
      auto tracker = resolve_tracker(url);
      if (tracker) swarm.trackers.push_back(*tracker);
      else if (tracker.error() == make_error_code(Errc::tracker_bad_url)) return tracker.error();
      else runtime_.log(LogLevel::warning, "tracker " + url + ": " + tracker.error().message());
    }
    if (auto ec = runtime_.open(config_.listen, std::move(swarm), {})) return ec;
    runtime_.start_port_mapping(config_.port_mapping);
    // The broadcast goes on without the DHT: links with peers or trackers still work.
    if (auto ec = runtime_.start_dht({config_.dht, config_.dht_bootstrap}))
      runtime_.log(LogLevel::warning, "DHT: " + ec.message());
    return runtime_.start(config_.stats_path, [this] { return collect(); });
  }

  bool push(EncodedPacket packet) override {
    if (packet.stream_index < 0 || static_cast<std::size_t>(packet.stream_index) >= streams_.size()) return false;
    const bool is_video = streams_[packet.stream_index].kind == MediaKind::video;
    {
      std::lock_guard lock(queue_mutex_);
      if (closing_) return false;
      // After a dropped video packet, the following frames cannot decode until the next keyframe.
      if (is_video && dropping_video_ && !packet.keyframe) {
        ++packets_dropped_;
        return false;
      }
      dropping_video_ = false;
      while (queued_bytes_ + packet.data.size() > config_.queue_limit_bytes) {
        if (!drop_one_for(is_video)) {
          ++packets_dropped_;
          if (is_video) dropping_video_ = true;
          return false;
        }
      }
      queued_bytes_ += packet.data.size();
      queue_.push_back(std::move(packet));
    }
    if (!wake_posted_.exchange(true)) asio::post(runtime_.io(), [this] { drain(); });
    return true;
  }

  void set_now_playing(std::string title) override {
    if (!config_.titles) return;
    {
      std::lock_guard lock(queue_mutex_);
      title = clean_title(title);
      if (title == title_) return;
      title_ = std::move(title);
      title_changed_ = true;
    }
    if (!wake_posted_.exchange(true)) asio::post(runtime_.io(), [this] { drain(); });
  }

  void stop() override {
    {
      std::lock_guard lock(queue_mutex_);
      if (closing_) return;
      closing_ = true;
    }
    runtime_.stop([this] {
      drain();
      muxer_->finish();
      chunker_.flush();
      publish_ready();
    });
  }

  Stats stats() const override { return runtime_.snapshot(); }
  Endpoint local_endpoint() const override { return runtime_.host().local_endpoint(); }
  Reachability reachability() const override { return runtime_.reachability(); }

 private:
  // Makes room by dropping queued video (audio goes last: a gap in sound is worse than a frozen frame).
  bool drop_one_for(bool incoming_is_video) {
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (streams_[it->stream_index].kind == MediaKind::video) {
        queued_bytes_ -= it->data.size();
        queue_.erase(it);
        ++packets_dropped_;
        dropping_video_ = true;
        return true;
      }
    }
    if (incoming_is_video || queue_.empty()) return false;
    queued_bytes_ -= queue_.front().data.size();
    queue_.pop_front();
    ++packets_dropped_;
    return true;
  }

  void drain() {
    wake_posted_ = false;
    std::deque<EncodedPacket> batch;
    {
      std::lock_guard lock(queue_mutex_);
      batch.swap(queue_);
      queued_bytes_ = 0;
      // The title goes out with the first packet after it changed, stamped with that packet's time.
      if (title_changed_) muxer_->set_title(title_);
      title_changed_ = false;
    }
    for (const auto& packet : batch) {
      const auto& s = streams_[packet.stream_index];
      media_time_ = std::chrono::microseconds(packet.dts * 1'000'000 * s.timebase_num / std::max(1, s.timebase_den));
      if (auto ec = muxer_->write(packet)) {
        ++mux_errors_;
        continue;
      }
      publish_ready();
    }
    runtime_.host().pump();
  }

  // Every start of a broadcast is a new session: a random id and its start time go under every chunk's
  // signature, and its chunks count from 0, so viewers that stayed through a restart follow at once.
  void start_epoch(std::uint64_t first_chunk) {
    const auto previous = wire::epoch_tag(epoch_);
    do epoch_ = secure_random_u64();
    while (wire::epoch_tag(epoch_) == 0 || wire::epoch_tag(epoch_) == previous);
    epoch_start_us_ = static_cast<std::uint64_t>(unix_now_us());
    epoch_first_chunk_ = first_chunk;
  }

  void publish_ready() {
    while (chunker_.has_chunk()) {
      auto chunk = chunker_.pop_chunk();
      const auto limit = std::min<std::uint64_t>(config_.max_epoch_chunks, wire::max_seq);
      if (chunk.is_join_point() && chunk.seq.value - epoch_first_chunk_ >= limit) start_epoch(chunk.seq.value);
      chunk.seq.value -= epoch_first_chunk_;
      chunk.epoch = epoch_;
      chunk.epoch_start_us = epoch_start_us_;
      chunk.timestamp_us = static_cast<std::uint64_t>(unix_now_us());
      sign_chunk(config_.key, chunk);
      if (config_.on_published) config_.on_published(chunk.payload, chunk.is_join_point());
      latest_seq_ = chunk.seq.value;
      published_bytes_ += chunk.payload.size();
      runtime_.host().swarm().publish(std::move(chunk), steady_now());
    }
  }

  Stats collect() {
    auto out = runtime_.swarm_stats("broadcaster");
    runtime_.publish_on_dht(config_.key, std::strtoull(out.epoch.c_str(), nullptr, 16));
    out.latest_seq = latest_seq_;
    out.bytes_out = published_bytes_;
    std::lock_guard lock(queue_mutex_);
    out.packets_dropped = packets_dropped_;
    out.now_playing = title_;
    return out;
  }

  BroadcasterConfig config_;
  std::vector<StreamInfo> streams_;
  std::unique_ptr<TsMuxer> muxer_;
  Chunker chunker_;
  std::chrono::microseconds media_time_{0};
  std::uint64_t mux_errors_ = 0;
  std::uint64_t epoch_ = 0, epoch_start_us_ = 0, epoch_first_chunk_ = 0;
  std::uint64_t latest_seq_ = 0;
  std::uint64_t published_bytes_ = 0;

  std::mutex queue_mutex_;
  std::deque<EncodedPacket> queue_;
  std::size_t queued_bytes_ = 0;
  std::uint64_t packets_dropped_ = 0;
  bool dropping_video_ = false;
  std::string title_;  // the track now playing, and whether the muxer has yet to hear of it
  bool title_changed_ = false;
  bool closing_ = false;
  std::atomic<bool> wake_posted_{false};

  NodeRuntime runtime_;  // the destructor stops its thread before any member goes away
};

}  // namespace

Result<std::unique_ptr<Broadcaster>> Broadcaster::start(BroadcasterConfig config, std::vector<StreamInfo> streams) {
  auto node = std::make_unique<BroadcasterNode>(std::move(config), std::move(streams));
  if (auto ec = node->open()) return ec;
  return std::unique_ptr<Broadcaster>(std::move(node));
}

}  // namespace p2plive
