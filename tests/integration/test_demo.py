"""`p2plive demo`, as the README's first command runs it (no options but a duration): it prints the page's
address and the link, its page and stream play (ffprobe finds video and audio), every local viewer plays,
and it stops cleanly."""

import re
import subprocess

from harness import check, ffprobe, first_line, in_workdir, parse_args, passed, read_text, start, wait_exit, wait_for
from http_client import StreamReader, check_starts_at_join_point, get, stats

args = parse_args()
wd = args.workdir
path = in_workdir(wd)
demo = start([args.p2plive, "demo", "--duration", "15"], wd, "demo")
page = wait_for(lambda: re.search(r"^page:\s+(http://\S+)/$", read_text(path("demo.out")), re.M), 30, "the page line")
base = page.group(1)
out = read_text(path("demo.out"))
check(re.search(r"^link:\s+p2plive:1:\S+$", out, re.M), f"no link in {out!r}")
check(re.search(r"^stream:\s+" + re.escape(base) + r"/stream.ts", out, re.M), f"no stream address in {out!r}")

wait_for(lambda: (stats(base) or {}).get("started"), 20, "the demo's viewer to play")
status, html = get(base + "/")
check(status == 200 and b"mpegts.js" in html, "the page is not served")
reader = StreamReader(base)
reader.read_for(3)
reader.close()
check_starts_at_join_point(reader.body, "demo /stream.ts")
with open(path("demo.ts"), "wb") as f:
    f.write(reader.body)
kinds = sorted(s["codec_type"] for s in ffprobe(path("demo.ts"))["streams"])
check(kinds == ["audio", "video"], f"demo streams {kinds}")

check(wait_exit(demo, 40) == 0, f"demo exited badly: {read_text(path('demo.err'))}")
last = read_text(path("demo.out")).strip().splitlines()[-1]
check(re.search(r"viewers playing: 4/4", last), f"not every viewer played: {last!r}")
check(not read_text(path("demo.err")).strip(), f"demo wrote to stderr: {read_text(path('demo.err'))!r}")
passed(6, "demo")
