// What every node shares: one io_context on one thread, the swarm host, and a stats snapshot that is
// refreshed (and appended to the --stats file) once a second.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "dht/mainline_dht.hpp"
#include "p2plive/key.hpp"
#include "p2plive/log.hpp"
#include "p2plive/reachability.hpp"
#include "p2plive/stats.hpp"
#include "reachability/port_mapper.hpp"
#include "runtime/swarm_host.hpp"

namespace p2plive {

struct DhtOptions {
  bool enabled = true;
  std::vector<std::string> bootstrap;  // HOST:PORT; empty: BitTorrent's public routers
};

class NodeRuntime {
 public:
  using CollectFn = std::function<Stats()>;

  explicit NodeRuntime(LogSink log) : log_(std::move(log)), stats_timer_(io_) {}
  ~NodeRuntime() { stop({}); }

  std::error_code open(const Endpoint& listen, SwarmConfig config, SwarmHost::EventFn on_event);
  // Asks the home router to forward the socket's port (see reachability/port_mapper.hpp), unless the
  // socket is on loopback or a public address, or `enabled` is false. After open().
  void start_port_mapping(bool enabled);
  Reachability reachability() const;
  // Joins the Mainline DHT beside the swarm (dht/mainline_dht.hpp), on the socket's address, unless it is
  // off, or the socket is on loopback and no bootstrap node was given (nobody there to ask). After open().
  std::error_code start_dht(const DhtOptions& options);
  bool dht_running() const { return dht_ != nullptr; }
  // The broadcaster: keeps the DHT's record of where it is current (call it now and again; unchanged
  // records cost nothing).
  void publish_on_dht(const SecretKey& key, std::uint64_t epoch);
  // A viewer: looks the stream up on the DHT until it has a parent in every tree; what is found goes to
  // the swarm, on the node's thread.
  void look_up_on_dht(const PublicKey& key, bool wanted);
  // Starts the thread. `collect` runs on it once a second.
  std::error_code start(const std::filesystem::path& stats_path, CollectFn collect);
  // Runs `before_close` on the node's thread, says goodbye to peers, writes a last stats line, joins.
  void stop(std::function<void()> before_close);

  asio::io_context& io() { return io_; }
  SwarmHost& host() { return *host_; }
  const SwarmHost& host() const { return *host_; }
  Stats snapshot() const;
  // The figures every node takes from its swarm, under `role`; the node adds its own. On the node's thread.
  Stats swarm_stats(std::string role) const;
  void log(LogLevel level, std::string_view message) const {
    if (log_) log_(level, message);
  }

 private:
  void refresh_stats();
  void schedule_stats();

  LogSink log_;
  asio::io_context io_;
  asio::steady_timer stats_timer_;
  std::unique_ptr<SwarmHost> host_;
  std::thread thread_;
  CollectFn collect_;
  std::ofstream stats_file_;
  mutable std::mutex snapshot_mutex_;
  Stats snapshot_;
  bool stopped_ = false;
  Reachability fixed_reachability_;     // when no mapper runs
  std::unique_ptr<PortMapper> mapper_;  // after io_: its thread posts to io_, and it is joined first
  std::unique_ptr<MainlineDht> dht_;    // likewise
  bool looking_up_ = false;
};

}  // namespace p2plive
