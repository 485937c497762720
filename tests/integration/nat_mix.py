"""Viewers behind home NATs, as real processes in network namespaces: a public broadcaster and a mix of
open, filtering (port-restricted cone) and symmetric viewers, some with uplinks below the bitrate
(netns.py builds them). Shared by tests/integration/test_nat_mix.py and tests/bench/nat_mix_bench.py."""

import time

import netns
from swarm_run import Swarm, stats, summarize


def run_mix(p2plive, out, open_=6, filtering=11, symmetric=3, slow=4, slow_kbps=800, video_kbps=1300,
            seconds=40.0, spacing=0.25):
    """Runs the mix for `seconds` after the last arrival; returns the report (playback reckoned as the
    simulator does, by kind, and the broadcaster's upload against the stream)."""
    swarm = Swarm(p2plive, out, video_kbps=video_kbps)
    nets = netns.Namespaces("natmix")
    internet = netns.Internet(nets)
    b_ns, b_address = internet.public_host("b")
    swarm.start_broadcaster(prefix=netns.run_in(b_ns), listen=f"{b_address}:7000")
    kinds = ["open"] * open_ + ["filtering"] * filtering + ["symmetric"] * symmetric
    viewers = []
    slow_left = slow
    for i, kind in enumerate(kinds):
        is_slow = kind == "filtering" and slow_left > 0
        slow_left -= is_slow
        uplink = slow_kbps if is_slow else None
        if kind == "open":
            ns, public = internet.public_host(f"v{i}", uplink)
        else:
            ns, public = internet.behind_nat(f"v{i}", kind, uplink)
        v = swarm.start_viewer(prefix=netns.run_in(ns), listen="0.0.0.0:0", extra=["--no-port-mapping"])
        v.update(kind=kind, slow=is_slow, public=public)
        viewers.append(v)
        time.sleep(spacing)
    time.sleep(seconds)
    swarm.stop_all()
    swarm.stop_broadcaster()
    playbacks = []
    for v in viewers:
        p = swarm.playback(v) or {"name": v["name"], "expected": 1, "played": 0, "reached": 0, "missing": 0,
                                  "played_pct": 0.0, "smooth_pct": 0.0, "first_frame_ms": -1}
        lines = stats(swarm.path(v["name"] + ".jsonl"))
        last = lines[-1] if lines else {}
        p.update(kind=v["kind"], slow=v["slow"], introduced_sessions=last.get("introduced_sessions", 0),
                 peers=last.get("peers", 0), parents=last.get("parents", 0))
        playbacks.append(p)
    return {"bench": "nat_mix", "stream": swarm.stream_figures(),
            "summary": summarize(playbacks, min_expected=40),
            "by_kind": {k: summarize([p for p in playbacks if p["kind"] == k], 40) for k in sorted(set(kinds))},
            "viewers": playbacks}
