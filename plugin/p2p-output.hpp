// The "P2P Live" output: takes OBS's encoded packets and hands them to a p2plive::Broadcaster.
//
// Threads: start()/stop() come from OBS's UI (or any caller of obs_output_start/stop); on_packet() from the
// encoder thread with libobs's interleave mutex held, so it only copies into the core's queue and returns;
// the core networks on its own thread. Stopping the broadcaster (flush, goodbye, join) runs on one stopper
// thread per session, which ends by signalling OBS; the next start() or the destructor joins it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <obs-module.h>

#include "bootstrap.hpp"
#include "now-playing.hpp"
#include "obs-log.hpp"
#include "p2plive/broadcaster.hpp"
#include "p2plive/media.hpp"

namespace p2plive::plugin {

class P2POutput {
 public:
  P2POutput(obs_data_t* settings, obs_output_t* output);
  ~P2POutput();
  P2POutput(const P2POutput&) = delete;
  P2POutput& operator=(const P2POutput&) = delete;

  bool start();
  void stop(std::uint64_t stop_ts_ns);
  void on_packet(encoder_packet* packet);

  std::uint64_t total_bytes() const;
  int dropped_frames() const;
  int connect_time_ms() const { return connect_time_ms_.load(); }
  std::string viewer_link() const;
  std::string stats_json() const;

 private:
  bool fail(const std::string& message);
  void begin_stop(int code, std::uint64_t stop_ts_usec);
  void run_stop(int code);
  void join_stopper();
  std::shared_ptr<Broadcaster> current() const;

  obs_output_t* output_;
  OutputLog log_;

  mutable std::mutex mutex_;  // guards everything below it, except the atomics
  std::shared_ptr<Broadcaster> broadcaster_;
  std::unique_ptr<SourceTitle> titles_;  // the service names a text source: its text is the track title
  std::vector<StreamInfo> streams_;
  std::string viewer_link_;
  PublicKey public_key_{};
  Bootstrap bootstrap_;                          // the service's Server field, as parsed at start
  enum class State { idle, running, stopping };  // stopping: the stopper runs and will signal OBS
  State state_ = State::idle;
  std::uint64_t session_ = 0;  // counts starts, so a late stopper cannot end a newer session
  std::uint64_t stop_ts_usec_ = 0;  // packets stamped before this still go out (OBS's sys_dts_usec clock)
  bool stop_ts_reached_ = false;
  std::condition_variable stop_ts_cv_;
  std::thread stopper_;  // started under mutex_; joined by start() and the destructor, when nothing else runs

  mutable std::atomic<std::uint64_t> last_total_bytes_{0};
  std::atomic<int> connect_time_ms_{0};
};

void register_p2p_output();

}  // namespace p2plive::plugin
