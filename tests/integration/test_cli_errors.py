"""Bad input on the command line gets a one-line error that says what to do, and a non-zero exit."""

import os
import socket
import subprocess

from harness import check, parse_args, passed

args = parse_args()
wd = args.workdir


def run(*argv, timeout=30):
    return subprocess.run([args.p2plive, *argv], capture_output=True, text=True, timeout=timeout, cwd=wd)


def expect_error(result, *words):
    lines = result.stderr.strip().splitlines()
    check(result.returncode != 0, f"exit 0 for {result.args}")
    check(len(lines) == 1, f"want one error line for {result.args[1:]}, got: {result.stderr!r}")
    check(lines[0].startswith("p2plive: error:"), f"unexpected error format: {lines[0]!r}")
    for word in words:
        check(word in lines[0], f"{word!r} missing from {lines[0]!r}")


cases = 0
key = os.path.join(wd, "good.key")
r = run("keygen", "--out", key)
check(r.returncode == 0 and r.stdout.startswith("p2plpk1_"), f"keygen failed: {r.stderr}")
check(oct(os.stat(key).st_mode & 0o777) == "0o600", "key file is not mode 0600")
link = run("link", "--key", key, "--peer", "127.0.0.1:9").stdout.strip()
check(link.startswith("p2plive:1:"), f"bad link {link!r}")

# keygen never overwrites a key.
expect_error(run("keygen", "--out", key), "key")
cases += 1

# A broken key file: missing, truncated, garbage, a public key instead of a secret one.
expect_error(run("link", "--key", os.path.join(wd, "nope.key")), "keygen")
for name, text in [("cut.key", open(key).read()[:30]), ("junk.key", "hello world\n"),
                   ("pub.key", r.stdout)]:
    path = os.path.join(wd, name)
    with open(path, "w") as f:
        f.write(text)
    expect_error(run("link", "--key", path), "key")
    expect_error(run("broadcast", "--key", path, "--input", "lavfi:testsrc"), "key")
    cases += 2

# A wrong link.
for bad in ["", "http://example.com", "p2plive:1:nonsense", link[:-3], link + ",p=nope", "p2plive:9:" + link[10:]]:
    expect_error(run("watch", bad, "--duration", "1"), "link")
    cases += 1
expect_error(run("link", "--key", key, "--peer", "not-an-address"), "--peer")
cases += 1

# A port in use.
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    expect_error(run("watch", link, "--listen", f"127.0.0.1:{port}", "--duration", "1"), "already in use")
    expect_error(run("broadcast", "--key", key, "--input", "lavfi:testsrc2=size=64x64:rate=5",
                     "--listen", f"127.0.0.1:{port}", "--duration", "1"), "already in use")
    cases += 2
expect_error(run("watch", link, "--listen", "127.0.0.1:99999"), "--listen")
cases += 1

# A missing input.
expect_error(run("broadcast", "--key", key, "--input", os.path.join(wd, "missing.mp4")), "input")
expect_error(run("broadcast", "--key", key, "--input", "lavfi:no_such_filter"), "input")
cases += 2

# Usage errors are one line too.
expect_error(run("watch"), "usage")
expect_error(run("frobnicate"), "usage")
cases += 2

passed(cases, "cli_errors")
