"""A loopback swarm: one broadcaster (test pattern + tone) and 20 viewers (6 on a
sanitizer build) for 20 s, through real UDP.
Every viewer's file is a playable MPEG-TS of about the time it watched, made only of bytes the broadcaster
published; a viewer that joins mid-stream starts at a keyframe; the viewers carry the stream between them."""

import os
import signal
import time

from harness import (SANITIZED, check, ffprobe, first_video_packet_is_keyframe,
                     parse_args, passed, start, in_workdir, start_broadcaster, stats_lines, ts_packets, wait_exit)

VIEWERS = 6 if SANITIZED else 20
WATCH_S = 20.0
LATE_JOIN_S = 6.0

args = parse_args()
wd = args.workdir
p2plive = args.p2plive
path = in_workdir(wd)
broadcaster, link, port = start_broadcaster(p2plive, wd)
broadcast_began = time.monotonic()
check(link.startswith("p2plive:1:") and f"p=127.0.0.1:{port}" in link, f"unexpected link {link!r}")

viewers = []
for i in range(VIEWERS):
    if i == VIEWERS - 1:
        time.sleep(LATE_JOIN_S)  # the last one joins mid-stream
    name = f"viewer{i:02d}"
    proc = start([p2plive, "watch", link, "--listen", "127.0.0.1:0", "--out", path(name + ".ts"),
                  "--stats", path(name + ".jsonl"), "--duration", str(WATCH_S)], wd, name)
    viewers.append((name, proc, time.monotonic()))

for name, proc, began in viewers:
    code = wait_exit(proc, WATCH_S + 60)
    check(code == 0, f"{name} exited with {code}: {open(path(name + '.err')).read()}")

broadcaster.send_signal(signal.SIGINT)
broadcast_s = time.monotonic() - broadcast_began
check(wait_exit(broadcaster, 30) == 0, "the broadcaster did not stop cleanly on Ctrl-C")
# On a loaded machine (a sanitizer build beside other tests) the encoder may fall behind real time; the
# viewers can only get what was made.
made_per_second = min(1.0, float(ffprobe(path("published.ts"))["format"]["duration"]) / broadcast_s)
JOIN_BOUND_S = 10.0 if SANITIZED else 5.0

published = set(ts_packets(path("published.ts")))
check(len(published) > 1000, "the broadcaster published almost nothing")
cases = 0
total_viewer_upload = 0
for name, proc, began in viewers:
    info = ffprobe(path(name + ".ts"))
    kinds = sorted(s["codec_type"] for s in info["streams"])
    check(kinds == ["audio", "video"], f"{name}: streams {kinds}")
    stats = stats_lines(path(name + ".jsonl"))
    check(len(stats) >= WATCH_S - 2, f"{name}: only {len(stats)} stats lines")
    # The first stats line is written at start, then one a second: the first that counts played chunks
    # bounds the join time from above.
    playing = [line["t"] for line in stats if line.get("chunks_played", 0) > 0]
    check(playing, f"{name}: never played a chunk")
    join_s = (playing[0] - stats[0]["t"]) / 1000.0
    check(join_s <= JOIN_BOUND_S, f"{name}: took {join_s:.1f} s to start playing")
    duration = float(info["format"]["duration"])
    expected = (WATCH_S - join_s) * made_per_second
    check(expected - 0.1 * WATCH_S <= duration <= WATCH_S * 1.1,
          f"{name}: {duration:.2f} s of media for {WATCH_S} s watched (playing after {join_s:.1f} s, "
          f"the broadcaster made {made_per_second:.2f} s of media a second)")
    foreign = [p for p in ts_packets(path(name + ".ts")) if p not in published]
    check(not foreign, f"{name}: {len(foreign)} TS packets that the broadcaster never published")
    check(first_video_packet_is_keyframe(path(name + ".ts")), f"{name}: does not start at a keyframe")
    last = stats[-1]
    check(last["role"] == "viewer" and last["chunks_received"] > 0 and last["forged_rejected"] == 0,
          f"{name}: bad final stats {last}")
    total_viewer_upload += last["uploaded_bytes"]
    cases += 6

b = stats_lines(path("broadcaster.jsonl"))[-1]
published_bytes = os.path.getsize(path("published.ts"))
# The viewers carry the stream: the broadcaster sends far less than a copy per viewer.
check(b["uploaded_bytes"] < 6 * published_bytes,
      f"broadcaster uploaded {b['uploaded_bytes']} bytes for {published_bytes} published")
check(total_viewer_upload > (VIEWERS // 4) * published_bytes, f"viewers relayed only {total_viewer_upload} bytes")
cases += 2
print(f"broadcaster upload / published = {b['uploaded_bytes'] / published_bytes:.2f}, "
      f"viewers relayed {total_viewer_upload / published_bytes:.2f} stream copies")
passed(cases, "loopback_swarm")
