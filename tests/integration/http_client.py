"""HTTP pieces shared by the viewer-side tests: free TCP ports, a watch process with its HTTP server, and
raw socket readers for the live stream (so a test can also stop reading on purpose)."""

import json
import socket
import time
import urllib.request

from harness import fail, start, wait_for


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout_s=5):
    """(status, body) of a GET; status 0 if the server did not answer."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return 0, b""


def stats(base):
    status, body = get(base + "/stats.json")
    return json.loads(body) if status == 200 else None


def start_watch(p2plive, workdir, link, name, extra=()):
    """A watch serving HTTP on a free loopback port; returns the process and its base URL once it plays."""
    port = free_tcp_port()
    proc = start([p2plive, "watch", link, "--listen", "127.0.0.1:0", "--http", f"127.0.0.1:{port}", "--quiet",
                  *extra], workdir, name)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: (stats(base) or {}).get("started"), 30, f"{name} to start playing")
    return proc, base


class StreamReader:
    """A raw GET of /stream.ts: the response head, then whatever the server sends."""

    def __init__(self, base, path="/stream.ts", rcvbuf=None):
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            # Set before connecting, so the kernel's window stays small too.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect((host, int(port)))
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        self.head = b""
        self.body = bytearray()
        self.eof = False

    def read_for(self, seconds):
        """Reads for about `seconds` (or until EOF); returns the bytes read in that time."""
        before = len(self.body)
        deadline = time.monotonic() + seconds
        while not self.eof and time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                data = b""
            if not data:
                self.eof = True
                break
            if not self.head:
                buf = bytes(self.body) + data
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    self.body = bytearray(buf)
                    continue
                self.head, data = buf[:end + 4], buf[end + 4:]
                self.body = bytearray()
                before = 0
            self.body += data
        return len(self.body) - before

    def status(self):
        line = self.head.split(b"\r\n", 1)[0].decode(errors="replace")
        parts = line.split(" ")
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0

    def close(self):
        self.sock.close()


def ts_has_random_access(packet):
    """A TS packet whose adaptation field flags a random access point (a keyframe's first packet)."""
    return (packet[3] & 0x20) and packet[4] > 0 and (packet[5] & 0x40)


def check_starts_at_join_point(data, what):
    if len(data) < 188 * 3 or data[0] != 0x47:
        fail(f"{what}: does not start on a TS packet")
    pid = ((data[1] & 0x1F) << 8) | data[2]
    if pid != 0:
        fail(f"{what}: starts with PID {pid}, not the PAT of a join point")
