"""Real players on the viewer's stream: mpv (no video or audio output) plays /stream.ts for at least 5 s
with no error, and `watch --play` starts the first player on PATH (here mpv) and ends when it closes. The
broadcast has track titles (--now-playing): the player started by --play shows the title, and the new
one when the file changes (asked through mpv's own IPC socket)."""

import json
import os
import socket
import stat
import subprocess
import time

from harness import check, in_workdir, parse_args, passed, start, start_broadcaster, wait_exit
from http_client import free_tcp_port, start_watch

PLAY_S = 5
args = parse_args()
wd = args.workdir
path = in_workdir(wd)
title_file = path("now-playing.txt")
with open(title_file, "w") as f:
    f.write("DJ Alpha – Opening\n")
broadcaster, link, _ = start_broadcaster(args.p2plive, wd, ["--now-playing", title_file])
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
            f'exec /usr/bin/mpv --no-config --vo=null --ao=null --length=10 "$@"\n')
os.chmod(os.path.join(bindir, "mpv"), stat.S_IRWXU)
port = free_tcp_port()
env_path = bindir + os.pathsep + os.environ.get("PATH", "")
proc = subprocess.Popen([args.p2plive, "watch", link, "--listen", "127.0.0.1:0", "--http", f"127.0.0.1:{port}",
                         "--play", "--duration", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=wd,
                        env=dict(os.environ, PATH=env_path, XDG_RUNTIME_DIR=wd), text=True)


def mpv_title(sock_path):
    """mpv's media-title, through its IPC socket; None while it does not answer."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(sock_path)
            s.sendall(b'{"command":["get_property","media-title"],"request_id":7}\n')
            data = b""
            while b'"request_id":7' not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        for line in data.decode(errors="replace").splitlines():
            reply = json.loads(line)
            if reply.get("request_id") == 7:
                return reply.get("data")
    except (OSError, ValueError):
        return None
    return None


def wait_title(sock_path, wanted, seconds):
    deadline = time.monotonic() + seconds
    seen = None
    while time.monotonic() < deadline:
        seen = mpv_title(sock_path)
        if seen and wanted in seen:
            return seen
        time.sleep(0.2)
    return seen


sock_path = os.path.join(wd, f"p2plive-mpv-{proc.pid}.sock")
first_title = wait_title(sock_path, "DJ Alpha – Opening", 8)
with open(title_file, "w") as f:
    f.write("DJ Beta – Closing\n")
second_title = wait_title(sock_path, "DJ Beta – Closing", 6)
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
check(first_title and "DJ Alpha – Opening" in first_title, f"mpv showed the title {first_title!r}")
check(second_title and "DJ Beta – Closing" in second_title, f"after the title file changed, mpv showed {second_title!r}")
print(json.dumps({"mpv_titles": [first_title, second_title]}))

watch.terminate()
wait_exit(watch, 30)
broadcaster.terminate()
passed(8, "mpv_play")
