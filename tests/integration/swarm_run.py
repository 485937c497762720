"""Real swarms for tests and benchmarks: a `p2plive broadcast` and `p2plive watch` viewers on loopback that
arrive and leave on a schedule (with Ctrl-C, or killed with -9), and the reckoning of each viewer's
playback from its --stats lines. The reckoning is the simulator's (core/src/sim/playback.hpp), so that
the two can be compared on one definition."""

import json
import os
import shutil
import signal
import subprocess
import time

from harness import first_line, free_udp_port, read_text, wait_for

SOURCE = "lavfi:testsrc2=size=640x360:rate=30[out0];sine=frequency=440:sample_rate=48000[out1]"
DEADLINE_MS = 1000  # a chunk published less than this before a viewer's end is not held against it


def stats(path):
    return [json.loads(line) for line in read_text(path).splitlines() if line.strip()]


def reckon(start_seq, next_seq, missing, newest_due):
    """core/src/sim/playback.hpp's reckon_playback, line for line."""
    expected = newest_due - start_seq + 1 if newest_due >= start_seq else 0
    reached = next_seq - start_seq if next_seq > start_seq else 0
    played = 0
    if next_seq > start_seq:
        reached_due = min(next_seq - 1, newest_due)
        if reached_due >= start_seq:
            span = reached_due - start_seq + 1
            played = span - missing if span > missing else 0
    return {"expected": expected, "played": played, "reached": reached, "missing": missing,
            "played_pct": 100.0 * played / expected if expected else 0.0,
            "smooth_pct": 100.0 * (1 - missing / reached) if reached else 0.0}


class Swarm:
    """One broadcaster and any number of viewers in a work folder."""

    def __init__(self, p2plive, workdir, video_kbps=1300, extra_broadcast_args=()):
        self.p2plive, self.wd = os.path.abspath(p2plive), os.path.abspath(workdir)
        shutil.rmtree(workdir, ignore_errors=True)
        os.makedirs(workdir)
        self.key = self.path("stream.key")
        subprocess.run([p2plive, "keygen", "--out", self.key], check=True, capture_output=True)
        self.port = free_udp_port()
        self.video_kbps = video_kbps
        self.extra = list(extra_broadcast_args)
        self.viewers = []
        self.broadcaster = None

    def path(self, name):
        return os.path.join(self.wd, name)

    @staticmethod
    def free_tcp_port():
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def start_broadcaster_with(self, source, name="b"):
        self.source = source
        return self.start_broadcaster(name)

    def start_broadcaster(self, name="b", prefix=(), listen=None):
        """`prefix` runs it elsewhere (`ip netns exec NS`), listening on `listen` (default: loopback)."""
        self.broadcaster = subprocess.Popen(
            list(prefix) + [self.p2plive, "broadcast", "--key", self.key, "--input", getattr(self, "source", SOURCE),
             "--listen", listen or f"127.0.0.1:{self.port}",
             "--video-bitrate", str(self.video_kbps), "--stats", self.path(name + ".jsonl")] + self.extra,
            stdout=open(self.path(name + ".out"), "w"), stderr=open(self.path(name + ".err"), "w"))
        self.link = wait_for(lambda: first_line(self.path(name + ".out")), 30, "the broadcaster's link")
        self.t0 = time.time()
        return self.broadcaster

    def stop_broadcaster(self, sig=signal.SIGINT):
        self.broadcaster.send_signal(sig)
        self.broadcaster.wait(30)

    def start_viewer(self, extra=(), link=None, listen="127.0.0.1:0", prefix=()):
        i = len(self.viewers)
        name = f"v{i:03d}"
        proc = subprocess.Popen(list(prefix) + [self.p2plive, "watch", link or self.link, "--listen", listen, "--http", "off",
                                 "--quiet", "--stats", self.path(name + ".jsonl")] + list(extra),
                                stdout=subprocess.DEVNULL, stderr=open(self.path(name + ".err"), "w"))
        v = {"name": name, "proc": proc, "arrived": time.time() - self.t0, "left": None, "goodbye": None}
        self.viewers.append(v)
        return v

    def leave(self, v, goodbye):
        v["proc"].send_signal(signal.SIGINT if goodbye else signal.SIGKILL)
        v["proc"].wait(30)
        v["left"] = time.time() - self.t0
        v["goodbye"] = goodbye

    def stop_all(self):
        for v in self.viewers:
            if v["left"] is None:
                self.leave(v, True)

    def newest_due(self, t_ms):
        """The newest chunk the broadcaster had published a deadline before t_ms (from its stats lines)."""
        lines = stats(self.path("b.jsonl"))
        target = t_ms - DEADLINE_MS
        before = [l for l in lines if l["t"] <= target]
        after = [l for l in lines if l["t"] > target]
        if not before:
            return 0
        a = before[-1]
        if not after:
            return a["latest_seq"]
        b = after[0]
        share = (target - a["t"]) / max(1, b["t"] - a["t"])
        return int(a["latest_seq"] + share * (b["latest_seq"] - a["latest_seq"]))

    def playback(self, v):
        """A viewer's figures from its last stats line, reckoned as the simulator does."""
        lines = [l for l in stats(self.path(v["name"] + ".jsonl")) if l.get("epochs_started", 0) <= 1]
        if not lines:
            return None
        last = lines[-1]
        out = {"name": v["name"], "arrived_s": round(v["arrived"], 2), "left_s": round(v["left"] or 0, 2),
               "says_goodbye": v["goodbye"], "first_frame_ms": last.get("first_frame_ms", -1),
               "late": last.get("chunks_late", 0)}
        if last["first_frame_ms"] < 0:
            out.update(played_pct=0.0, smooth_pct=0.0, expected=1, played=0, reached=0, missing=0)
            return out
        out.update(reckon(last["play_start_seq"], last["play_next_seq"], last["chunks_missing"],
                          self.newest_due(last["t"])))
        return out

    def stream_figures(self):
        """The stream as published: TS bitrate and chunks a second."""
        lines = stats(self.path("b.jsonl"))
        first, last = lines[0], lines[-1]
        seconds = (last["t"] - first["t"]) / 1000
        chunks = last["latest_seq"] - first["latest_seq"]
        if seconds <= 0:
            return {"chunks_per_s": 0, "ts_kbps": 0, "upload_kbps": 0, "upload_ratio": 0}
        ts_kbps = (last["bytes_out"] - first["bytes_out"]) * 8 / 1000 / seconds
        upload_kbps = (last["uploaded_bytes"] - first["uploaded_bytes"]) * 8 / 1000 / seconds
        return {"chunks_per_s": chunks / seconds, "ts_kbps": ts_kbps, "upload_kbps": upload_kbps,
                "upload_ratio": upload_kbps / ts_kbps if ts_kbps else 0}


class Visits:
    """Viewer places that people keep coming to and leaving: each visit lasts an exponential `mean_watch`
    (at least 5 s) and ends alternately with Ctrl-C and with kill -9; the next visitor comes an
    exponential 5 s later. Call tick() often."""

    def __init__(self, swarm, places, mean_watch, rng):
        self.swarm, self.mean_watch, self.rng = swarm, mean_watch, rng
        self.places = [None] * places  # (viewer, leaves_at, says_goodbye) while someone is there
        self.free_until = [time.time() + rng.uniform(0, 5) for _ in self.places]
        self.count = 0

    def tick(self):
        now = time.time()
        for i, place in enumerate(self.places):
            if place is None and now >= self.free_until[i]:
                leaves = now + max(5.0, self.rng.expovariate(1 / self.mean_watch))
                self.places[i] = (self.swarm.start_viewer(), leaves, self.count % 2 == 1)
                self.count += 1
            elif place is not None and now >= place[1]:
                self.swarm.leave(place[0], goodbye=place[2])
                self.places[i] = None
                self.free_until[i] = now + self.rng.expovariate(1 / 5)


def status_kib(pid, field):
    """A size field of /proc/PID/status (VmRSS, VmHWM) in KiB; None once the process is gone."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except FileNotFoundError:
        return None
    return None


def percentile(values, q):
    """The nearest-rank percentile, q in [0, 1]; None for no values."""
    values = sorted(values)
    return values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))] if values else None


def summarize(playbacks, min_expected):
    """What the simulator's report gives for the same viewers: shares summed over every viewer, the worst
    of those that watched at least `min_expected` chunks, and join percentiles."""
    playbacks = [p for p in playbacks if p]
    judged = [p for p in playbacks if p["expected"] >= min_expected or p["first_frame_ms"] < 0]
    expected = sum(p["expected"] for p in playbacks)
    played = sum(p["played"] for p in playbacks)
    reached = sum(p["reached"] for p in playbacks)
    missing = sum(p["missing"] for p in playbacks)
    late = sum(p.get("late", 0) for p in playbacks)
    joins = sorted(p["first_frame_ms"] for p in playbacks if p["first_frame_ms"] >= 0)

    return {"viewers": len(playbacks),
            "played": played / expected if expected else 0,
            "smooth": 1 - missing / reached if reached else 0,
            "missing_plus_late": (missing + late) / reached if reached else 0,
            "min_viewer_played_pct": min((p["played_pct"] for p in judged), default=0),
            "min_viewer_smooth_pct": min((p["smooth_pct"] for p in judged), default=0),
            "first_frame_ms_p50": percentile(joins, 0.5), "first_frame_ms_p95": percentile(joins, 0.95)}
