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

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from nat_mix import run_mix  # noqa: E402

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

report = run_mix(args.p2plive, args.out, args.open, args.filtering, args.symmetric, args.slow, args.slow_kbps,
                 args.video_kbps, args.seconds, args.spacing)
report["args"] = vars(args)
with open(os.path.join(args.out, "nat_mix.json"), "w") as f:
    json.dump(report, f, indent=1)
print(json.dumps({k: report[k] for k in ("stream", "summary", "by_kind")}, indent=1))
