"""Simulated swarms at several sizes, steady and under churn and withholding, beside the fan-out baseline.
Writes one JSON line per run (results/sim.jsonl), CDF plots (results/*.png) and a Markdown table."""

import argparse
import json
import os
import subprocess
import time


def run(p2plive, **kw):
    args = [p2plive, "sim", "--cdf"]
    for key, value in kw.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif value is not False:
            args += [flag, str(value)]
    # Transparent huge pages for the simulator's heap: with tens of thousands of simulated peers, TLB
    # misses are a large share of its time (glibc 2.35+ reads this; older ones ignore it).
    env = dict(os.environ, GLIBC_TUNABLES="glibc.malloc.hugetlb=1")
    out = subprocess.run(args, capture_output=True, text=True, check=True, env=env).stdout
    return json.loads(out)


def plot(results, out_dir, field, title, filename):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, r in results:
        points = r.get(field) or []
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], label=label)
    ax.set_xscale("log")
    ax.set_xlabel("milliseconds")
    ax.set_ylabel("share of samples")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, filename), dpi=110)
    plt.close(fig)


def row(name, r):
    return (f"| {name} | {r['scenario']['viewers']} | {r['delay_ms_p50']:.0f} / {r['delay_ms_p99']:.0f} | "
            f"{r['join_ms_p50']:.0f} / {r['join_ms_p95']:.0f} | {r['broadcaster_upload_ratio']:.2f} | "
            f"{100 * r['chunks_on_time']:.2f} % | {r['hops_p50']:.0f} / {r['hops_p99']:.0f} / {r['max_hops']} | "
            f"{100 * r['overhead_ratio']:.1f} % | "
            f"{r['wall_seconds']:.0f} s |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--p2plive", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--join-window", type=float, default=5)
    parser.add_argument("--scenarios", default="steady,churn,withhold,fanout")
    parser.add_argument("--tracker", action="store_true", help="links name a tracker too (large swarms)")
    parser.add_argument("--tag", default="", help="suffix for the output files, so runs do not overwrite")
    parser.add_argument("--add", nargs="*", default=[], metavar="NAME=FILE.json",
                        help="steady runs made by hand (`p2plive sim ... --cdf`) to add to the table and plots")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    lines, steady = [], []
    scenarios = {"steady": ("steady", {}), "churn": ("churn 10 %/min", {"churn": 0.1}),
                 "withhold": ("20 % withholding", {"withhold": 0.2}), "loss": ("1 % loss", {"loss": 0.01}),
                 "fanout": ("fan-out baseline", {"fan_out": True})}
    chosen = [scenarios[name] for name in args.scenarios.split(",")]
    tag = args.tag
    with open(os.path.join(args.out, f"sim{tag}.jsonl"), "w") as jsonl:
        for n in sizes:
            for name, kw in chosen:
                started = time.monotonic()
                r = run(args.p2plive, peers=n, seconds=args.seconds, join_window=args.join_window,
                        tracker=args.tracker, **kw)
                r["name"] = name
                cdfless = {k: v for k, v in r.items() if not k.endswith("_cdf")}
                jsonl.write(json.dumps(cdfless) + "\n")
                jsonl.flush()
                print(json.dumps(cdfless), flush=True)
                lines.append(row(name, r))
                if name == "steady":
                    steady.append((f"N = {n}", r))
                print(f"# {name} N={n}: {time.monotonic() - started:.0f} s", flush=True)
    for item in args.add:
        name, path = item.split("=", 1)
        with open(path) as f:
            r = json.load(f)
        lines.append(row(name, r))
        steady.append((f"N = {r['scenario']['viewers']} ({name})", r))
    plot(steady, args.out, "delay_cdf", "Swarm delay (chunk published -> verified), simulated", f"sim_delay_cdf{tag}.png")
    plot(steady, args.out, "join_cdf", "Join -> first keyframe, simulated", f"sim_join_cdf{tag}.png")
    header = ("| scenario | viewers | delay p50 / p99 ms | join p50 / p95 ms | broadcaster up / bitrate | "
              "chunks on time | hops p50 / p99 / max | overhead | wall |\n|---|---|---|---|---|---|---|---|---|")
    table = header + "\n" + "\n".join(lines)
    with open(os.path.join(args.out, f"sim_table{tag}.md"), "w") as f:
        f.write(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
