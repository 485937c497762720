"""A DJ set of a long while on loopback: one broadcaster, and ten viewer places that people keep coming to
and leaving (each visit an exponential time, alternately killed with -9 and stopped with Ctrl-C, a new one
a few seconds later), one of them kept by a viewer that stays throughout. Reckons every visit's playback
(tests/integration/swarm_run.py), samples the broadcaster's and the staying viewer's memory from /proc,
and checks the counters for trouble: sequence numbers that stall or jump, counters that go backwards,
delays that run away. Writes OUT/soak.json.

  soak_bench.py --p2plive build/core/cli/p2plive --out build/bench [--minutes 30] [--places 10] [--mean-watch 120]
"""

import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from swarm_run import Swarm, Visits, stats, status_kib, summarize  # noqa: E402


def counter_trouble(lines, fields):
    """Counters that went backwards between consecutive stats lines."""
    trouble = []
    for a, b in zip(lines, lines[1:]):
        for f in fields:
            if b.get(f, 0) < a.get(f, 0):
                trouble.append(f"{f} went from {a[f]} to {b[f]} at t={b['t']}")
    return trouble


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--p2plive", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--places", type=int, default=10)
    parser.add_argument("--mean-watch", type=float, default=120, help="seconds a visit lasts on average")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    swarm = Swarm(args.p2plive, os.path.join(args.out, "soak"))
    swarm.start_broadcaster()
    time.sleep(2)
    resident = swarm.start_viewer()
    visits = Visits(swarm, args.places - 1, args.mean_watch, rng)
    end = time.time() + 60 * args.minutes
    memory = []
    last_sample = 0
    while time.time() < end:
        now = time.time()
        visits.tick()
        if now - last_sample >= 10:
            last_sample = now
            memory.append({"t_s": round(now - swarm.t0), "broadcaster_kib": status_kib(swarm.broadcaster.pid, "VmRSS"),
                           "viewer_kib": status_kib(resident["proc"].pid, "VmRSS")})
        time.sleep(0.05)
    swarm.stop_all()
    swarm.stop_broadcaster()

    playbacks = [swarm.playback(v) for v in swarm.viewers]
    figures = swarm.stream_figures()
    summary = summarize(playbacks, int(2 * figures["chunks_per_s"]))
    b_lines = stats(swarm.path("b.jsonl"))
    r_lines = stats(swarm.path(resident["name"] + ".jsonl"))
    trouble = counter_trouble(b_lines, ["uploaded_bytes", "downloaded_bytes", "latest_seq", "bytes_out"])
    trouble += counter_trouble(r_lines, ["uploaded_bytes", "downloaded_bytes", "chunks_received", "chunks_played",
                                         "play_next_seq", "chunks_missing", "chunks_late"])
    # The newest chunk advances with the stream, second after second; the staying viewer's delay stays put.
    rates = [(b["latest_seq"] - a["latest_seq"]) / max(0.001, (b["t"] - a["t"]) / 1000)
             for a, b in zip(b_lines, b_lines[1:])]
    expected_rate = figures["chunks_per_s"]
    stalls = [r for r in rates if r < 0.5 * expected_rate or r > 2 * expected_rate]
    if len(stalls) > 2:
        trouble.append(f"{len(stalls)} seconds in which the broadcaster's sequence moved at {stalls[:5]}/s, "
                       f"not about {expected_rate:.0f}/s")
    delays = [l["delay_ms_p99"] for l in r_lines[10:]]
    at5 = next((m for m in memory if m["t_s"] >= 300), memory[0] if memory else None)
    last = memory[-1] if memory else None

    def growth(key):
        return round(100 * (last[key] / at5[key] - 1), 2) if at5 and last and at5[key] and last[key] else None

    result = {"what": f"{args.places} viewer places on loopback for {args.minutes:g} min, visits of "
                      f"{args.mean_watch:g} s on average, one viewer staying throughout",
              "stream_kbps": round(figures["ts_kbps"]), "visits": len(playbacks), **summary,
              "staying_viewer": playbacks[0],
              "staying_viewer_delay_ms_p99_max": max(delays) if delays else None,
              "broadcaster_upload_ratio": round(figures["upload_ratio"], 3),
              "rss_kib_after_5_min": at5, "rss_kib_end": last,
              "rss_growth_pct_broadcaster": growth("broadcaster_kib"), "rss_growth_pct_viewer": growth("viewer_kib"),
              "trouble": trouble, "memory": memory}
    with open(os.path.join(args.out, "soak.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({k: v for k, v in result.items() if k != "memory"}), flush=True)


if __name__ == "__main__":
    main()
