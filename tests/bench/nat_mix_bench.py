#!/usr/bin/env python3
"""Viewers behind home NATs, as real processes in network namespaces: a public broadcaster and a mix of
open, filtering (port-restricted cone) and symmetric viewers, some with uplinks below the bitrate
(tests/integration/netns.py builds them). Prints a JSON report: every viewer's playback, reckoned as the
simulator does (swarm_run.py), the summary, and the broadcaster's upload against the stream.

  sudo python3 tests/bench/nat_mix_bench.py --p2plive build/core/cli/p2plive --out DIR
      [--open 6 --filtering 11 --symmetric 3 --slow 4 --slow-kbps 800 --seconds 40]
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import netns  # noqa: E402
from swarm_run import Swarm, summarize  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--p2plive", required=True)
parser.add_argument("--out", required=True)
parser.add_argument("--open", type=int, default=6)
parser.add_argument("--filtering", type=int, default=11)
parser.add_argument("--symmetric", type=int, default=3)
parser.add_argument("--slow", type=int, default=4, help="how many filtering viewers have a slow uplink")
parser.add_argument("--slow-kbps", type=int, default=800)
parser.add_argument("--video-kbps", type=int, default=1300)
parser.add_argument("--seconds", type=float, default=40)
parser.add_argument("--spacing", type=float, default=0.25, help="seconds between viewer arrivals")
args = parser.parse_args()

swarm = Swarm(args.p2plive, args.out, video_kbps=args.video_kbps)
nets = netns.Namespaces("natmix")
internet = netns.Internet(nets)
b_ns, b_address = internet.public_host("b")
swarm.start_broadcaster(prefix=netns.run_in(b_ns), listen=f"{b_address}:7000")

kinds = ["open"] * args.open + ["filtering"] * args.filtering + ["symmetric"] * args.symmetric
viewers = []
slow_left = args.slow
for i, kind in enumerate(kinds):
    slow = kind == "filtering" and slow_left > 0
    slow_left -= slow
    uplink = args.slow_kbps if slow else None
    if kind == "open":
        ns, public = internet.public_host(f"v{i}", uplink)
    else:
        ns, public = internet.behind_nat(f"v{i}", kind, uplink)
    v = swarm.start_viewer(prefix=netns.run_in(ns), listen="0.0.0.0:0", extra=["--no-port-mapping"])
    v.update(kind=kind, slow=slow, public=public)
    viewers.append(v)
    time.sleep(args.spacing)

time.sleep(args.seconds)
swarm.stop_all()
swarm.stop_broadcaster()
playbacks = []
for v in viewers:
    p = swarm.playback(v) or {"name": v["name"], "expected": 1, "played": 0, "reached": 0, "missing": 0,
                              "played_pct": 0.0, "smooth_pct": 0.0, "first_frame_ms": -1}
    p.update(kind=v["kind"], slow=v["slow"])
    playbacks.append(p)
report = {"bench": "nat_mix", "args": vars(args), "stream": swarm.stream_figures(),
          "summary": summarize(playbacks, min_expected=40),
          "by_kind": {k: summarize([p for p in playbacks if p["kind"] == k], 40) for k in sorted(set(kinds))},
          "viewers": playbacks}
with open(os.path.join(args.out, "nat_mix.json"), "w") as f:
    json.dump(report, f, indent=1)
print(json.dumps({k: report[k] for k in ("stream", "summary", "by_kind")}, indent=1))
