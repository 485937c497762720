"""A viewer whose broadcaster cannot be reached says so on one line, keeps trying, and plays as soon as the
broadcaster comes up."""

import os
import re

from harness import TEST_SOURCE, check, free_udp_port, in_workdir, parse_args, passed, read_text, start, \
    wait_exit, wait_for
from http_client import start_watch, stats, free_tcp_port

args = parse_args()
wd = args.workdir
path = in_workdir(wd)
start([args.p2plive, "keygen", "--out", path("stream.key")], wd, "keygen").wait(30)
port = free_udp_port()
start([args.p2plive, "link", "--key", path("stream.key"), "--peer", f"127.0.0.1:{port}"], wd, "link").wait(30)
link = read_text(path("link.out")).strip()
http_port = free_tcp_port()
base = f"http://127.0.0.1:{http_port}"
watch = start([args.p2plive, "watch", link, "--listen", "127.0.0.1:0", "--http", f"127.0.0.1:{http_port}"],
              wd, "watch")
note = wait_for(lambda: re.search(r"^p2plive: cannot reach the broadcaster at 127\.0\.0\.1:%d .*still trying" % port,
                                  read_text(path("watch.err")), re.M), 15, "the unreachable-broadcaster note")
check(watch.poll() is None, "watch gave up")
check(not (stats(base) or {}).get("started"), "playing without a broadcaster")

broadcaster = start([args.p2plive, "broadcast", "--key", path("stream.key"), "--input", TEST_SOURCE,
                     "--listen", f"127.0.0.1:{port}"], wd, "broadcaster")
wait_for(lambda: (stats(base) or {}).get("started"), 30, "the viewer to play once the broadcaster is up")
wait_for(lambda: "reached the swarm" in read_text(path("watch.err")), 10, "the reconnected note")
err = read_text(path("watch.err")).splitlines()
check(all(line.startswith("p2plive: ") for line in err), f"unexpected stderr lines: {err}")
watch.terminate()
check(wait_exit(watch, 30) == 0, "watch did not stop cleanly")
broadcaster.terminate()
wait_exit(broadcaster, 30)
passed(5, "watch_retry")
