"""The listening page: an audio-only broadcast with track titles (--now-playing) plays in headless
Chromium in the listening layout, with the title, a moving level meter and the listener count, and a new
title reaches the page when its sound plays (within 1 s of the timed ID3's time). The link's QR code
reads back (zbarimg) as the link. The screenshot (listening.png) is kept in the test's work folder."""

import json
import os
import subprocess

from harness import check, fail, in_workdir, parse_args, passed, start_broadcaster
from http_client import start_watch

args = parse_args()
wd = args.workdir
path = in_workdir(wd)
node_modules = os.environ.get("P2PLIVE_NODE_MODULES", "")
if not os.path.isdir(os.path.join(node_modules, "playwright-core")):
    fail(f"playwright-core is not in {node_modules!r}; the build installs it with npm (ci/setup)")

title_file = path("now-playing.txt")
with open(title_file, "w") as f:
    f.write("DJ Alpha – Opening Track\n")
broadcaster, link, _ = start_broadcaster(args.p2plive, wd, ["--now-playing", title_file],
                                         source="lavfi:sine=frequency=330:sample_rate=48000")
watch, base = start_watch(args.p2plive, wd, link, "watch")
run = subprocess.run(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), "listening_check.js"),
                      base + "/", path("listening.png"), path("chromium-profile"), title_file,
                      "DJ Beta – Second Track", path("qr.png")], capture_output=True, text=True, timeout=120, env=dict(os.environ))
with open(path("browser.log"), "w") as f:
    f.write(run.stdout + run.stderr)
lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
result = json.loads(lines[-1]) if lines else {}
print(json.dumps({k: v for k, v in result.items() if k != "console"}, ensure_ascii=False))
check(run.returncode == 0 and result.get("ok"), f"the listening page failed: {result or run.stderr[-2000:]}")
check(result["title_before"] == "DJ Alpha – Opening Track", f"the page showed {result['title_before']!r}")
check(result["title_after"] == "DJ Beta – Second Track", f"after the change the page showed {result['title_after']!r}")
check(result["change_wall_ms"] < 8000, f"the new title took {result['change_wall_ms']} ms to show")
check(result.get("id3_pts_ms", "") != "", "the new title showed on arrival, not at its sound's time (no timed ID3)")
check(abs(result["title_vs_audio_ms"]) <= 1000,
      f"the new title showed {result['title_vs_audio_ms']} ms away from its sound")
check(os.path.getsize(path("listening.png")) > 10_000, "no screenshot")
qr = subprocess.run(["zbarimg", "--quiet", "--raw", path("qr.png")], capture_output=True, text=True, timeout=30)
check(qr.returncode == 0 and qr.stdout.strip() == result["page_link"],
      f"the QR code reads {qr.stdout.strip()!r} (zbarimg: {qr.stderr.strip()!r}), not the link {result['page_link']!r}")
watch.terminate()
broadcaster.terminate()
passed(5, "listening_page")
