"""Shared pieces of the end-to-end tests: arguments, processes that are always cleaned up, free ports,
polling with deadlines, ffprobe and the stats contract."""

import argparse
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

STATS_FIELDS = ["t", "role", "peers", "uploaded_bytes", "downloaded_bytes", "chunks_received", "chunks_late",
                "chunks_missing", "delay_ms_p50", "delay_ms_p99", "forged_rejected"]
TEST_SOURCE = "lavfi:testsrc2=size=320x240:rate=30[out0];sine=frequency=440:sample_rate=48000[out1]"
TS_PACKET = 188
# Sanitizer builds run several times slower: tests that load the machine scale down their swarm there.
SANITIZED = os.environ.get("P2PLIVE_SANITIZED") == "1"
# Tests and benchmarks never reach the public DHT: every node they start joins only the DHT nodes its
# test gives it (--dht-bootstrap), or none. CTest sets this too; a script run by hand gets it here.
os.environ.setdefault("P2PLIVE_DHT_BOOTSTRAP", "off")

_children = []


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--p2plive", required=True)
    parser.add_argument("--attack-peer")
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    return args


def in_workdir(workdir):
    """A function that names a file in the test's work folder."""
    return lambda name: os.path.join(workdir, name)


def start(cmd, workdir, name):
    """Starts a process whose output goes to NAME.out/.err in workdir; it is killed when the test exits."""
    out = open(os.path.join(workdir, name + ".out"), "wb")
    err = open(os.path.join(workdir, name + ".err"), "wb")
    proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=workdir, start_new_session=True)
    proc.name = name
    _children.append(proc)
    return proc


def _kill_all():
    for proc in _children:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


atexit.register(_kill_all)


def wait_for(predicate, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    fail(f"timed out after {timeout_s} s waiting for {what}")


def wait_exit(proc, timeout_s):
    try:
        return proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        fail(f"{proc.name} did not exit within {timeout_s} s")


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_text(path):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def first_line(path):
    lines = read_text(path).splitlines()
    return lines[0] if lines else None


def ffprobe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name:format=duration",
                          "-of", "json", path], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        fail(f"ffprobe rejected {path}: {out.stderr.strip()}")
    return json.loads(out.stdout)


def first_video_packet_is_keyframe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1",
                          "-show_entries", "packet=flags", "-of", "csv=p=0", path],
                         capture_output=True, text=True, timeout=60)
    flags = out.stdout.strip().splitlines()
    return bool(flags) and "K" in flags[0]


def ts_packets(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) % TS_PACKET:
        fail(f"{path} is not whole TS packets ({len(data)} bytes)")
    return [data[i:i + TS_PACKET] for i in range(0, len(data), TS_PACKET)]


def stats_lines(path):
    lines = [json.loads(line) for line in read_text(path).splitlines() if line.strip()]
    for line in lines:
        missing = [f for f in STATS_FIELDS if f not in line]
        if missing:
            fail(f"{path}: stats line lacks {missing}")
    return lines


def start_broadcaster(p2plive, workdir, extra=(), source=None):
    """A key, and a broadcast of the test pattern (or `source`) on a free loopback port that records what
    it publishes (published.ts) and its stats (broadcaster.jsonl), with `extra` arguments. Returns the
    process, its link and its port."""
    start([p2plive, "keygen", "--out", os.path.join(workdir, "stream.key")], workdir, "keygen").wait(30)
    port = free_udp_port()
    proc = start([p2plive, "broadcast", "--key", os.path.join(workdir, "stream.key"), "--input",
                  source or TEST_SOURCE, "--listen", f"127.0.0.1:{port}", "--record",
                  os.path.join(workdir, "published.ts"), "--stats", os.path.join(workdir, "broadcaster.jsonl"),
                  *extra], workdir, "broadcaster")
    link = wait_for(lambda: first_line(os.path.join(workdir, "broadcaster.out")), 30, "the broadcaster's link")
    return proc, link, port


def check(condition, message):
    if not condition:
        fail(message)


def fail(message):
    print(f"FAIL: {message}", flush=True)
    _kill_all()
    sys.exit(1)


def passed(count, name):
    print(f"{name}: {count} passed, 0 failed", flush=True)
