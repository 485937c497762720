"""The viewer's HTTP server: /stream.ts, /live.m3u8 and /stats.json from `p2plive watch --http`.
ffprobe finds video and audio in both the TS stream and the HLS playlist; the stream starts at a join point;
two clients at once get the same bytes; a client that stops reading is dropped without stalling the other
client or the swarm; bad --http and --play are one-line errors."""

import os
import subprocess
import urllib.request

from harness import check, ffprobe, first_video_packet_is_keyframe, fail, in_workdir, parse_args, passed, start, \
    start_broadcaster, stats_lines, wait_exit, wait_for, STATS_FIELDS
from http_client import StreamReader, check_starts_at_join_point, free_tcp_port, get, start_watch, stats

args = parse_args()
wd = args.workdir
path = in_workdir(wd)
broadcaster, link, _ = start_broadcaster(args.p2plive, wd)
watch, base = start_watch(args.p2plive, wd, link, "watch", ["--stats", path("watch.jsonl")])
cases = 0

# /stream.ts: a live MPEG-TS from a join point, with video and audio.
reader = StreamReader(base)
reader.read_for(4)
check(reader.status() == 200 and b"video/mp2t" in reader.head, f"/stream.ts answered {reader.head!r}")
check_starts_at_join_point(reader.body, "/stream.ts")
check(b"access-control-allow-origin" not in reader.head.lower(), f"any web page may read /stream.ts: {reader.head!r}")
with open(path("stream.ts"), "wb") as f:
    f.write(reader.body)
reader.close()
kinds = sorted(s["codec_type"] for s in ffprobe(path("stream.ts"))["streams"])
check(kinds == ["audio", "video"], f"/stream.ts streams {kinds}")
check(first_video_packet_is_keyframe(path("stream.ts")), "/stream.ts does not start at a keyframe")
cases += 3

# /live.m3u8: ffprobe reads the live playlist and its segments.
wait_for(lambda: get(base + "/live.m3u8")[0] == 200, 20, "the HLS playlist")
playlist = get(base + "/live.m3u8")[1].decode()
check(playlist.startswith("#EXTM3U") and "#EXTINF:" in playlist and "seg/" in playlist, f"playlist: {playlist!r}")
newest_segment = [line for line in playlist.splitlines() if line.startswith("seg/")][-1]
status, segment = get(base + "/" + newest_segment)
check(status == 200, f"{newest_segment}: status {status}")
check_starts_at_join_point(segment, newest_segment)
probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0",
                        base + "/live.m3u8"], capture_output=True, text=True, timeout=60)
check(probe.returncode == 0, f"ffprobe rejected /live.m3u8: {probe.stderr.strip()}")
check(sorted(set(probe.stdout.split())) == ["audio", "video"], f"/live.m3u8 streams {probe.stdout.split()}")
cases += 3

# /stats.json: the --stats figures, plus the status ones.
s = stats(base)
missing = [f for f in STATS_FIELDS + ["down_kbit_s", "behind_live_ms", "on_time_percent"] if f not in s]
check(not missing and s["role"] == "viewer" and s["chunks_received"] > 0, f"/stats.json {s}, lacks {missing}")
check(get(base + "/nothing-here")[0] == 404, "an unknown path is not a 404")
check(get(base + "/seg/abc.ts")[0] == 404, "a malformed segment name is not a 404")
cases += 3

# Two clients at once get the same stream; a third stops reading, with a tiny receive window.
a = StreamReader(base)
a.read_for(1.5)
b = StreamReader(base)
stalled = StreamReader(base, rcvbuf=4096)
stalled.read_for(0.5)  # the response head and a little; after this it reads nothing
dropped_before = s["http_clients_dropped"]
steady = []
for _ in range(30):
    steady.append(a.read_for(0.5) + 0 * b.read_for(0.5))
    if stats(base)["http_clients_dropped"] > dropped_before:
        break
check(stats(base)["http_clients_dropped"] > dropped_before, "the client that stopped reading was never dropped")
check(min(steady) > 0, f"a reading client stalled while another one did not read: {steady}")
a.read_for(2)
b.read_for(2)
check_starts_at_join_point(b.body, "second client")
at = bytes(a.body).find(bytes(b.body[:188 * 20]))
check(at >= 0, "the second client's stream is not part of the first one's")
overlap = min(len(a.body) - at, len(b.body))
check(overlap > 100_000 and a.body[at:at + overlap] == b.body[:overlap], "two clients got different bytes")
# The dropped client sees the end of its stream once it drains what the kernel held.
wait_for(lambda: stalled.read_for(0.2) >= 0 and stalled.eof, 20, "the dropped client's connection to close")
for r in (a, b, stalled):
    r.close()
cases += 4

# The swarm kept going: the viewer missed nothing while its HTTP client stalled.
s = stats(base)
check(s["chunks_missing"] == 0 and s["on_time_percent"] == 100 and s["peers"] > 0, f"the swarm suffered: {s}")
cases += 1

# Bad input: one-line errors and a non-zero exit.
port = free_tcp_port()
for name, extra, expect in [
        ("bad_http", ["--http", "nonsense"], "--http nonsense"),
        ("http_in_use", ["--http", base.removeprefix("http://")], "already in use"),
        ("bad_origin", ["--allow-origin", "example.org\r\nX-Injected: 1"], "--allow-origin"),
]:
    proc = start([args.p2plive, "watch", link, "--listen", "127.0.0.1:0", *extra], wd, name)
    code = wait_exit(proc, 30)
    err = open(path(name + ".err")).read().strip().splitlines()
    check(code != 0 and len(err) == 1 and expect in err[0], f"{name}: exit {code}, stderr {err}")
    cases += 1
env = dict(os.environ, PATH="/nonexistent")
no_player = subprocess.run([args.p2plive, "watch", link, "--listen", "127.0.0.1:0", "--http", f"127.0.0.1:{port}",
                            "--play"], capture_output=True, text=True, timeout=30, env=env)
check(no_player.returncode != 0 and "no media player found" in no_player.stderr and "mpv" in no_player.stderr,
      f"--play without a player: exit {no_player.returncode}, stderr {no_player.stderr!r}")
cases += 1

# Cross-origin reads only for the origin the user names.
opened, opened_base = start_watch(args.p2plive, wd, link, "watch_origin", ["--allow-origin", "https://example.org"])
with urllib.request.urlopen(opened_base + "/stats.json", timeout=5) as r:
    allowed = r.headers.get("Access-Control-Allow-Origin")
with urllib.request.urlopen(base + "/stats.json", timeout=5) as r:
    default_allowed = r.headers.get("Access-Control-Allow-Origin")
check(allowed == "https://example.org", f"--allow-origin https://example.org: the header says {allowed!r}")
check(default_allowed is None, f"without --allow-origin, /stats.json allows {default_allowed!r}")
opened.terminate()
wait_exit(opened, 30)
cases += 3

# Idle connections (never a request) cannot lock players out: the oldest make way for a real request.
import socket
import time
host, port_text = base.split("//")[1].split(":")
idle = []
for _ in range(80):
    c = socket.create_connection((host, int(port_text)), timeout=5)
    idle.append(c)
time.sleep(0.2)
t0 = time.time()
with urllib.request.urlopen(base + "/stats.json", timeout=5) as r:
    check(r.status == 200, f"/stats.json behind 80 idle connections: {r.status}")
check(time.time() - t0 < 2, f"/stats.json took {time.time() - t0:.1f} s behind 80 idle connections")
for c in idle:
    c.close()
cases += 2

watch.terminate()
check(wait_exit(watch, 30) == 0, "watch did not stop cleanly on SIGTERM")
lines = stats_lines(path("watch.jsonl"))
check(len(lines) >= 5, f"only {len(lines)} stats lines")
cases += 1
broadcaster.terminate()
wait_exit(broadcaster, 30)
passed(cases, "http_stream")
