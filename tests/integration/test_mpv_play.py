"""Real players on the viewer's stream: mpv (no video or audio output) plays /stream.ts for at least 5 s
with no error, and `watch --play` starts the first player on PATH (here mpv) and ends when it closes."""

import os
import stat
import subprocess
import time

from harness import check, in_workdir, parse_args, passed, start, start_broadcaster, wait_exit
from http_client import free_tcp_port, start_watch

PLAY_S = 5
args = parse_args()
wd = args.workdir
path = in_workdir(wd)
broadcaster, link, _ = start_broadcaster(args.p2plive, wd)
watch, base = start_watch(args.p2plive, wd, link, "watch")

began = time.monotonic()
mpv = subprocess.run(["mpv", "--no-config", "--vo=null", "--ao=null", f"--length={PLAY_S + 1}",
                      "--msg-level=all=warn", base + "/stream.ts"], capture_output=True, text=True, timeout=60)
elapsed = time.monotonic() - began
with open(path("mpv.log"), "w") as f:
    f.write(mpv.stdout + mpv.stderr)
errors = [line for line in (mpv.stdout + mpv.stderr).splitlines() if "error" in line.lower()]
check(mpv.returncode == 0, f"mpv exited with {mpv.returncode}: {mpv.stderr[-1000:]}")
check(not errors, f"mpv reported errors: {errors[:5]}")
check(elapsed >= PLAY_S, f"mpv played only {elapsed:.1f} s")

# --play: a wrapper named mpv first on PATH runs the real one headless for a few seconds.
bindir = path("bin")
os.makedirs(bindir)
with open(os.path.join(bindir, "mpv"), "w") as f:
    f.write(f'#!/bin/sh\necho "$@" > {path("play-args.txt")}\n'
            f'exec /usr/bin/mpv --no-config --vo=null --ao=null --length=3 "$@"\n')
os.chmod(os.path.join(bindir, "mpv"), stat.S_IRWXU)
port = free_tcp_port()
env_path = bindir + os.pathsep + os.environ.get("PATH", "")
proc = subprocess.Popen([args.p2plive, "watch", link, "--listen", "127.0.0.1:0", "--http", f"127.0.0.1:{port}",
                         "--play", "--duration", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=wd,
                        env=dict(os.environ, PATH=env_path), text=True)
began = time.monotonic()
try:
    out, err = proc.communicate(timeout=45)
except subprocess.TimeoutExpired:
    proc.kill()
    out, err = proc.communicate()
took = time.monotonic() - began
played_url = open(path("play-args.txt")).read() if os.path.exists(path("play-args.txt")) else ""
check(f"http://127.0.0.1:{port}/stream.ts" in played_url, f"--play started mpv with {played_url!r}")
check(proc.returncode == 0 and took < 40, f"watch --play did not end with its player: exit {proc.returncode}, "
                                          f"{took:.0f} s, stderr {err[-500:]!r}")
check("playing in mpv" in err, f"watch --play did not say which player: {err!r}")

watch.terminate()
wait_exit(watch, 30)
broadcaster.terminate()
passed(6, "mpv_play")
