"""A `p2plive:` link opens with a click: ci/install-link-handler (what ci/setup runs) registers the desktop
entry, and `xdg-open LINK` then starts `p2plive watch LINK --play`, whose mpv plays the stream. The user's
own XDG folders are left alone: the test registers into folders of its own."""

import os
import subprocess
import time

from harness import check, in_workdir, parse_args, passed, read_text, start_broadcaster, wait_exit, wait_for

args = parse_args()
wd = args.workdir
path = in_workdir(wd)
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
env = dict(os.environ, XDG_DATA_HOME=path("data"), XDG_CONFIG_HOME=path("config"), MPV_HOME=path("mpv"))
# As on a GNOME desktop: xdg-open hands the link to `gio open`, which reads the mimeapps.list and desktop entry
# that ci/install-link-handler wrote. (xdg-utils 1.1.3's generic path, without a desktop, takes any scheme with
# a digit in it, as p2plive has, for a file name, and fails: fixed in xdg-utils 1.2.)
env.update(XDG_CURRENT_DESKTOP="GNOME", DESKTOP_SESSION="gnome")
registered = subprocess.run([os.path.join(root, "ci", "install-link-handler"), args.p2plive], env=env,
                            capture_output=True, text=True, timeout=60)
check(registered.returncode == 0, f"ci/install-link-handler failed: {registered.stderr}")
query = subprocess.run(["xdg-mime", "query", "default", "x-scheme-handler/p2plive"], env=env, capture_output=True,
                       text=True, timeout=30)
check(query.stdout.strip() == "p2plive-watch.desktop", f"xdg-mime names {query.stdout.strip()!r} for p2plive:")

# mpv as the user would have it, but with no window or sound, for a few seconds, and a log to read.
os.makedirs(path("mpv"), exist_ok=True)
with open(path("mpv/mpv.conf"), "w") as f:
    f.write(f"vo=null\nao=null\nlength=6\nlog-file={path('mpv.log')}\n")

broadcaster, link, _ = start_broadcaster(args.p2plive, wd)
began = time.monotonic()
# To a file, not a pipe: the watch inherits xdg-open's output, and a pipe would stay open until it ends.
with open(path("xdg-open.out"), "w") as out:
    opened = subprocess.run(["xdg-open", link], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=wd, timeout=60)
check(opened.returncode == 0, f"xdg-open exited {opened.returncode}: {read_text(path('xdg-open.out'))[-800:]}")


def watching():
    found = subprocess.run(["pgrep", "-a", "p2plive"], capture_output=True, text=True).stdout
    return any(f" watch {link} --play" in line for line in found.splitlines())


wait_for(watching, 20, "a `p2plive watch LINK --play` process")
wait_for(lambda: "/stream.ts" in read_text(path("mpv.log")), 30, "mpv on the viewer's stream (see mpv.log)")
wait_for(lambda: any(s in read_text(path("mpv.log")) for s in ("playback-restart", "Starting playback")), 30,
         "mpv to start playing (see mpv.log)")
wait_for(lambda: not watching(), 40, "the watch to end with its player")
took = time.monotonic() - began
check(took < 60, f"the watch took {took:.0f} s")
check("playing in mpv" in read_text(path("xdg-open.out")), "the watch did not say it plays in mpv")
broadcaster.terminate()
wait_exit(broadcaster, 30)
passed(4, "link_handler")
