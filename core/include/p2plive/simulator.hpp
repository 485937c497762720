// A discrete-event simulation of a whole swarm: one broadcaster and many viewers, each the unchanged Swarm
// state machine, on a modelled network in virtual time. Deterministic for a seed.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "p2plive/histogram.hpp"

namespace p2plive::sim {

using Time = std::chrono::microseconds;
using namespace std::chrono_literals;

// A viewer that arrives at one time and, unless `leave` is negative, leaves at another: with a goodbye (as
// Ctrl-C does) or without a word (kill -9, a crash, a lost connection).
struct Visit {
  Time arrive{0};
  Time leave{-1};
  bool says_goodbye = true;
};

struct Scenario {
  std::size_t viewers = 100;
  Time duration = 30s;
  Time join_window = 5s;              // viewers arrive spread over this window (a flash crowd: short)
  double churn_per_minute = 0;        // share of viewers that leave (and are replaced) per minute
  double withholding_share = 0;       // viewers that take the stream but never forward a chunk
  double bitrate_bps = 2e6;
  Time chunk_interval = 25ms;
  int chunks_per_keyframe = 40;       // a keyframe every second
  double loss = 0;
  double share_below_bitrate = 0.2;
  std::size_t broadcaster_children = 6;  // over all substream trees
  double broadcaster_upload = 4;      // the broadcaster's uplink, in bitrates
  std::size_t substreams = 4;
  bool tracker = false;               // the link also names a tracker (a BEP 15 server on a good link)
  bool oracle_caps = false;           // pace each peer at 95 % of its known uplink, not by congestion control
  Time on_time_deadline = 1s;
  Time warmup = 3s;                   // a viewer's first seconds are its join, not its steady state
  bool fan_out = false;               // baseline: the broadcaster sends every viewer everything itself
  std::vector<Visit> visits;          // when not empty, exactly these viewers (`viewers` and `join_window` unused)
  double arrivals_per_second = 0;     // viewers (also) arrive as a Poisson process, each staying an exponential
  Time mean_watch{0};                 // time of this mean; half of them leave with a goodbye
  double kill_share = 0;              // at kill_at, this share of the viewers present vanish without a word
  Time kill_at{0};
  bool loopback = false;              // every link as on one machine's loopback: 1 Gbit/s, 0.1 ms one way
  // Home NATs (sim/nat_model.hpp): shares of viewers that anyone can reach and that sit behind NATs mapping a
  // new port per destination; the rest sit behind filtering NATs (port-restricted cones). The broadcaster
  // and the tracker are open.
  double open_share = 1;
  double symmetric_share = 0;
  std::vector<Time> restarts;         // the broadcaster stops (alternately with goodbyes and by crashing) and
  Time restart_gap = 2s;              // starts again this much later: a new session, numbered from 0
  std::uint64_t seed = 1;
  // Called as each simulated second begins, with the events so far: a progress line for long runs.
  std::function<void(Time now, std::uint64_t events)> on_second;
};

// What one viewer's player got, reckoned exactly as for a real process from its stats (sim/playback.hpp):
// from the first keyframe its playout started at, to when it left.
struct ViewerPlayback {
  Time arrived{0};
  Time left{0};                       // or the end of the run
  bool says_goodbye = true;
  double first_frame_ms = -1;         // arrival -> the first keyframe handed to its player (-1: never)
  double played_pct = 0;              // of the chunks published after that keyframe (up to a deadline before
                                      // it left), the share it played
  double smooth_pct = 0;              // of the chunks its playout reached, the share not skipped as missing
  std::uint64_t expected = 0;         // the chunks played_pct is a share of
};

struct Report {
  Scenario scenario;
  std::uint64_t viewers_total = 0;    // including replacements under churn
  std::uint64_t chunks_published = 0;
  Histogram delay_ms;                 // chunk published -> verified, every viewer, every chunk
  Histogram join_ms;                  // viewer arrives -> first join point verified
  std::uint64_t chunks_expected = 0;  // chunks each viewer should have had on time, summed
  std::uint64_t chunks_on_time = 0;
  Histogram viewer_on_time_pct{101};  // per viewer (that stayed long enough): its share of chunks on time, in %
  std::uint64_t viewers_never_joined = 0;
  double min_viewer_received = 1;     // the worst honest viewer's share of its chunks received at all
  double max_stall_ms = 0;            // the longest any viewer went without a new chunk, after its warm-up
  double broadcaster_upload_ratio = 0;  // broadcaster upload / stream bitrate
  int max_hops = 0;
  Histogram hops{256};                // hops each verified chunk took from the broadcaster
  std::vector<double> delay_sum_ms_by_hops = std::vector<double>(17);  // [h]: summed delay of chunks that took h hops (16: more)
  double overhead_ratio = 0;          // bytes on the wire beyond the media payload, over the payload
  double duplicate_ratio = 0;         // fragments received twice, over fragments received
  std::uint64_t datagrams = 0;
  std::uint64_t queue_drops = 0;      // datagrams dropped at a full link queue (over 500 ms)...
  std::uint64_t uplink_drops = 0;     // ...of them at the sender's uplink
  std::uint64_t broadcaster_datagrams = 0;
  std::array<std::uint64_t, 16> bytes_by_type{};  // every node's sends, by message type (what overhead is)
  std::array<std::uint64_t, 16> broadcaster_bytes_by_type{};  // the broadcaster's alone
  std::uint64_t broadcaster_uplink_drops = 0;
  std::uint64_t children_shed = 0;    // released by viewers whose uplink could not carry them
  std::uint64_t broadcaster_children_shed = 0;
  std::uint64_t probes_unanswered = 0;  // by the broadcaster, beyond its budget for strangers
  std::uint64_t withholders_evicted = 0;  // children the broadcaster dropped on viewers' reports
  // NATs: datagrams they dropped; introductions viewers followed (a hello to the peer they were told of)
  // and the sessions those opened; and, per class (open, filtering, symmetric), viewers and their chunks
  // on time against those expected.
  std::uint64_t nat_dropped = 0;
  std::uint64_t introductions_followed = 0;
  std::uint64_t introduced_sessions = 0;
  std::array<std::uint64_t, 3> viewers_by_nat{};
  std::array<std::uint64_t, 3> expected_by_nat{};
  std::array<std::uint64_t, 3> on_time_by_nat{};
  std::array<double, 3> min_on_time_pct_by_nat{100, 100, 100};
  // Chunks on time against those expected, by the second they were published in: when the swarm faltered.
  std::vector<std::uint64_t> expected_by_second, on_time_by_second;
  Histogram send_rate_share{1000};    // per viewer at the end: its paced send rate, in % of its uplink
  Histogram uplink_use{1000};         // per viewer: what it sent, in % of its uplink
  // Playback as players see it: the same Playout class the viewer node runs, for every viewer.
  Histogram first_frame_ms;           // arrival -> first keyframe handed to the player
  Histogram viewer_played_pct{101};   // per viewer that watched at least 2 s of stream
  Histogram viewer_smooth_pct{101};
  double min_viewer_played_pct = 100;
  double min_viewer_smooth_pct = 100;
  std::uint64_t playout_expected = 0, playout_played = 0;  // summed over viewers: played_pct's parts...
  std::uint64_t playout_reached = 0, playout_skipped = 0;  // ...and smooth_pct's
  std::vector<ViewerPlayback> playback;      // every viewer's, in arrival order, for runs of at most 1,000
  std::vector<double> broadcaster_rate_kbps;  // what it let out, sampled each simulated second (the first hour)
  // The simulator's resident memory, each simulated minute. It grows by design with the world's records
  // (8 bytes per published chunk, one record per visitor); what the nodes hold is held_by_minute.
  std::vector<double> rss_mb_by_minute;
  struct Held {
    double broadcaster_kib = 0, viewer_kib_max = 0;  // chunk payload and send queues
    std::uint64_t broadcaster_peers = 0, viewer_peers_max = 0, holes_max = 0, partials_max = 0;
  };
  std::vector<Held> held_by_minute;  // what the nodes hold, each simulated minute (SwarmStats::held_*)
  // The census (how many listen), each simulated second: the viewers there, the broadcaster's count, and
  // the counts viewers show (5th, 50th and 95th percentiles over those that show one), with how many
  // show none yet.
  struct ListenerSample {
    std::uint32_t truth = 0, broadcaster = 0, viewer_p5 = 0, viewer_p50 = 0, viewer_p95 = 0,
                  viewers_unknown = 0;
  };
  std::vector<ListenerSample> listeners_by_second;
  std::uint64_t restarts = 0;
  Histogram resume_ms;                // a restart: the new session's first chunk -> each viewer's player
  std::uint64_t events = 0;
  double wall_seconds = 0;
  double peak_rss_mb = 0;             // the whole process's peak resident memory, this run and any before it

  double played_ratio() const {
    return playout_expected ? static_cast<double>(playout_played) / static_cast<double>(playout_expected) : 0;
  }
  double smooth_ratio() const {
    return playout_reached ? 1 - static_cast<double>(playout_skipped) / static_cast<double>(playout_reached) : 0;
  }
  double on_time_ratio() const {
    return chunks_expected ? static_cast<double>(chunks_on_time) / static_cast<double>(chunks_expected) : 0;
  }
  // One JSON object: the scenario, the figures, (with_cdf) the delay and join CDFs for plots, and
  // (with_viewers) each listed viewer's playback.
  std::string to_json(bool with_cdf = false, bool with_viewers = false) const;
};

Report simulate(const Scenario& scenario);

// Viewers one after another, from `first_s` on: each watches `watch_s` seconds, and they leave alternately
// without a word (the first, third, ...: kill -9) and with a goodbye (Ctrl-C). Then one more arrives and
// watches `final_watch_s`. What a small stream's listeners do.
std::vector<Visit> come_and_go(std::size_t viewers, double first_s, double watch_s, double final_watch_s);

}  // namespace p2plive::sim
