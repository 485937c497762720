"""A hostile peer sends viewers altered chunks and forged signatures. The victims count them in
forged_rejected, never forward them (their neighbours see none), and never write them to --out."""

import os
import signal

from harness import (check, ffprobe, free_udp_port, parse_args, passed, start, in_workdir, start_broadcaster, stats_lines,
                     ts_packets, wait_exit, wait_for)

VIEWERS = 6
VICTIMS = 2
WATCH_S = 12.0

args = parse_args()
wd = args.workdir
p2plive = args.p2plive
path = in_workdir(wd)
broadcaster, link, port = start_broadcaster(p2plive, wd)

viewers = []
for i in range(VIEWERS):
    name = f"viewer{i}"
    listen = f"127.0.0.1:{free_udp_port()}"
    proc = start([p2plive, "watch", link, "--listen", listen, "--out", path(name + ".ts"),
                  "--stats", path(name + ".jsonl"), "--duration", str(WATCH_S)], wd, name)
    viewers.append((name, proc, listen))
wait_for(lambda: all(os.path.exists(path(n + ".jsonl")) for n, _, _ in viewers), 20, "the viewers to start")

victims = viewers[:VICTIMS]
hostile = start([args.hostile_peer, link, *[listen for _, _, listen in victims], "--seconds", str(WATCH_S - 4)],
                wd, "hostile")
check(wait_exit(hostile, WATCH_S + 30) == 0, "the hostile peer forged nothing (did it receive any chunk?)")
for name, proc, _ in viewers:
    check(wait_exit(proc, WATCH_S + 60) == 0, f"{name} failed: {open(path(name + '.err')).read()}")
broadcaster.send_signal(signal.SIGINT)
check(wait_exit(broadcaster, 30) == 0, "the broadcaster did not stop cleanly")

published = set(ts_packets(path("published.ts")))
cases = 0
for index, (name, _, _) in enumerate(viewers):
    last = stats_lines(path(name + ".jsonl"))[-1]
    if index < VICTIMS:
        check(last["forged_rejected"] > 0, f"{name} was attacked but counted no forgery: {last}")
    else:
        # A victim that forwarded a forgery would have made its neighbours reject it too.
        check(last["forged_rejected"] == 0, f"{name} received a forgery from a victim: {last}")
    check(last["chunks_received"] > 0, f"{name} received nothing")
    foreign = [p for p in ts_packets(path(name + ".ts")) if p not in published]
    check(not foreign, f"{name} wrote {len(foreign)} TS packets that were never published")
    kinds = sorted(s["codec_type"] for s in ffprobe(path(name + ".ts"))["streams"])
    check(kinds == ["audio", "video"], f"{name}: streams {kinds}")
    cases += 4
print(open(path("hostile.out")).read().strip())
passed(cases, "hostile_peer")
