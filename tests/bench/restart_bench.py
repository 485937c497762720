"""A broadcaster that restarts, as OBS's Stop/Start or a crash and a restart do: it broadcasts for a while,
stops (Ctrl-C, or killed with -9), and starts again 2 s later with the same key and port. Viewers stay
throughout. For each restart: how long after the new session's first keyframe was broadcast the viewers
played it (from their --stats, `session_start_delay_ms`; one clock on loopback), and whether any chunk of
an older session played again. Writes OUT/restart.json.

  restart_bench.py --p2plive build/core/cli/p2plive --out build/bench [--restarts 10] [--session 8]
"""

import argparse
import json
import os
import sys
import signal
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from swarm_run import Swarm, percentile, stats  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--p2plive", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--restarts", type=int, default=10)
    parser.add_argument("--session", type=float, default=8, help="seconds each session lasts")
    parser.add_argument("--gap", type=float, default=2, help="seconds between stop and start")
    parser.add_argument("--viewers", type=int, default=3)
    args = parser.parse_args()
    swarm = Swarm(args.p2plive, os.path.join(args.out, "restart"))
    swarm.start_broadcaster("b")
    viewers = [swarm.start_viewer() for _ in range(args.viewers)]
    samples, per_restart = [], []
    for n in range(args.restarts):
        time.sleep(args.session)
        crash = n % 2 == 1  # every other one is a crash: no goodbye to anyone
        swarm.stop_broadcaster(signal.SIGKILL if crash else signal.SIGINT)
        time.sleep(args.gap)
        swarm.start_broadcaster("b")
        # Each viewer's session count goes up by one, and its delay for the new session's first keyframe
        # shows up in its next stats lines.
        deadline = time.time() + 15
        delays = [None] * len(viewers)
        while time.time() < deadline and None in delays:
            for i, v in enumerate(viewers):
                lines = stats(swarm.path(v["name"] + ".jsonl"))
                if lines and lines[-1].get("epochs_started", 0) >= n + 2 and lines[-1]["session_start_delay_ms"] >= 0:
                    delays[i] = lines[-1]["session_start_delay_ms"]
            time.sleep(0.1)
        per_restart.append({"restart": n + 1, "crash": crash, "delays_ms": delays})
        samples += [d for d in delays if d is not None]
        print(json.dumps(per_restart[-1]), flush=True)
    time.sleep(2)
    swarm.stop_all()
    swarm.stop_broadcaster()
    finals = [stats(swarm.path(v["name"] + ".jsonl"))[-1] for v in viewers]
    result = {
        "what": "restart -> viewers that stayed play the new session: ms from its first keyframe's broadcast "
                "to the viewer handing it to players",
        "restarts": args.restarts, "viewers": args.viewers, "session_s": args.session, "gap_s": args.gap,
        "resume_ms_p50": percentile(samples, 0.5), "resume_ms_p95": percentile(samples, 0.95),
        "resume_ms_max": max(samples) if samples else None,
        "missed": sum(1 for r in per_restart for d in r["delays_ms"] if d is None),
        "old_epoch_dropped": [f.get("old_epoch_dropped", 0) for f in finals],
        "epochs_started": [f.get("epochs_started", 0) for f in finals],
        "per_restart": per_restart,
    }
    with open(os.path.join(args.out, "restart.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({k: v for k, v in result.items() if k != "per_restart"}), flush=True)


if __name__ == "__main__":
    main()
