"""Twenty viewers behind home NATs, each a host of its own in a network namespace: 6 open, 11 behind
filtering NATs (4 of those with an uplink below the bitrate) and 3 behind symmetric NATs. All of them play.
Filtered viewers reach each other only through rendezvous (an introduction by a peer both hold sessions
with); symmetric ones only through reachable parents, which make room for them."""

import json

import harness
from harness import check
from nat_mix import run_mix

args = harness.parse_args()
report = run_mix(args.p2plive, args.workdir, seconds=20)
with open(harness.in_workdir(args.workdir)("nat_mix.json"), "w") as f:
    json.dump(report, f, indent=1)
print(json.dumps({k: report[k] for k in ("stream", "summary", "by_kind")}, indent=1))
for v in report["viewers"]:
    # Generous bounds: the benchmark (core/BENCHMARKS.md) holds the figures; this checks that all play.
    check(v["played_pct"] >= 90, f"{v['name']} ({v['kind']}) played only {v['played_pct']:.1f} %")
filtered = [v for v in report["viewers"] if v["kind"] == "filtering"]
met = sum(1 for v in filtered if v["introduced_sessions"] > 0)
check(met >= len(filtered) // 2, f"only {met} of {len(filtered)} filtered viewers met a peer through rendezvous")
ratio = report["stream"]["upload_ratio"]
check(ratio <= 2.5, f"the broadcaster uploaded {ratio:.2f}x the stream")
print(f"test_nat_mix: all {len(report['viewers'])} play; {met} filtered viewers met peers by rendezvous; "
      f"broadcaster {ratio:.2f}x")
