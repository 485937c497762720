"""Join as a real player shows it, right after other viewers left: one broadcaster (test pattern, 1 s
keyframes) on loopback; in each trial two viewers watch for a few seconds and leave (killed with -9, or
with Ctrl-C, in turn), and at once `p2plive watch LINK --play` starts, which opens mpv
(--profile=low-latency; here headless). Measured: from starting the watch to mpv's first frame (its
playback-restart event over its JSON IPC). Writes OUT/player_join.json.

  player_join_bench.py --p2plive build/core/cli/p2plive --out build/bench [--trials 20]
"""

import argparse
import json
import os
import sys
import signal
import socket
import stat
import subprocess
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from swarm_run import Swarm, percentile, stats  # noqa: E402


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_frame(sock_path, deadline):
    """Seconds until mpv says playback started, or None."""
    while not os.path.exists(sock_path):
        if time.monotonic() > deadline:
            return None
        time.sleep(0.001)
    s = socket.socket(socket.AF_UNIX)
    while True:
        try:
            s.connect(sock_path)
            break
        except OSError:
            if time.monotonic() > deadline:
                return None
            time.sleep(0.001)
    buf = b""
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = s.recv(65536)
        except socket.timeout:
            return None
        if not data:
            return None
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "playback-restart":
                return time.monotonic()
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--p2plive", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--others", type=int, default=2, help="viewers that leave just before each join")
    parser.add_argument("--others-watch", type=float, default=3)
    args = parser.parse_args()
    swarm = Swarm(args.p2plive, os.path.join(args.out, "player_join"))
    wd = swarm.wd
    # mpv as `watch --play` starts it, with what it was given (the low-latency profile), headless, and an
    # IPC socket to hear when the first frame is up.
    sock = swarm.path("mpv.sock")
    bindir = swarm.path("bin")
    os.makedirs(bindir, exist_ok=True)
    wrapper = os.path.join(bindir, "mpv")
    with open(wrapper, "w") as f:
        f.write(f'#!/bin/sh\nexec /usr/bin/mpv --vo=null --ao=null --input-ipc-server={sock} "$@" '
                f'>>{swarm.path("mpv.log")} 2>&1\n')
    os.chmod(wrapper, stat.S_IRWXU)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    swarm.start_broadcaster()
    time.sleep(2)
    samples, failures, nodes = [], 0, []
    for trial in range(args.trials):
        others = [swarm.start_viewer() for _ in range(args.others)]
        time.sleep(args.others_watch)
        for v in others:
            swarm.leave(v, goodbye=trial % 2 == 1)
        if os.path.exists(sock):
            os.remove(sock)
        port = free_tcp_port()
        began = time.monotonic()
        node_stats = swarm.path(f"watch{trial}.jsonl")
        watch = subprocess.Popen([swarm.p2plive, "watch", swarm.link, "--listen", "127.0.0.1:0", "--http",
                                  f"127.0.0.1:{port}", "--play", "--quiet", "--stats", node_stats], env=env, cwd=wd,
                                 stdout=subprocess.DEVNULL, stderr=open(swarm.path("watch.err"), "ab"))
        shown = first_frame(sock, began + 15)
        watch.send_signal(signal.SIGINT)
        try:
            watch.wait(15)
        except subprocess.TimeoutExpired:
            watch.kill()
        if shown is None:
            failures += 1
        else:
            samples.append(1000 * (shown - began))
        node = [l for l in stats(node_stats) if l.get("first_frame_ms", -1) >= 0]
        node_ms = node[0]["first_frame_ms"] if node else None
        nodes.append(node_ms)
        print(json.dumps({"trial": trial, "others_left": "with Ctrl-C" if trial % 2 else "killed -9",
                          "first_frame_ms": round(samples[-1], 1) if shown else None,
                          "node_first_keyframe_ms": node_ms}), flush=True)
        time.sleep(0.5)
    swarm.stop_broadcaster()
    result = {"what": "watch --play start -> first frame in mpv --profile=low-latency, right after "
                      f"{args.others} other viewers left (alternately killed -9 and Ctrl-C), loopback",
              "trials": args.trials, "failures": failures,
              "first_frame_ms_p50": percentile(samples, 0.5), "first_frame_ms_p95": percentile(samples, 0.95),
              "first_frame_ms_max": max(samples) if samples else None,
              "node_first_keyframe_ms_p50": percentile([n for n in nodes if n is not None], 0.5),
              "node_first_keyframe_ms_p95": percentile([n for n in nodes if n is not None], 0.95),
              "samples_ms": [round(s, 1) for s in samples]}
    with open(os.path.join(args.out, "player_join.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({k: v for k, v in result.items() if k != "samples_ms"}), flush=True)


if __name__ == "__main__":
    main()
