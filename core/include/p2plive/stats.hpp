// A stats snapshot, as written once a second to --stats files (JSON Lines).
#pragma once

#include <cstdint>
#include <string>

namespace p2plive {

struct Stats {
  std::string role;  // "broadcaster", "viewer" or "relay"
  std::uint64_t peers = 0;
  std::uint64_t uploaded_bytes = 0;
  std::uint64_t downloaded_bytes = 0;
  std::uint64_t chunks_published = 0;  // broadcaster
  std::uint64_t chunks_received = 0;   // verified chunks, each counted once
  std::uint64_t chunks_late = 0;       // arrived after playout had skipped past them
  std::uint64_t chunks_missing = 0;    // skipped by playout because they never arrived
  std::uint64_t chunks_played = 0;
  double delay_ms_p50 = 0;             // chunk signed -> verified here, over the last few seconds
  double delay_ms_p99 = 0;
  std::uint64_t forged_rejected = 0;   // chunks whose signature failed
  std::uint64_t malformed_dropped = 0; // datagrams that failed to parse
  std::uint64_t packets_dropped = 0;   // encoder packets dropped because the queue was full
  std::uint64_t bytes_out = 0;         // media bytes handed to the output/player (the broadcaster: published)
  double send_rate_kbit_s = 0;         // what congestion control (or the upload cap) lets out now; 0: unpaced
  std::uint64_t tracker_announces = 0; // answered by trackers
  std::uint64_t tracker_peers = 0;     // peers learned from trackers
  // The broadcast session (epoch) this node plays or publishes: a random id, as 16 hex digits ("" before
  // the first chunk), and when it began. Every start of a broadcast is a new one.
  std::string epoch;
  std::uint64_t epoch_start_us = 0;
  std::uint64_t epochs_started = 0;    // sessions followed, the first one included
  std::uint64_t old_epoch_dropped = 0; // fragments and chunks of an older session, dropped unplayed
  // What strangers and peers tried (core/PROTOCOL.md, "Threat model"): datagrams whose session tag failed,
  // replayed ones, ones for sessions we do not have, fragments nobody asked for, and the broadcaster's
  // children dropped on reports of withholding. children: summed over the trees.
  std::uint64_t bad_tags = 0;
  std::uint64_t replays = 0;
  std::uint64_t unknown_sessions = 0;
  std::uint64_t unsolicited_fragments = 0;
  std::uint64_t withholders_evicted = 0;
  std::uint64_t children = 0;
  // Repair: trees in which this node has a parent, the requests it sent for what the trees missed, and
  // the requests it answered or (the broadcaster, its repair share spent) refused.
  std::uint64_t parents = 0;
  std::uint64_t requests_sent = 0;
  std::uint64_t requests_served = 0;
  std::uint64_t requests_refused = 0;
  std::uint64_t latest_seq = 0;        // the broadcaster: the newest chunk it published in this session
  // The viewer's playback in this session: the join point it started at and the next chunk it will play
  // (with chunks_missing, what tests/bench/twin_bench.py reckons a viewer's share from), and chunks that
  // arrived before that join point.
  std::uint64_t play_start_seq = 0;
  std::uint64_t play_next_seq = 0;
  std::uint64_t chunks_before_start = 0;
  // Port mapping on the home router (p2plive/reachability.hpp): "off", "local", "public", "probing", "upnp",
  // "nat-pmp" or "not_mapped", and the external address the router gave ("" when none).
  std::string reachability;
  std::string external_address;
  // What peers see of this node (their answers' "your address"): the address most agree on ("" until two
  // do), and whether each sees another port (a NAT that maps one per destination: "symmetric").
  std::string observed_address;
  bool symmetric_nat = false;
  // Rendezvous (core/PROTOCOL.md): introductions this node made and was given, and the sessions that
  // opened with a peer it was introduced to.
  std::uint64_t introductions_sent = 0;
  std::uint64_t introductions_received = 0;
  std::uint64_t introduced_sessions = 0;
  // How many listen, swarm-wide: the broadcaster's count up the push trees, as it reached this node, and
  // its peak in this broadcast (0: not known yet). And the track now playing, from the stream's timed ID3
  // (the broadcaster's --now-playing file, or the OBS dock's text source; "" when the stream has none).
  std::uint64_t listeners = 0;
  std::uint64_t listeners_peak = 0;
  std::string now_playing;
  std::int64_t dht_nodes = -1;         // in the Mainline DHT routing table; -1: the DHT is off
  double first_frame_ms = -1;          // from the node's start to the first keyframe handed to players (-1: not yet)
  double session_start_delay_ms = -1;  // this session's first keyframe: broadcast -> handed to players (same clock)
};

// One JSON object, no newline. `unix_ms` becomes the "t" field.
std::string to_json_line(const Stats& stats, std::int64_t unix_ms);

}  // namespace p2plive
