// sim: run the unchanged swarm protocol on a simulated network, in virtual time, and print one JSON report.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "commands.hpp"
#include "console.hpp"
#include "p2plive/simulator.hpp"

namespace p2plive::cli {

Command add_sim(CLI::App& app) {
  auto* cmd = app.add_subcommand("sim", "Simulate a swarm (virtual time) and print a JSON report");
  struct Options {
    sim::Scenario s;
    double duration_s = 30, join_window_s = 5, bitrate_mbps = 2, chunk_ms = 25;
    bool cdf = false, progress = false, per_viewer = false;
    std::size_t come_and_go = 0;
    double watch_s = 4, final_watch_s = 20, mean_watch_s = 0, kill_at_s = 10, start_s = 2, restart_gap_s = 2;
    std::vector<double> restarts_s;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--peers", o->s.viewers, "Number of viewers")->capture_default_str()->check(CLI::Range(1, 2'000'000));
  cmd->add_option("--seconds", o->duration_s, "Simulated seconds")->capture_default_str()->check(CLI::Range(1.0, 86400.0));
  cmd->add_option("--join-window", o->join_window_s, "Viewers arrive over this many seconds")->capture_default_str();
  cmd->add_option("--churn", o->s.churn_per_minute, "Share of viewers replaced per minute (0.1 = 10 %)")->capture_default_str();
  cmd->add_option("--withhold", o->s.withholding_share, "Share of viewers that never forward")->capture_default_str();
  cmd->add_option("--open", o->s.open_share,
                  "Share of viewers anyone can reach (the rest sit behind home NATs)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--symmetric", o->s.symmetric_share,
                  "Share of viewers behind NATs with a port per destination (the rest of the NATed filter)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--loss", o->s.loss, "Datagram loss rate")->capture_default_str();
  cmd->add_option("--bitrate", o->bitrate_mbps, "Stream bitrate in Mbit/s")->capture_default_str();
  cmd->add_option("--broadcaster-children", o->s.broadcaster_children, "Children the broadcaster feeds")->capture_default_str();
  cmd->add_option("--broadcaster-upload", o->s.broadcaster_upload, "The broadcaster's uplink, in bitrates")->capture_default_str();
  cmd->add_option("--chunk-ms", o->chunk_ms, "Stream time per chunk (a keyframe every second)")->capture_default_str()->check(CLI::Range(5.0, 1000.0));
  cmd->add_option("--substreams", o->s.substreams, "Substream trees")->capture_default_str()->check(CLI::Range(1, 16));
  cmd->add_flag("--tracker", o->s.tracker, "The link names a tracker as well as the broadcaster");
  cmd->add_flag("--no-congestion-control", o->s.oracle_caps, "Pace every peer at 95 % of its uplink instead of finding the rate");
  cmd->add_flag("--fan-out", o->s.fan_out, "Baseline: the broadcaster sends to every viewer itself");
  cmd->add_option("--come-and-go", o->come_and_go,
                  "Instead of --peers: this many viewers one after another, each watching --watch seconds and "
                  "leaving alternately without a word (kill -9) and with a goodbye (Ctrl-C), then one that stays "
                  "--final-watch seconds");
  cmd->add_option("--watch", o->watch_s, "Seconds each --come-and-go viewer watches")->capture_default_str();
  cmd->add_option("--final-watch", o->final_watch_s, "Seconds the last --come-and-go viewer watches")->capture_default_str();
  cmd->add_option("--first-arrival", o->start_s, "When the first --come-and-go viewer arrives, in seconds")->capture_default_str();
  cmd->add_option("--arrivals", o->s.arrivals_per_second, "Viewers also arrive as a Poisson process, this many a second")->capture_default_str();
  cmd->add_option("--mean-watch", o->mean_watch_s, "Every viewer stays an exponential time of this mean, in seconds (0: to the end)")->capture_default_str();
  cmd->add_option("--kill", o->s.kill_share, "At --kill-at, this share of the viewers present vanish without a word")->capture_default_str();
  cmd->add_option("--kill-at", o->kill_at_s, "When --kill strikes, in seconds")->capture_default_str();
  cmd->add_option("--restart-at", o->restarts_s, "The broadcaster stops at these seconds (repeatable; every other one a crash) and starts again --restart-gap later");
  cmd->add_option("--restart-gap", o->restart_gap_s, "Seconds between a stop and the next start")->capture_default_str();
  cmd->add_flag("--loopback", o->s.loopback, "Every link as on one machine's loopback (1 Gbit/s, 0.1 ms round trip)");
  cmd->add_flag("--per-viewer", o->per_viewer, "List each viewer's playback (runs of up to 1,000 viewers)");
  cmd->add_option("--seed", o->s.seed, "Random seed; one seed gives one result")->capture_default_str();
  cmd->add_flag("--cdf", o->cdf, "Include the delay and join CDFs");
  cmd->add_flag("--progress", o->progress, "Print a line to stderr as each simulated second begins");
  return [o] {
    auto s = o->s;
    s.duration = sim::Time{static_cast<std::int64_t>(o->duration_s * 1e6)};
    s.join_window = sim::Time{static_cast<std::int64_t>(o->join_window_s * 1e6)};
    s.bitrate_bps = o->bitrate_mbps * 1e6;
    s.chunk_interval = sim::Time{static_cast<std::int64_t>(o->chunk_ms * 1e3)};
    s.chunks_per_keyframe = std::max(1, static_cast<int>(1000.0 / o->chunk_ms + 0.5));
    s.mean_watch = sim::Time{static_cast<std::int64_t>(o->mean_watch_s * 1e6)};
    s.kill_at = sim::Time{static_cast<std::int64_t>(o->kill_at_s * 1e6)};
    for (const auto r : o->restarts_s) s.restarts.push_back(sim::Time{static_cast<std::int64_t>(r * 1e6)});
    s.restart_gap = sim::Time{static_cast<std::int64_t>(o->restart_gap_s * 1e6)};
    if (o->come_and_go > 0) {
      s.visits = sim::come_and_go(o->come_and_go, o->start_s, o->watch_s, o->final_watch_s);
      s.duration = std::max(s.duration, s.visits.back().leave + sim::Time{1'000'000});
    }
    if (o->progress) {
      const auto start = std::chrono::steady_clock::now();
      s.on_second = [start, total = o->duration_s](sim::Time now, std::uint64_t events) {
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::fprintf(stderr, "sim: %.0f of %.0f simulated s, %.1f M events, %.0f s wall\n",
                     static_cast<double>(now.count()) / 1e6, total, static_cast<double>(events) / 1e6, wall);
      };
    }
    std::printf("%s\n", sim::simulate(s).to_json(o->cdf, o->per_viewer).c_str());
    return 0;
  };
}

}  // namespace p2plive::cli
