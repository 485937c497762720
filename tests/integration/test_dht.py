"""A swarm with no server at all: a private Mainline DHT of 16 real nodes (`p2plive dht-node`, libtorrent's
DHT) on loopback, a broadcaster that publishes its signed stream record and announces its swarm there, and
a viewer holding only a key-only link (no peer, no tracker) that finds the broadcaster through the DHT and
plays within 10 s of `watch`. Control: the same link with --no-dht is refused with a clear error."""

import os
import signal
import subprocess
import time

import harness
from harness import check, free_udp_port, read_text, start, stats_lines, wait_exit, wait_for

args = harness.parse_args()
wd = args.workdir
path = harness.in_workdir(wd)
p2plive = args.p2plive
NODES = 16

# The DHT: node 0 first, then each other node bootstraps from node 0 and the one before it. Node 0 asks
# node 1 again until it answers (it starts first).
ports = [free_udp_port() for _ in range(NODES)]
nodes = []
for i, port in enumerate(ports):
    boot = [ports[1]] if i == 0 else sorted({ports[0], ports[i - 1]})
    cmd = [p2plive, "dht-node", "--listen", f"127.0.0.1:{port}"]
    for b in boot:
        cmd += ["--dht-bootstrap", f"127.0.0.1:{b}"]
    nodes.append(start(cmd, wd, f"dht{i}"))
for i, proc in enumerate(nodes):
    wait_for(lambda: read_text(path(f"dht{i}.out")).strip() or proc.poll() is not None, 60, f"DHT node {i}")
    check(proc.poll() is None, f"DHT node {i} exited: {read_text(path(f'dht{i}.err'))}")

start([p2plive, "keygen", "--out", path("stream.key")], wd, "keygen").wait(30)
link = subprocess.run([p2plive, "link", "--key", path("stream.key")], capture_output=True, text=True,
                      check=True).stdout.strip()
check(link.startswith("p2plive:1:") and ",p=" not in link and ",t=" not in link, f"not a key-only link: {link}")

broadcaster = start([p2plive, "broadcast", "--key", path("stream.key"), "--input", harness.TEST_SOURCE,
                     "--listen", f"127.0.0.1:{free_udp_port()}", "--dht-bootstrap", f"127.0.0.1:{ports[0]}",
                     "--stats", path("broadcaster.jsonl"), "--verbose"], wd, "broadcaster")
wait_for(lambda: "stream record stored" in read_text(path("broadcaster.err")), 30,
         "the broadcaster's record stored on the DHT")

# The viewer knows one DHT node, another than the broadcaster's, and the key: nothing else.
started = time.monotonic()
viewer = start([p2plive, "watch", link, "--listen", "127.0.0.1:0", "--dht-bootstrap", f"127.0.0.1:{ports[7]}",
                "--http", "off", "--out", path("viewer.ts"), "--stats", path("viewer.jsonl")], wd, "viewer")


def first_frame():
    if not os.path.exists(path("viewer.jsonl")):
        return None
    lines = stats_lines(path("viewer.jsonl"))
    return lines[-1]["first_frame_ms"] if lines and lines[-1]["first_frame_ms"] >= 0 else None


first_ms = wait_for(first_frame, 10, "the viewer's first frame, found through the DHT")
waited = time.monotonic() - started
wait_for(lambda: stats_lines(path("viewer.jsonl"))[-1]["chunks_played"] >= 90, 15, "90 chunks played")
last = stats_lines(path("viewer.jsonl"))[-1]
check(last["dht_nodes"] > 0, f"the viewer's DHT routing table is empty: {last['dht_nodes']}")
viewer.send_signal(signal.SIGINT)
wait_exit(viewer, 20)
kinds = sorted(s["codec_type"] for s in harness.ffprobe(path("viewer.ts"))["streams"])
check(kinds == ["audio", "video"], f"the viewer wrote {kinds}")

# Control: without the DHT a key-only link has no way in, and says so.
refused = subprocess.run([p2plive, "watch", link, "--no-dht", "--http", "off", "--duration", "5"],
                         capture_output=True, text=True, timeout=30)
check(refused.returncode != 0 and "DHT" in refused.stderr, f"--no-dht with a key-only link: {refused.stderr!r}")

broadcaster.send_signal(signal.SIGINT)
wait_exit(broadcaster, 20)
print(f"dht: {NODES} nodes; key-only link {link}; first frame {first_ms:.0f} ms after start "
      f"(seen after {waited:.1f} s); the viewer's table holds {last['dht_nodes']} nodes", flush=True)
harness.passed(3, "dht")
