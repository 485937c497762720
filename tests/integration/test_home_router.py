"""A broadcaster behind a home router, with its defaults only: it asks the router to forward its port
(UPnP IGD, then PCP, then NAT-PMP), prints a link with the router's public address, and viewers on the internet side
play from that link. The router is a namespace that masquerades and lets in only replies and what
miniupnpd maps; the control run, with --no-port-mapping, shows that nothing else gets through."""

import os
import re
import signal
import time

import harness
from harness import check, fail, first_line, read_text, start, stats_lines, wait_exit, wait_for
import netns

args = harness.parse_args()
wd = args.workdir
path = harness.in_workdir(wd)
p2plive = args.p2plive
nets = netns.Namespaces("router")
home = netns.HomeRouter(nets, wd)
start([p2plive, "keygen", "--out", path("stream.key")], wd, "keygen").wait(30)
MIN_PLAYED = 120  # chunks: a few seconds of stream


def broadcast(name, *extra):
    """The broadcaster on the LAN host, with default --listen (0.0.0.0:7000). Returns it and its link."""
    proc = start(netns.run_in(home.lan) + [p2plive, "broadcast", "--key", path("stream.key"), "--input",
                                           harness.TEST_SOURCE, "--stats", path(name + ".jsonl"), *extra], wd, name)
    link = wait_for(lambda: first_line(path(name + ".out")) or proc.poll() is not None, 20, f"{name}'s link")
    check(isinstance(link, str), f"{name} exited: {read_text(path(name + '.err'))}")
    return proc, link


def watch(name, link):
    return start(netns.run_in(home.wan) + [p2plive, "watch", link, "--http", "off", "--out", path(name + ".ts"),
                                           "--stats", path(name + ".jsonl")], wd, name)


def played(name):
    lines = stats_lines(path(name + ".jsonl")) if os.path.exists(path(name + ".jsonl")) else []
    return lines[-1]["chunks_played"] if lines else 0


def stop(proc):
    proc.send_signal(signal.SIGINT)
    wait_exit(proc, 20)


def run_with(method, viewers):
    name = "broadcaster_" + method.lower().replace("-", "")
    proc, link = broadcast(name)
    at = re.search(r",p=([0-9.]+):(\d+)", link)
    check(at and at.group(1) == netns.ROUTER_PUBLIC, f"the {method} link names {link}, not the router's address")
    line = f"reachable at {netns.ROUTER_PUBLIC}:{at.group(2)} ({method})"
    wait_for(lambda: line in read_text(path(name + ".err")), 5, f"'{line}' on the terminal")
    check("dnat" in home.forwarded(), f"no port forward on the router: {home.forwarded()}")
    names = [f"{name}_viewer{i}" for i in range(viewers)]
    procs = [watch(n, link) for n in names]
    wait_for(lambda: all(played(n) >= MIN_PLAYED for n in names), 30,
             f"{viewers} viewers outside to play {MIN_PLAYED} chunks over {method}")
    last = stats_lines(path(name + ".jsonl"))[-1]
    check(last["reachability"] == method.lower() and last["external_address"] == f"{netns.ROUTER_PUBLIC}:{at.group(2)}",
          f"the broadcaster's stats say {last['reachability']!r} {last['external_address']!r}")
    for p in procs:
        stop(p)
    stop(proc)
    check("dnat" not in home.forwarded(), f"the forward outlived the broadcaster: {home.forwarded()}")
    probe = harness.ffprobe(path(names[0] + ".ts"))
    kinds = sorted(s["codec_type"] for s in probe["streams"])
    check(kinds == ["audio", "video"], f"a viewer outside wrote {kinds}")
    print(f"{method}: link {link}; {viewers} viewers outside played "
          f"{[played(n) for n in names]} chunks", flush=True)


home.serve(upnp=True, natpmp=True)
run_with("UPnP", viewers=3)

# miniupnpd answers PCP and NAT-PMP on one port: with UPnP off the broadcaster maps over PCP, and over
# NAT-PMP once told to try only that (P2PLIVE_PORT_MAPPING, for routers that misbehave with PCP).
home.serve(upnp=False, natpmp=True)
run_with("PCP", viewers=1)
os.environ["P2PLIVE_PORT_MAPPING"] = "natpmp"
run_with("NAT-PMP", viewers=1)
del os.environ["P2PLIVE_PORT_MAPPING"]

# Control: the same router without a mapping lets nobody in, whatever the link says.
proc, link = broadcast("unmapped", "--no-port-mapping")
check(",p=127.0.0.1:7000" in link, f"with --no-port-mapping the link names {link}")
forced = link.replace("127.0.0.1", netns.ROUTER_PUBLIC)
viewer = watch("unmapped_viewer", forced)
time.sleep(5)
check(played("unmapped_viewer") == 0, "a viewer outside played through a router that forwards nothing")
stop(viewer)
stop(proc)
harness.passed(4, "home_router")
