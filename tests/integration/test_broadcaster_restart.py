"""A broadcaster that restarts, as OBS's Stop/Start and a crash do: the same key and port, 2 s later. The
viewer that stayed plays each new session within 3 s of its first keyframe. Meanwhile a hostile peer that
recorded the first session replays it to the viewer, genuine signatures and all: every replayed chunk is
dropped and counted, none is played, and no one is blamed for a forgery."""

import os
import signal
import time

from harness import (TEST_SOURCE, check, ffprobe, free_udp_port, in_workdir, parse_args, passed, start,
                     stats_lines, ts_packets, wait_exit, wait_for, first_line, SANITIZED)

RESUME_BOUND_MS = 6000 if SANITIZED else 3000

args = parse_args()
wd = args.workdir
path = in_workdir(wd)
p2plive = args.p2plive
start([p2plive, "keygen", "--out", path("stream.key")], wd, "keygen").wait(30)
port = free_udp_port()


def broadcast(session):
    # Each session's tone is its own: the same source would make session 2 a byte-for-byte prefix of
    # session 1 (the encoders are deterministic), and a shorter session 2 would leave nothing to tell
    # its packets from session 1's.
    source = TEST_SOURCE.replace("frequency=440", f"frequency={330 + 110 * session}")
    proc = start([p2plive, "broadcast", "--key", path("stream.key"), "--input", source, "--listen",
                  f"127.0.0.1:{port}", "--record", path(f"s{session}.ts"), "--stats", path(f"b{session}.jsonl")],
                 wd, f"broadcaster{session}")
    return proc, wait_for(lambda: first_line(path(f"broadcaster{session}.out")), 30, f"session {session}'s link")


def viewer_line():
    lines = stats_lines(path("viewer.jsonl"))
    return lines[-1] if lines else {}


def wait_for_session(n):
    """The viewer's n-th session, and how long after its first keyframe it played it."""
    line = wait_for(lambda: (l := viewer_line()).get("epochs_started", 0) >= n and l["session_start_delay_ms"] >= 0 and l,
                    20, f"the viewer to play session {n}")
    return line["session_start_delay_ms"]


b1, link = broadcast(1)
viewer_at = f"127.0.0.1:{free_udp_port()}"
viewer = start([p2plive, "watch", link, "--listen", viewer_at, "--http", "off", "--out", path("viewer.ts"),
                "--stats", path("viewer.jsonl")], wd, "viewer")
hostile = start([args.attack_peer, "old-session", link, "--to", viewer_at, "--seconds", "30", "--when", path("replay")],
                wd, "hostile")
wait_for_session(1)
time.sleep(5)

b1.send_signal(signal.SIGINT)  # OBS's Stop: goodbyes to everyone
check(wait_exit(b1, 30) == 0, "the first session did not stop cleanly")
time.sleep(2)
b2, link2 = broadcast(2)
check(link2 == link, f"the link changed across a restart: {link} -> {link2}")
resumed = [wait_for_session(2)]
open(path("replay"), "w").close()  # the hostile peer replays session 1 now
time.sleep(4)
os.killpg(b2.pid, signal.SIGKILL)  # a crash: no goodbye to anyone
b2.wait(10)
time.sleep(2)
b3, _ = broadcast(3)
resumed.append(wait_for_session(3))
time.sleep(2)
os.remove(path("replay"))

viewer.send_signal(signal.SIGINT)
check(wait_exit(viewer, 30) == 0, "the viewer did not stop cleanly")
b3.send_signal(signal.SIGINT)
wait_exit(b3, 30)
check(wait_exit(hostile, 45) == 0, "the hostile peer replayed nothing")
cases = 0
for n, ms in enumerate(resumed, 2):
    check(0 <= ms <= RESUME_BOUND_MS, f"session {n}: the viewer played it {ms:.0f} ms after its first keyframe")
    cases += 1

last = viewer_line()
check(last["epochs_started"] == 3, f"the viewer followed {last['epochs_started']} sessions, not 3")
check(last["old_epoch_dropped"] > 0, f"the replay of session 1 was not dropped as an old session: {last}")
check(last["forged_rejected"] == 0, f"a replay of genuine chunks was blamed as forgery: {last}")
check(last["chunks_missing"] <= last["chunks_played"] // 10, f"the viewer skipped too much: {last}")
cases += 4

# What the viewer wrote: playable, and from the first packet of session 2 on nothing of session 1 that
# session 2 did not also publish (the muxer's tables are the same in both).
kinds = sorted(s["codec_type"] for s in ffprobe(path("viewer.ts"))["streams"])
check(kinds == ["audio", "video"], f"the viewer's file has streams {kinds}")
s1, s2, s3 = (set(ts_packets(path(f"s{n}.ts"))) for n in (1, 2, 3))
written = ts_packets(path("viewer.ts"))
first_of_2 = next((i for i, p in enumerate(written) if p in s2 and p not in s1), None)
check(first_of_2 is not None, "the viewer never played session 2")
replayed = [p for p in written[first_of_2:] if p not in s2 and p not in s3]
check(not replayed, f"{len(replayed)} TS packets of session 1 played after session 2 began")
cases += 3
print(open(path("hostile.out")).read().strip(), f"; resumed after {[round(r) for r in resumed]} ms")
passed(cases, "broadcaster_restart")
