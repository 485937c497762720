"""Hostile peers, one per tree, each holding a slot of the broadcaster's, pose as the best forwarders there
are and push their children altered chunks and forged signatures (attack_peer forger). Their children
count them in forged_rejected, blame the sender alone (it sent every fragment), ban it after three and get
the stream from others. Nobody writes a forged byte to --out."""

import os
import signal
import time

from harness import (check, ffprobe, free_udp_port, parse_args, passed, start, in_workdir, start_broadcaster, stats_lines,
                     ts_packets, wait_exit, wait_for)

VIEWERS = 6
WATCH_S = 12.0

args = parse_args()
wd = args.workdir
p2plive = args.p2plive
path = in_workdir(wd)
broadcaster, link, port = start_broadcaster(p2plive, wd)

# The forgers first, so that the broadcaster lists them to the viewers as they join.
hostile = start([args.attack_peer, "forger", link, "--seconds", str(WATCH_S)], wd, "hostile")
time.sleep(1.5)
viewers = []
for i in range(VIEWERS):
    name = f"viewer{i}"
    listen = f"127.0.0.1:{free_udp_port()}"
    proc = start([p2plive, "watch", link, "--listen", listen, "--out", path(name + ".ts"),
                  "--stats", path(name + ".jsonl"), "--duration", str(WATCH_S)], wd, name)
    viewers.append((name, proc, listen))
wait_for(lambda: all(os.path.exists(path(n + ".jsonl")) for n, _, _ in viewers), 20, "the viewers to start")

check(wait_exit(hostile, WATCH_S + 30) == 0, "no viewer took the forger as a parent")
for name, proc, _ in viewers:
    check(wait_exit(proc, WATCH_S + 60) == 0, f"{name} failed: {open(path(name + '.err')).read()}")
broadcaster.send_signal(signal.SIGINT)
check(wait_exit(broadcaster, 30) == 0, "the broadcaster did not stop cleanly")

published = set(ts_packets(path("published.ts")))
cases = 0
rejected = 0
for index, (name, _, _) in enumerate(viewers):
    last = stats_lines(path(name + ".jsonl"))[-1]
    rejected += last["forged_rejected"]
    # Three forged chunks over one session, and that forger is banned: nothing more of its is looked at.
    # There are four forgers, one per tree.
    check(last["forged_rejected"] <= 4 * 3, f"{name} kept taking forgeries from a banned peer: {last}")
    check(last["chunks_received"] > 0, f"{name} received nothing")
    foreign = [p for p in ts_packets(path(name + ".ts")) if p not in published]
    check(not foreign, f"{name} wrote {len(foreign)} TS packets that were never published")
    kinds = sorted(s["codec_type"] for s in ffprobe(path(name + ".ts"))["streams"])
    check(kinds == ["audio", "video"], f"{name}: streams {kinds}")
    cases += 4
check(rejected > 0, "the forger's children counted no forgery")
print(open(path("hostile.out")).read().strip(), f"; forgeries rejected: {rejected}")
passed(cases, "hostile_peer")
