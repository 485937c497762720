"""How many listen, on real processes: the swarm-wide listener count that the broadcaster, the dock and
every viewer's page show (gathered up the trees, core/src/protocol/membership), against the truth, as the
simulator checks it at scale. Twelve viewers arrive; then four leave, two with Ctrl-C (they say goodbye)
and two killed with -9 (they vanish). Every count must come within 10 % of the truth (one viewer here),
and the peak must remember the twelve."""

import time

from harness import SANITIZED, check, parse_args, passed
from swarm_run import Swarm, stats

ARRIVALS = 12
LEAVERS = 4
SETTLE_S = 20.0 if SANITIZED else 12.0  # a vanished viewer stays counted until its parent drops it


def counts(swarm, present):
    """(broadcaster's count, [each present viewer's count]) from their newest stats lines."""
    b = stats(swarm.path("b.jsonl"))[-1]
    return b, [stats(swarm.path(v["name"] + ".jsonl"))[-1] for v in present]


def check_counts(swarm, present, truth, when):
    bound = max(1, round(0.1 * truth))
    began = time.time()
    deadline = began + SETTLE_S
    while True:
        b, lines = counts(swarm, present)
        shown = [b.get("listeners", -1)] + [line.get("listeners", -1) for line in lines]
        if all(abs(n - truth) <= bound for n in shown) or time.time() > deadline:
            break
        time.sleep(0.5)
    check(abs(shown[0] - truth) <= bound, f"{when}: the broadcaster counts {shown[0]} listeners, truth {truth}")
    wrong = [n for n in shown[1:] if abs(n - truth) > bound]
    check(not wrong, f"{when}: viewers show {shown[1:]} listeners, truth {truth}")
    print(f"{when}: truth {truth}, broadcaster {shown[0]}, viewers {sorted(shown[1:])}, "
          f"{time.time() - began:.1f} s to settle")
    return b


args = parse_args()
swarm = Swarm(args.p2plive, args.workdir)
swarm.start_broadcaster()
time.sleep(1.0)
viewers = []
for _ in range(ARRIVALS):
    viewers.append(swarm.start_viewer())
    time.sleep(0.3)
check_counts(swarm, viewers, ARRIVALS, "after the arrivals")

leaving, staying = viewers[:LEAVERS], viewers[LEAVERS:]
for i, v in enumerate(leaving):
    swarm.leave(v, goodbye=i % 2 == 0)
b = check_counts(swarm, staying, ARRIVALS - LEAVERS, "after two goodbyes and two kills")
check(b.get("listeners_peak", 0) >= ARRIVALS, f"the broadcaster's peak is {b.get('listeners_peak')}, "
                                              f"not the {ARRIVALS} who were there")
swarm.stop_all()
swarm.stop_broadcaster()
passed(5, "census")
