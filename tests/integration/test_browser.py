"""The web page in headless Chromium: a viewer's own node serves the page, the video plays for at least
3 s and the stats on the page update. The screenshot is kept in the test's work folder (screenshot.png)."""

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
if not os.path.exists("/usr/bin/chromium"):
    fail("/usr/bin/chromium is missing; ci/install-deps installs Debian's chromium")

broadcaster, link, _ = start_broadcaster(args.p2plive, wd)
watch, base = start_watch(args.p2plive, wd, link, "watch")
run = subprocess.run(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser_check.js"),
                      base + "/", path("screenshot.png"), path("chromium-profile")],
                     capture_output=True, text=True, timeout=120, env=dict(os.environ))
with open(path("browser.log"), "w") as f:
    f.write(run.stdout + run.stderr)
lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
result = json.loads(lines[-1]) if lines else {}
print(json.dumps({k: v for k, v in result.items() if k != "console"}))
check(run.returncode == 0 and result.get("ok"), f"the page did not play: {result or run.stderr[-2000:]}")
check("mpegts.js" in result["mode"], f"the page fell back to {result['mode']!r}")
check(result["advanced_s"] >= 3, f"the video advanced only {result['advanced_s']:.2f} s")
check(result["stats_updates"] >= 2 and result["peers"] not in ("", "–"), f"stats did not update: {result}")
check(os.path.getsize(path("screenshot.png")) > 10_000, "no screenshot")
watch.terminate()
broadcaster.terminate()
passed(5, "browser_page")
