"""Viewers who come and go in a small swarm, as a DJ's listeners do: eight viewers one after another, each
watching a few seconds, alternately killed with -9 and stopped with Ctrl-C, then one that stays longer.
Each one plays what was published after its first keyframe (reckoned from its --stats as the simulator
reckons it, tests/integration/swarm_run.py), starts soon after it arrives, and the broadcaster's rate
never falls below the stream's on this open path."""

import time

from harness import SANITIZED, check, parse_args, passed
from swarm_run import Swarm, stats

WATCH_S = 3.0
FINAL_S = 8.0
PLAYED_BOUND = 85.0 if SANITIZED else 92.0
JOIN_BOUND_MS = 4000 if SANITIZED else 2000

args = parse_args()
swarm = Swarm(args.p2plive, args.workdir)
swarm.start_broadcaster()
time.sleep(1.5)
viewers = []
for i in range(8):
    v = swarm.start_viewer()
    time.sleep(WATCH_S)
    swarm.leave(v, goodbye=i % 2 == 1)
    viewers.append(v)
viewers.append(swarm.start_viewer())
time.sleep(FINAL_S)
swarm.stop_all()
swarm.stop_broadcaster()

figures = swarm.stream_figures()
cases = 0
for v in viewers:
    p = swarm.playback(v)
    check(p is not None and p["first_frame_ms"] >= 0, f"{v['name']} never played: {p}")
    check(p["first_frame_ms"] <= JOIN_BOUND_MS, f"{v['name']} took {p['first_frame_ms']:.0f} ms to its first keyframe")
    check(p["played_pct"] >= PLAYED_BOUND, f"{v['name']} played {p['played_pct']:.1f} % of what was published after "
                                           f"its first keyframe: {p}")
    cases += 3
# While anyone watched, the broadcaster let out at least what the stream needs (the path has room).
rates = [l["send_rate_kbit_s"] for l in stats(swarm.path("b.jsonl"))[2:-1]]
check(min(rates) >= figures["ts_kbps"], f"the broadcaster's rate fell to {min(rates):.0f} kbit/s for a "
                                        f"{figures['ts_kbps']:.0f} kbit/s stream")
cases += 1
print(f"stream {figures['ts_kbps']:.0f} kbit/s, broadcaster rate {min(rates):.0f}-{max(rates):.0f} kbit/s")
passed(cases, "come_and_go")
