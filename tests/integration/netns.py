"""Network namespaces that a test makes itself and removes at exit: hosts, the veth links between them,
and a home router (a NAT, with miniupnpd serving UPnP IGD and NAT-PMP on its LAN side). No namespace has a
route out of the sandbox: each knows only the links the test gives it."""

import atexit
import os
import subprocess
import time

import harness

# The router's WAN address: outside the private and special-purpose ranges, which miniupnpd refuses.
# It exists only on the router inside the test's namespaces; the outside reaches it through a host route.
ROUTER_PUBLIC = "11.77.0.1"
LAN_HOST = "10.77.1.2"


def sh(*cmd, input_text=None):
    out = subprocess.run(list(cmd), capture_output=True, text=True, input=input_text, timeout=30)
    if out.returncode != 0:
        harness.fail(f"{' '.join(cmd)}: {out.stderr.strip()}")
    return out.stdout


class Namespaces:
    def __init__(self, tag):
        self.prefix = f"p2pl-{tag}-{os.getpid()}"
        self.made = []
        atexit.register(self.remove)

    def host(self, name):
        full = f"{self.prefix}-{name}"
        subprocess.run(["ip", "netns", "del", full], capture_output=True)
        sh("ip", "netns", "add", full)
        sh("ip", "-n", full, "link", "set", "lo", "up")
        self.made.append(full)
        return full

    def link(self, a, a_if, a_addr, b, b_if, b_addr):
        """A veth pair from namespace A to B, with an address (CIDR) on each end."""
        sh("ip", "link", "add", a_if, "netns", a, "type", "veth", "peer", "name", b_if, "netns", b)
        for ns, ifname, addr in ((a, a_if, a_addr), (b, b_if, b_addr)):
            if addr:
                sh("ip", "-n", ns, "addr", "add", addr, "dev", ifname)
            sh("ip", "-n", ns, "link", "set", ifname, "up")

    def remove(self):
        harness._kill_all()  # a namespace goes away only when no process is left in it
        for full in self.made:
            pids = subprocess.run(["ip", "netns", "pids", full], capture_output=True, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), 9)
                except (ProcessLookupError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", full], capture_output=True)
        self.made = []


def run_in(ns):
    return ["ip", "netns", "exec", ns]


class HomeRouter:
    """lan (one host, 10.77.1.2, default route to the router) | router | wan (the internet side, 10.77.2.2,
    with a host route to the router's public address). The router forwards LAN to WAN with source NAT to
    its public address and lets in from the WAN only replies and what miniupnpd maps."""

    def __init__(self, nets, workdir):
        self.nets, self.workdir = nets, workdir
        self.lan, self.router, self.wan = nets.host("lan"), nets.host("router"), nets.host("wan")
        nets.link(self.lan, "lan0", f"{LAN_HOST}/24", self.router, "rtlan", "10.77.1.1/24")
        nets.link(self.wan, "wan0", "10.77.2.2/24", self.router, "rtwan", "10.77.2.1/24")
        sh("ip", "-n", self.router, "addr", "add", f"{ROUTER_PUBLIC}/32", "dev", "rtwan")
        sh("ip", "-n", self.lan, "route", "add", "default", "via", "10.77.1.1")
        sh("ip", "-n", self.wan, "route", "add", f"{ROUTER_PUBLIC}/32", "via", "10.77.2.1")
        sh(*run_in(self.router), "sysctl", "-qw", "net.ipv4.ip_forward=1")
        # The chains miniupnpd fills (its defaults: table inet filter, chains miniupnpd,
        # prerouting_miniupnpd and postrouting_miniupnpd).
        sh(*run_in(self.router), "nft", "-f", "-", input_text=f"""
table inet filter {{
  chain forward {{
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "rtlan" oifname "rtwan" accept
    jump miniupnpd
  }}
  chain miniupnpd {{
  }}
  chain prerouting {{
    type nat hook prerouting priority -100; policy accept;
    jump prerouting_miniupnpd
  }}
  chain postrouting {{
    type nat hook postrouting priority 100; policy accept;
    jump postrouting_miniupnpd
    oifname "rtwan" snat ip to {ROUTER_PUBLIC}
  }}
  chain prerouting_miniupnpd {{
  }}
  chain postrouting_miniupnpd {{
  }}
}}
""")
        self.daemon = None

    def serve(self, upnp=True, natpmp=True):
        """(Re)starts miniupnpd on the LAN side with the protocols asked for."""
        if self.daemon:
            self.daemon.terminate()
            harness.wait_exit(self.daemon, 10)
        conf = os.path.join(self.workdir, "miniupnpd.conf")
        with open(conf, "w") as f:
            f.write(f"""ext_ifname=rtwan
ext_ip={ROUTER_PUBLIC}
listening_ip=rtlan
http_port=0
enable_upnp={'yes' if upnp else 'no'}
enable_natpmp={'yes' if natpmp else 'no'}
secure_mode=yes
system_uptime=yes
uuid=3c1c7b1e-5d0e-4f6a-9b1e-0a0b0c0d0e0f
allow 1024-65535 10.77.1.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
""")
        pidfile = os.path.join(self.workdir, "miniupnpd.pid")
        self.daemon = harness.start(run_in(self.router) + ["miniupnpd", "-d", "-f", conf, "-P", pidfile],
                                    self.workdir, "miniupnpd")
        wanted = "Listening for NAT-PMP" if natpmp else "HTTP listening"
        harness.wait_for(lambda: wanted in self.log() or self.daemon.poll() is not None, 10, "miniupnpd to start")
        harness.check(self.daemon.poll() is None, "miniupnpd exited: " + self.log()[-500:])
        time.sleep(0.2)

    def log(self):
        return "".join(harness.read_text(os.path.join(self.workdir, "miniupnpd" + ext)) for ext in (".out", ".err"))

    def forwarded(self):
        """The port forwards miniupnpd has put in place now, as the nft text of its chain."""
        return sh(*run_in(self.router), "nft", "list", "chain", "inet", "filter", "prerouting_miniupnpd")


class Internet:
    """A bridge (in its own namespace) joining public hosts and the WAN sides of NAT boxes: 11.78.0.0/16,
    one segment, so nobody needs a route. Behind each NAT box sits one host, 10.0.0.2, with a default route
    to the box. NAT kinds, as home routers have them:
      filtering  masquerade that keeps the source port (one mapping for every destination) and lets in
                 only replies from where the host sent to: a port-restricted cone
      symmetric  masquerade with a random port for every new destination, replies only"""

    def __init__(self, nets):
        self.nets = nets
        self.ns = nets.host("net")
        sh("ip", "-n", self.ns, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.ns, "link", "set", "br0", "up")
        self.count = 0

    def _attach(self, ns, ifname):
        self.count += 1
        n = self.count
        address = f"11.78.{n // 200}.{n % 200 + 2}"
        self.nets.link(ns, ifname, f"{address}/16", self.ns, f"port{n}", None)
        sh("ip", "-n", self.ns, "link", "set", f"port{n}", "master", "br0")
        return address

    def public_host(self, name, uplink_kbps=None):
        """A host on the internet itself. Returns (namespace, address)."""
        ns = self.nets.host(name)
        address = self._attach(ns, "eth0")
        if uplink_kbps:
            shape(ns, "eth0", uplink_kbps)
        return ns, address

    def behind_nat(self, name, kind, uplink_kbps=None):
        """A host behind a NAT box of `kind`. Returns (host namespace, the box's public address).

        Like a home router, the box drops what strangers send to its own address, rather than answering it
        as a host would: an answered stray would leave a connection entry that makes the box pick another
        port when its host then sends to that stranger, and no hole could be punched."""
        box = self.nets.host(name + "-nat")
        host = self.nets.host(name)
        public = self._attach(box, "wan0")
        self.nets.link(host, "eth0", "10.0.0.2/24", box, "lan0", "10.0.0.1/24")
        sh("ip", "-n", host, "route", "add", "default", "via", "10.0.0.1")
        sh(*run_in(box), "sysctl", "-qw", "net.ipv4.ip_forward=1")
        ports = "fully-random" if kind == "symmetric" else ""
        if kind not in ("filtering", "symmetric"):
            harness.fail(f"unknown NAT kind {kind}")
        sh(*run_in(box), "nft", "-f", "-", input_text=f"""
table ip nat {{
  chain postrouting {{
    type nat hook postrouting priority 100; policy accept;
    oifname "wan0" masquerade {ports}
  }}
}}
table inet filter {{
  chain forward {{
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "lan0" oifname "wan0" accept
  }}
  chain input {{
    type filter hook input priority 0; policy accept;
    iifname "wan0" ct state new drop
  }}
}}
""")
        if uplink_kbps:
            shape(box, "wan0", uplink_kbps)
        return host, public


def shape(ns, ifname, kbps):
    """An uplink of `kbps`: a token bucket on the interface's egress, with a modem-sized queue."""
    sh("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", ifname, "root", "tbf", "rate", f"{kbps}kbit",
       "burst", "16kb", "latency", "200ms")
