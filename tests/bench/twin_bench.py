"""The simulator against reality. Each scenario runs as real processes on loopback (one `p2plive broadcast`,
`p2plive watch` viewers arriving and leaving on a schedule, with Ctrl-C or killed with -9) and in the
simulator (`p2plive sim --loopback`, the same schedule, the stream's measured bitrate and chunk rate).
Both are reckoned on one definition (core/src/sim/playback.hpp): from each viewer's first keyframe, the
share of published chunks it played, the share its playout did not skip ("on time"), and its join (node
start -> first keyframe to the player). The simulator's word counts where the two agree: on time within
1 point, join within 30 %. Writes OUT/twin.json and OUT/twin.png.

  twin_bench.py --p2plive build/core/cli/p2plive --out build/bench [--scenarios come_and_go,steady40,kill30]
"""

import argparse
import json
import os
import sys
import random
import subprocess
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from swarm_run import Swarm, summarize  # noqa: E402


def come_and_go_schedule(viewers=8, first_s=2.0, watch_s=4.0, final_s=20.0):
    """sim::come_and_go: one after another, the first, third, ... killed with -9, the others Ctrl-C."""
    visits = [(first_s + i * watch_s, first_s + (i + 1) * watch_s, i % 2 == 1) for i in range(viewers)]
    last = first_s + viewers * watch_s
    return visits + [(last, last + final_s, True)]


def run_real(p2plive, workdir, schedule, duration_s, kill_share=0.0, kill_at_s=None, seed=1):
    """Plays a schedule of (arrive_s, leave_s or None, goodbye) against real processes; returns the
    per-viewer playback and the stream's figures."""
    swarm = Swarm(p2plive, workdir)
    swarm.start_broadcaster()
    pending = sorted(enumerate(schedule), key=lambda e: e[1][0])
    started = {}
    killed = False
    rng = random.Random(seed)
    while True:
        now = time.time() - swarm.t0
        while pending and pending[0][1][0] <= now:
            i, visit = pending.pop(0)
            started[i] = (swarm.start_viewer(), visit)
        for i, (v, (arrive, leave, goodbye)) in started.items():
            if v["left"] is None and leave is not None and now >= leave:
                swarm.leave(v, goodbye)
        if kill_at_s is not None and not killed and now >= kill_at_s:
            alive = [v for v, _ in started.values() if v["left"] is None]
            rng.shuffle(alive)
            for v in alive[:round(kill_share * len(alive))]:
                swarm.leave(v, False)
            killed = True
        if now >= duration_s:
            break
        time.sleep(0.01)
    swarm.stop_all()
    swarm.stop_broadcaster()
    figures = swarm.stream_figures()
    playbacks = [swarm.playback(v) for v, _ in started.values()]
    spread = max((v["arrived"] for v, _ in started.values()), default=0) - min(
        (v["arrived"] for v, _ in started.values()), default=0)
    return playbacks, figures, spread


def run_sim(p2plive, args):
    out = subprocess.run([p2plive, "sim", "--loopback", "--per-viewer"] + [str(a) for a in args],
                         capture_output=True, text=True, check=True).stdout
    r = json.loads(out)
    return r


def sim_summary(r, min_expected):
    viewers = r["viewers"]
    judged = [v for v in viewers if v["expected"] >= min_expected or v["first_frame_ms"] < 0]
    return {"viewers": len(viewers), "played": r["played"], "smooth": r["smooth"],
            "min_viewer_played_pct": min((v["played_pct"] for v in judged), default=0),
            "min_viewer_smooth_pct": min((v["smooth_pct"] for v in judged), default=0),
            "first_frame_ms_p50": r["first_frame_ms_p50"], "first_frame_ms_p95": r["first_frame_ms_p95"],
            "broadcaster_upload_ratio": r["broadcaster_upload_ratio"]}


def scenario(name, p2plive, out_dir):
    wd = os.path.join(out_dir, "twin", name)
    if name == "come_and_go":
        schedule = come_and_go_schedule()
        duration = schedule[-1][1] + 1
        real, figures, _ = run_real(p2plive, wd, schedule, duration)
        sim_args = ["--come-and-go", 8, "--watch", 4, "--final-watch", 20, "--first-arrival", 2]
    elif name in ("steady40", "kill30"):
        schedule = [(1.0 + 0.05 * i, None, True) for i in range(40)]
        duration = 40
        kill = (0.3, 20.0) if name == "kill30" else (0.0, None)
        real, figures, spread = run_real(p2plive, wd, schedule, duration, *kill)
        sim_args = ["--peers", 40, "--join-window", f"{spread:.2f}"]
        if name == "kill30":
            sim_args += ["--kill", 0.3, "--kill-at", 20]
    else:
        raise SystemExit(f"twin_bench: unknown scenario {name}")
    # The same stream in the simulator: the TS bitrate and chunk length the real broadcaster made.
    chunks_per_s = figures["chunks_per_s"]
    chunk_ms = 1000 / chunks_per_s if chunks_per_s else 25
    if name != "come_and_go":
        sim_args = ["--seconds", duration] + sim_args
    sim = run_sim(p2plive, sim_args + ["--bitrate", f"{figures['ts_kbps'] / 1000:.3f}", "--chunk-ms", f"{chunk_ms:.1f}"])
    min_expected = int(2 * chunks_per_s)
    real_s = summarize(real, min_expected)
    real_s["broadcaster_upload_ratio"] = figures["upload_ratio"]
    sim_s = sim_summary(sim, min_expected)
    agree_on_time = abs(100 * (real_s["smooth"] - sim_s["smooth"])) <= 1.0
    rj, sj = real_s["first_frame_ms_p50"], sim_s["first_frame_ms_p50"]
    agree_join = rj is not None and sj is not None and abs(rj - sj) <= 0.3 * max(rj, sj)
    return {"scenario": name, "real": real_s, "sim": sim_s, "chunk_ms": chunk_ms, "ts_kbps": figures["ts_kbps"],
            "agree_on_time": agree_on_time, "agree_join": agree_join, "real_viewers": real,
            "sim_viewers": sim["viewers"]}


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    names = [r["scenario"] for r in results]
    xs = range(len(names))
    for offset, side in ((-0.2, "real"), (0.2, "sim")):
        a.bar([x + offset for x in xs], [100 * r[side]["smooth"] for r in results], width=0.4, label=side)
        b.bar([x + offset for x in xs], [r[side]["first_frame_ms_p50"] or 0 for r in results], width=0.4, label=side)
    a.set_xticks(list(xs), names)
    b.set_xticks(list(xs), names)
    a.set_ylim(90, 100.5)
    a.set_ylabel("chunks on time, %")
    b.set_ylabel("join (node start -> first keyframe), ms p50")
    a.legend()
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--p2plive", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--scenarios", default="come_and_go,steady40,kill30")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    results = [scenario(name, args.p2plive, args.out) for name in args.scenarios.split(",")]
    with open(os.path.join(args.out, "twin.json"), "w") as f:
        json.dump(results, f, indent=1)
    plot(results, os.path.join(args.out, "twin.png"))
    for r in results:
        print(json.dumps({k: r[k] for k in ("scenario", "real", "sim", "agree_on_time", "agree_join")}), flush=True)


if __name__ == "__main__":
    main()
