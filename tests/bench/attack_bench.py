"""Every attack of the threat model (core/PROTOCOL.md) on real processes, at the issue's setup: a broadcaster
and four viewers on loopback, each attack for 20 s at 2,000 datagrams a second (garbage at 50,000), and a
viewer whose only path to the broadcaster corrupts 3 % of datagrams. For each: what every honest viewer
played and played on time of what was published during the attack, and the broadcaster's upload over the
bitrate. Writes OUT/attacks.json and prints the table for core/BENCHMARKS.md. Needs root (raw sockets).

  attack_bench.py --p2plive build/core/cli/p2plive --attack-peer build/tests/attack/attack_peer --out build/bench
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from attack_run import attacks, run  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--p2plive", required=True)
    parser.add_argument("--attack-peer", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--flood-rate", type=int, default=50000)
    parser.add_argument("--only", help="run only attacks whose name contains this")
    args = parser.parse_args()
    results = []
    for n, (name, rate, args_of) in enumerate(attacks(args.rate, args.flood_rate)):
        if args.only and args.only not in name:
            continue
        r = run(args.p2plive, args.attack_peer, os.path.join(args.out, "attacks", f"a{n}"), name, args_of, args.seconds)
        r["rate"] = rate
        results.append(r)
        print(json.dumps(r), flush=True)
    if not args.only or args.only in "corrupting path":
        r = run(args.p2plive, args.attack_peer, os.path.join(args.out, "attacks", "corrupt"),
                "a viewer's only path to the broadcaster corrupts 3 % of datagrams", None, args.seconds, corrupt_share=0.03)
        r["rate"] = "3 %"
        results.append(r)
        print(json.dumps(r), flush=True)
    with open(os.path.join(args.out, "attacks.json"), "w") as f:
        json.dump(results, f, indent=1)
    print("\n| attack | rate (datagrams/s) | honest viewers: played, min | on time, min | broadcaster ÷ bitrate |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['attack']} | {r['rate']} | {r['min_played_pct']:.1f} % | {r['min_on_time_pct']:.1f} % | "
              f"{r['broadcaster_ratio']:.2f} |")


if __name__ == "__main__":
    main()
