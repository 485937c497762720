"""A viewer's memory at a given bitrate (default 6 Mbit/s): one broadcaster (test pattern at 720p) and one
`p2plive watch` serving a player that reads /stream.ts and another that polls /live.m3u8, on loopback.
Samples the viewer's resident memory from /proc each second; reports its peak (VmHWM), its RSS after the
first minute's settling and at the end, and what it is made of (/proc/PID/smaps_rollup). Writes
OUT/memory.json.

  memory_bench.py --p2plive build/core/cli/p2plive --out build/bench [--seconds 60] [--video-kbps 6000]
"""

import argparse
import json
import os
import sys
import subprocess
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from swarm_run import Swarm, stats, status_kib  # noqa: E402

SOURCE = "lavfi:testsrc2=size=1280x720:rate=30[out0];sine=frequency=440:sample_rate=48000[out1]"


def rollup(pid):
    out = {}
    for line in open(f"/proc/{pid}/smaps_rollup"):
        parts = line.split()
        if len(parts) >= 3 and parts[2] == "kB":
            out[parts[0].rstrip(":")] = int(parts[1])
    return {k: out.get(k) for k in ("Rss", "Anonymous", "Shared_Clean", "Private_Dirty")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--p2plive", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--video-kbps", type=int, default=6000)
    args = parser.parse_args()
    swarm = Swarm(args.p2plive, os.path.join(args.out, "memory"), video_kbps=args.video_kbps)
    swarm.start_broadcaster_with(SOURCE)
    port = swarm.free_tcp_port()
    viewer = subprocess.Popen([swarm.p2plive, "watch", swarm.link, "--listen", "127.0.0.1:0", "--http",
                               f"127.0.0.1:{port}", "--quiet", "--stats", swarm.path("v.jsonl")],
                              stderr=open(swarm.path("v.err"), "w"))
    time.sleep(1)
    base = f"http://127.0.0.1:{port}"
    player = subprocess.Popen(["curl", "-s", "-o", "/dev/null", base + "/stream.ts"])
    samples = []
    for second in range(args.seconds):
        time.sleep(1)
        if second % 3 == 0:  # an HLS player comes by for the playlist and its newest segment
            try:
                playlist = urllib.request.urlopen(base + "/live.m3u8", timeout=5).read().decode()
                segments = [l for l in playlist.splitlines() if l.startswith("seg/")]
                if segments:
                    urllib.request.urlopen(base + "/" + segments[-1], timeout=5).read()
            except OSError:
                pass
        samples.append(status_kib(viewer.pid, "VmRSS"))
    peak = status_kib(viewer.pid, "VmHWM")
    parts = rollup(viewer.pid)
    player.kill()
    viewer.terminate()
    viewer.wait(30)
    swarm.stop_broadcaster()
    last = stats(swarm.path("v.jsonl"))[-1]
    ts_kbps = swarm.stream_figures()["ts_kbps"]
    settled = samples[min(len(samples) - 1, 20)]
    result = {"what": "a viewer serving /stream.ts and HLS, resident memory from /proc",
              "stream_kbps": round(ts_kbps), "seconds": args.seconds,
              "peak_rss_mib": round(peak / 1024, 1), "rss_after_20s_mib": round(settled / 1024, 1),
              "rss_end_mib": round(samples[-1] / 1024, 1), "end_breakdown_kib": parts,
              "chunks_received": last["chunks_received"], "chunks_missing": last["chunks_missing"],
              "rss_mib_each_second": [round(s / 1024, 1) for s in samples]}
    with open(os.path.join(args.out, "memory.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({k: v for k, v in result.items() if k != "rss_mib_each_second"}), flush=True)


if __name__ == "__main__":
    main()
