"""Joining through a real tracker: opentracker (Debian's, which only tracks whitelisted info-hashes) on
loopback, a broadcaster that announces to it, and a viewer whose link names only the tracker. The viewer
finds the broadcaster through the tracker alone and plays the stream; both announce; a link with a
tracker URL we cannot speak is refused with a clear error."""

import base64
import hashlib
import os
import shutil
import subprocess

from harness import (check, ffprobe, free_udp_port, in_workdir, parse_args, passed, read_text, start,
                     stats_lines, wait_exit, wait_for)

args = parse_args()
wd = args.workdir
path = in_workdir(wd)
p2plive = args.p2plive
opentracker = shutil.which("opentracker")
check(opentracker, "opentracker is not installed (ci/packages.txt lists it)")


def info_hash(link):
    """The info-hash p2plive announces a stream under: BLAKE2b-160 of a domain tag and the public key."""
    key_text = link.split(":")[2].split(",")[0]
    check(key_text.startswith("p2plpk1_"), f"unexpected viewer key in {link!r}")
    raw = base64.urlsafe_b64decode(key_text[len("p2plpk1_"):] + "==")
    return hashlib.blake2b(b"p2plive swarm v1" + raw[:32], digest_size=20).hexdigest()


# The broadcaster first (without a tracker), only to learn the stream's key for the whitelist.
start([p2plive, "keygen", "--out", path("stream.key")], wd, "keygen").wait(30)
start([p2plive, "link", "--key", path("stream.key")], wd, "plain-link").wait(30)
plain = read_text(path("plain-link.out")).strip()
with open(path("whitelist.txt"), "w") as f:
    f.write(info_hash(plain) + "\n")
os.chmod(path("whitelist.txt"), 0o644)
os.chmod(wd, 0o755)

tracker_port = free_udp_port()
# -d / keeps its chroot a no-op; as root it drops to "nobody", which can read the whitelist.
start([opentracker, "-i", "127.0.0.1", "-p", str(tracker_port), "-P", str(tracker_port), "-d", "/",
       "-w", os.path.abspath(path("whitelist.txt"))], wd, "opentracker")
tracker = f"udp://127.0.0.1:{tracker_port}/announce"

port = free_udp_port()
broadcaster = start([p2plive, "broadcast", "--key", path("stream.key"), "--input",
                     "lavfi:testsrc2=size=320x240:rate=30[out0];sine=frequency=440:sample_rate=48000[out1]",
                     "--listen", f"127.0.0.1:{port}", "--tracker", tracker,
                     "--stats", path("broadcaster.jsonl")], wd, "broadcaster")
wait_for(lambda: read_text(path("broadcaster.out")).strip(), 30, "the broadcaster's link")

start([p2plive, "link", "--key", path("stream.key"), "--tracker", tracker], wd, "link").wait(30)
link = read_text(path("link.out")).strip()
check(",p=" not in link and ",t=" in link, f"the link should name only the tracker: {link!r}")

watch = start([p2plive, "watch", link, "--listen", "127.0.0.1:0", "--http", "off", "--out", path("viewer.ts"),
               "--stats", path("viewer.jsonl"), "--duration", "12"], wd, "viewer")
code = wait_exit(watch, 60)
check(code == 0, f"the viewer exited with {code}: {read_text(path('viewer.err'))}")
info = ffprobe(path("viewer.ts"))
kinds = sorted(s["codec_type"] for s in info["streams"])
check(kinds == ["audio", "video"], f"viewer streams {kinds}")
duration = float(info["format"]["duration"])
check(duration >= 4, f"only {duration:.1f} s of media through the tracker")
viewer = stats_lines(path("viewer.jsonl"))[-1]
check(viewer["tracker_announces"] >= 1 and viewer["tracker_peers"] >= 1,
      f"the viewer did not learn its peers from the tracker: {viewer}")
b = stats_lines(path("broadcaster.jsonl"))[-1]
check(b["tracker_announces"] >= 1, f"the broadcaster never announced: {b}")

# A tracker URL we cannot speak is refused up front, with what to do.
bad = subprocess.run([p2plive, "broadcast", "--key", path("stream.key"), "--input", "lavfi:testsrc2",
                      "--listen", "127.0.0.1:0", "--tracker", "http://example.org/announce"],
                     capture_output=True, text=True, timeout=60)
check(bad.returncode != 0 and "udp://" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1,
      f"an http tracker should be refused on one line: {bad.returncode} {bad.stderr!r}")

broadcaster.terminate()
wait_exit(broadcaster, 30)
print(f"viewer: {duration:.1f} s of media, {viewer['tracker_peers']} peers from the tracker")
passed(6, "tracker")
