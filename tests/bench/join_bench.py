"""Join time as a viewer sees it: from starting `p2plive watch` to the first video keyframe arriving on
its /stream.ts. One broadcaster (test pattern, 1 s keyframe interval) on loopback; each trial starts a
fresh watch at a random point of the keyframe interval, reads /stream.ts from the moment its HTTP port
answers, and stops it again. Prints (and writes to OUT/join.json) p50/p95 over the trials."""

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import first_line, free_udp_port, wait_for  # noqa: E402

SOURCE = "lavfi:testsrc2=size=1280x720:rate=30[out0];sine=frequency=440:sample_rate=48000[out1]"


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def video_pid(data):
    """The H.264 (or HEVC) PID from the first PMT in `data`, which starts with a join point's PAT."""
    pmt_pid = None
    for i in range(0, len(data) - 187, 188):
        pkt = data[i:i + 188]
        pid = ((pkt[1] & 0x1F) << 8) | pkt[2]
        start = 4 + (1 + pkt[4] if pkt[3] & 0x20 else 0)
        if pid == 0 and pkt[1] & 0x40:
            section = pkt[start + 1 + pkt[start]:]
            pmt_pid = ((section[10] & 0x1F) << 8) | section[11]
        elif pmt_pid is not None and pid == pmt_pid and pkt[1] & 0x40:
            section = pkt[start + 1 + pkt[start]:]
            length = ((section[1] & 0x0F) << 8) | section[2]
            info = ((section[10] & 0x0F) << 8) | section[11]
            j = 12 + info
            while j + 5 <= 3 + length - 4:
                kind, es = section[j], ((section[j + 1] & 0x1F) << 8) | section[j + 2]
                if kind in (0x1B, 0x24):
                    return es
                j += 5 + (((section[j + 3] & 0x0F) << 8) | section[j + 4])
    return None


def keyframe_offset(data, vpid):
    """The end offset of the first TS packet that starts a keyframe (random access flag) on the video PID."""
    for i in range(0, len(data) - 187, 188):
        pkt = data[i:i + 188]
        pid = ((pkt[1] & 0x1F) << 8) | pkt[2]
        if pid == vpid and pkt[1] & 0x40 and pkt[3] & 0x20 and pkt[4] > 0 and pkt[5] & 0x40:
            return i + 188
    return None


def one_join(p2plive, link, workdir, timeout_s=15):
    port = free_tcp_port()
    began = time.monotonic()
    proc = subprocess.Popen([p2plive, "watch", link, "--listen", "127.0.0.1:0", "--http", f"127.0.0.1:{port}",
                             "--quiet"], stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, "watch.err"), "ab"))
    try:
        deadline = began + timeout_s
        sock = None
        while sock is None and time.monotonic() < deadline:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=1)
            except OSError:
                time.sleep(0.002)
        if sock is None:
            return None
        sock.sendall(b"GET /stream.ts HTTP/1.1\r\nHost: x\r\n\r\n")
        buf = b""
        body_at = None
        vpid = None
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                return None
            buf += chunk
            if body_at is None:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    continue
                body_at = end + 4
            body = buf[body_at:]
            body = body[:len(body) - len(body) % 188]
            vpid = vpid or video_pid(body)
            if vpid is not None and keyframe_offset(body, vpid) is not None:
                return (time.monotonic() - began) * 1000
        return None
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--p2plive", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--keyint", type=float, default=1.0)
    args = parser.parse_args()
    workdir = os.path.join(args.out, "join")
    os.makedirs(workdir, exist_ok=True)
    key = os.path.join(workdir, "stream.key")
    if os.path.exists(key):
        os.remove(key)
    subprocess.run([args.p2plive, "keygen", "--out", key], check=True, stdout=subprocess.DEVNULL)
    port = free_udp_port()
    out_path = os.path.join(workdir, "broadcaster.out")
    broadcaster = subprocess.Popen([args.p2plive, "broadcast", "--key", key, "--input", SOURCE, "--listen",
                                    f"127.0.0.1:{port}", "--keyint", str(args.keyint)],
                                   stdout=open(out_path, "wb"), stderr=open(os.path.join(workdir, "broadcaster.err"), "wb"))
    try:
        link = wait_for(lambda: first_line(out_path), 30, "the broadcaster's link")
        time.sleep(3)
        rng = random.Random(1)
        samples, failures = [], 0
        for _ in range(args.trials):
            time.sleep(rng.uniform(0.2, 0.2 + args.keyint))  # a random point of the keyframe interval
            ms = one_join(args.p2plive, link, workdir)
            if ms is None:
                failures += 1
            else:
                samples.append(ms)
    finally:
        broadcaster.send_signal(signal.SIGINT)
        broadcaster.wait(30)
    result = {
        "what": "watch start -> first video keyframe on /stream.ts, loopback, keyframe interval "
                f"{args.keyint:g} s",
        "trials": args.trials, "failures": failures,
        "join_ms_p50": round(percentile(samples, 0.50), 1) if samples else None,
        "join_ms_p95": round(percentile(samples, 0.95), 1) if samples else None,
        "join_ms_min": round(min(samples), 1) if samples else None,
        "join_ms_max": round(max(samples), 1) if samples else None,
        "samples_ms": [round(s, 1) for s in samples],
    }
    with open(os.path.join(args.out, "join.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({k: v for k, v in result.items() if k != "samples_ms"}))


if __name__ == "__main__":
    main()
