"""Attacks on a real swarm (core/PROTOCOL.md, "Threat model"): a `p2plive broadcast`, four viewers on
loopback, and tests/attack/attack_peer playing one attack for a while. What each honest viewer played
during the attack, and what the broadcaster sent, come from their --stats lines. The integration test
runs every attack briefly; tests/bench/attack_bench.py runs them for 20 s each at the issue's rates."""

import os
import subprocess
import time

from harness import free_udp_port, read_text
from swarm_run import Swarm, stats

VIEWERS = 4


def attacks(rate, flood_rate):
    """Each attack: its name, the rate it runs at, and its attack_peer arguments given the swarm's
    addresses (b: the broadcaster, v: the attacked viewer, link). Attackers that pose as members (Sybils,
    the forger) are there before the viewers, so that the viewers meet them as they join."""
    return [
        ("spoofed copies (half replayed late, half altered)", rate,
         lambda a: ["spoof-copies", "--of", a["b"], "--to", a["v"], "--rate", str(rate)]),
        ("a viewer's datagrams replayed, as it and from another host", rate,
         lambda a: ["replay", "--of", a["v"], "--to", a["b"], "--rate", str(rate)]),
        ("spoofed Bye, Ack{65534} and unsubscribes in a viewer's session", rate,
         lambda a: ["spoof-control", "--of", a["v"], "--to", a["b"], "--rate", str(rate)]),
        ("garbage at the broadcaster", flood_rate, lambda a: ["garbage", "--to", a["b"], "--rate", str(flood_rate)]),
        ("garbage at a viewer", flood_rate, lambda a: ["garbage", "--to", a["v"], "--rate", str(flood_rate)]),
        ("64 half-open joiners", 64 * 5, lambda a: ["half-open", a["link"], "--to", a["b"], "--count", "64"]),
        ("6 Sybils that take slots and withhold", 6 * 40, lambda a: ["sybils", a["link"], "--count", "6"]),
        ("a forwarder that forges every chunk", 40, lambda a: ["forger", a["link"]]),
    ]


def window(lines, t_from, t_to):
    """The stats lines that bracket [t_from, t_to] (unix ms): the last before and the last within."""
    before = [l for l in lines if l["t"] <= t_from] or lines[:1]
    within = [l for l in lines if l["t"] <= t_to] or lines[-1:]
    return before[-1], within[-1]


def viewer_figures(path, t_from, t_to):
    a, b = window(stats(path), t_from, t_to)
    reached = b.get("play_next_seq", 0) - a.get("play_next_seq", 0)
    missing = b["chunks_missing"] - a["chunks_missing"]
    late = b["chunks_late"] - a["chunks_late"]
    return {"reached": reached, "played_pct": 100.0 * (reached - missing) / reached if reached > 0 else 0.0,
            "on_time_pct": 100.0 * (reached - missing - late) / reached if reached > 0 else 0.0,
            "forged_rejected": b["forged_rejected"],
            "missing_before": a["chunks_missing"]}  # lost while joining, before the window


def broadcaster_ratio(path, t_from, t_to):
    a, b = window(stats(path), t_from, t_to)
    media = b["bytes_out"] - a["bytes_out"]
    return (b["uploaded_bytes"] - a["uploaded_bytes"]) / media if media > 0 else 0.0


MEMBERS = ("sybils", "forger")


def is_member(args_of):
    """Whether the attack poses as swarm members (they need no victim's address: they meet the viewers)."""
    return args_of is not None and args_of({"b": "", "v": "", "link": ""})[0] in MEMBERS


def run(p2plive, attack_peer, workdir, name, args_of, seconds, warmup=5.0, corrupt_share=None):
    """One attack on a fresh swarm. With corrupt_share, the attacked viewer reaches the broadcaster only
    through a path that corrupts that share of datagrams (and there is no other attacker)."""
    swarm = Swarm(p2plive, workdir)
    swarm.start_broadcaster("b")
    b_at = f"127.0.0.1:{swarm.port}"
    addresses = {"b": b_at, "v": None, "link": swarm.link}
    early = None
    if is_member(args_of):
        early = subprocess.Popen([attack_peer] + args_of(addresses) + ["--seconds", str(warmup + seconds + 1)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
    # Chosen once the members have bound their sockets: one of their ephemeral ports could be it.
    victim_port = free_udp_port()
    addresses["v"] = f"127.0.0.1:{victim_port}"
    proxy = None
    victim_link = swarm.link
    if corrupt_share is not None:
        proxy_at = f"127.0.0.1:{free_udp_port()}"
        proxy = subprocess.Popen([attack_peer, "corrupt-proxy", "--listen", proxy_at, "--to", b_at, "--share",
                                  str(corrupt_share), "--seconds", str(warmup + seconds + 30)],
                                 stdout=open(os.path.join(workdir, "proxy.out"), "w"),
                                 stderr=open(os.path.join(workdir, "proxy.err"), "w"))
        victim_link = subprocess.run([p2plive, "link", "--key", swarm.key, "--peer", proxy_at], check=True,
                                     capture_output=True, text=True).stdout.strip()
    victim = swarm.start_viewer(link=victim_link, listen=f"127.0.0.1:{victim_port}")
    # The port was free when chosen, but another process may bind it first (an ephemeral port is random):
    # then the victim says so at once, and gets another one.
    for _ in range(3):
        try:
            victim["proc"].wait(0.3)
        except subprocess.TimeoutExpired:
            break
        if "already in use" not in read_text(swarm.path(victim["name"] + ".err")):
            break
        swarm.viewers.pop()
        victim_port = free_udp_port()
        addresses["v"] = f"127.0.0.1:{victim_port}"
        victim = swarm.start_viewer(link=victim_link, listen=f"127.0.0.1:{victim_port}")
    viewers = [victim]
    viewers += [swarm.start_viewer() for _ in range(VIEWERS - 1)]
    time.sleep(warmup)
    t_from = int(time.time() * 1000)
    out = None
    if early:
        time.sleep(seconds)
        stdout, stderr = early.communicate(timeout=60)
        out = stdout.strip() if early.returncode == 0 else f"{stdout.strip()} (exit {early.returncode}: {stderr[-300:]})"
    elif args_of:
        attack = subprocess.run([attack_peer] + args_of(addresses) + ["--seconds", str(seconds)], capture_output=True,
                                text=True, timeout=seconds + 60)
        out = attack.stdout.strip()
        if attack.returncode != 0:
            out = f"{out} (exit {attack.returncode}: {attack.stderr.strip()[-300:]})"
    else:
        time.sleep(seconds)
    t_to = int(time.time() * 1000)
    time.sleep(1.5)  # the last stats lines of the window
    swarm.stop_all()
    swarm.stop_broadcaster()
    if proxy:
        proxy.kill()
        proxy.wait()
    figures = [viewer_figures(swarm.path(v["name"] + ".jsonl"), t_from, t_to) for v in viewers]
    return {"attack": name, "seconds": seconds, "attacker": out, "viewers": figures,
            "min_played_pct": min(f["played_pct"] for f in figures),
            "min_on_time_pct": min(f["on_time_pct"] for f in figures),
            "broadcaster_ratio": broadcaster_ratio(swarm.path("b.jsonl"), t_from, t_to)}
