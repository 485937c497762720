"""Real viewers on loopback: one `p2plive broadcast` and N `p2plive watch` processes over real UDP.
Measures swarm delay (from every viewer's stats), join -> first keyframe bytes on --out, broadcaster upload
over the bitrate, and the CPU of each relaying viewer. Writes results/loopback.json and a CDF plot."""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import first_line, free_udp_port, stats_lines, wait_for  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (FileNotFoundError, ProcessLookupError):
        return None


def poll_joins(viewers, until):
    """Join: from a viewer's start to the first keyframe's bytes in its --out file (playout starts there)."""
    while True:
        now = time.monotonic()
        for v in viewers:
            if v["joined"] is None and os.path.exists(v["out"]) and os.path.getsize(v["out"]) > 0:
                v["joined"] = now - v["started"]
        if now >= until or all(v["joined"] is not None for v in viewers):
            return
        time.sleep(0.005)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p * (len(values) - 1) + 0.5))] if values else 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--p2plive", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--viewers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--bitrate-kbps", type=int, default=2000)
    parser.add_argument("--size", default="640x360", help="of the test pattern (1280x720 fills 6 Mbit/s)")
    parser.add_argument("--input", help="broadcast this encoded file (looped) instead of encoding a test pattern "
                                        "live: the relays' CPU without an encoder beside them on the same cores")
    args = parser.parse_args()
    wd = os.path.join(args.out, "loopback")
    os.makedirs(wd, exist_ok=True)
    p = lambda name: os.path.join(wd, name)  # noqa: E731
    for f in os.listdir(wd):
        os.remove(p(f))

    subprocess.run([args.p2plive, "keygen", "--out", p("k.key")], check=True, capture_output=True)
    port = free_udp_port()
    source = f"lavfi:testsrc2=size={args.size}:rate=30[out0];sine=frequency=440:sample_rate=48000[out1]"
    input_args = ["--input", args.input, "--loop"] if args.input else ["--input", source]
    procs = []
    broadcaster = subprocess.Popen([args.p2plive, "broadcast", "--key", p("k.key")] + input_args + [
                                    "--listen", f"127.0.0.1:{port}", "--video-bitrate", str(args.bitrate_kbps),
                                    "--stats", p("b.jsonl"), "--record", p("published.ts")],
                                   stdout=open(p("b.out"), "w"), stderr=open(p("b.err"), "w"))
    procs.append(broadcaster)
    link = wait_for(lambda: first_line(p("b.out")), 30, "link")
    time.sleep(2)
    viewers = []
    for i in range(args.viewers):
        out = p(f"v{i}.ts")
        started = time.monotonic()
        proc = subprocess.Popen([args.p2plive, "watch", link, "--listen", "127.0.0.1:0", "--out", out,
                                 "--stats", p(f"v{i}.jsonl"), "--duration", str(args.seconds)],
                                stdout=subprocess.DEVNULL, stderr=open(p(f"v{i}.err"), "w"))
        procs.append(proc)
        viewers.append({"proc": proc, "out": out, "started": started, "joined": None, "cpu": None})
        poll_joins(viewers, time.monotonic() + 0.05)
    poll_joins(viewers, time.monotonic() + 15)
    for v in viewers:
        v["cpu_start"] = cpu_seconds(v["proc"].pid)
    measure_from = time.monotonic()
    time.sleep(max(1, args.seconds - 20))
    elapsed = time.monotonic() - measure_from
    for v in viewers:
        end = cpu_seconds(v["proc"].pid)
        if end is not None and v["cpu_start"] is not None:
            v["cpu"] = (end - v["cpu_start"]) / elapsed
    for v in viewers:
        v["proc"].wait(timeout=args.seconds + 60)
    broadcaster.send_signal(signal.SIGINT)
    broadcaster.wait(timeout=30)

    p50s, p99s, ups = [], [], []
    for i in range(args.viewers):
        lines = [l for l in stats_lines(p(f"v{i}.jsonl")) if l["chunks_received"] > 0]
        if lines:
            p50s.append(lines[-1]["delay_ms_p50"])
            p99s.append(lines[-1]["delay_ms_p99"])
            ups.append(lines[-1]["uploaded_bytes"])
    b = stats_lines(p("b.jsonl"))[-1]
    seconds = (b["t"] - stats_lines(p("b.jsonl"))[0]["t"]) / 1000
    published_bps = os.path.getsize(p("published.ts")) * 8 / seconds
    joins = [v["joined"] for v in viewers if v["joined"] is not None]
    relays = sorted(v["cpu"] for v, up in zip(viewers, ups) if v["cpu"] is not None and up > 1e6)
    result = {
        "viewers": args.viewers,
        "seconds": args.seconds,
        "stream_kbps": round(published_bps / 1000),
        "delay_ms_p50_median": percentile(p50s, 0.5),
        "delay_ms_p99_worst": max(p99s) if p99s else None,
        "delay_ms_p99_median": percentile(p99s, 0.5),
        "join_ms_p50": round(1000 * percentile(joins, 0.5)),
        "join_ms_p95": round(1000 * percentile(joins, 0.95)),
        "viewers_joined": len(joins),
        "broadcaster_upload_ratio": round(b["uploaded_bytes"] * 8 / seconds / published_bps, 2),
        "relay_cpu_share_median": round(percentile(relays, 0.5), 4) if relays else None,
        "relay_cpu_share_max": round(max(relays), 4) if relays else None,
    }
    with open(os.path.join(args.out, "loopback.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
