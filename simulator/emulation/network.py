"""Namespaces and veth pairs for the testbed: created with netlink (pyroute2), always removed.

Names carry the project prefix and the creating process id (``msim-<pid>-...``), so a later run can tell
stale objects of a killed run (pid gone) from those of a run still going, and removes only the stale ones.
Traffic stays between the namespaces: their addresses exist only inside them and nothing is routed out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

PREFIX = "msim-"
LINK_PREFIX = "msim"
PORT = 47_000


class NeedsRoot(Exception):
    """The testbed needs CAP_NET_ADMIN (root) to create namespaces and qdiscs."""


def require_root() -> None:
    if os.geteuid() != 0:
        raise NeedsRoot("emulation needs root (network namespaces and qdiscs); run it with sudo")


@dataclass(frozen=True)
class Link:
    """One shaped link: the mobile namespace, its veth end (shaped egress) and both addresses."""

    mobile_ns: str
    mobile_if: str
    mobile_ip: str
    cloud_if: str
    cloud_ip: str


@dataclass
class TestbedNetwork:
    """The cloud namespace and one mobile namespace per link (per-device links, or one shared cell)."""

    owner_pid: int
    cloud_ns: str
    links: list[Link] = field(default_factory=list)

    @property
    def namespaces(self) -> list[str]:
        return [self.cloud_ns, *[link.mobile_ns for link in self.links]]


def _pid_of(name: str) -> int | None:
    """The owner pid in a namespace name (``msim-<pid>-...``) or a link name (``msim<7 hex digits>...``)."""
    try:
        if name.startswith(PREFIX):
            return int(name[len(PREFIX):].split("-", 1)[0])
        return int(name[len(LINK_PREFIX):len(LINK_PREFIX) + 7], 16)
    except ValueError:
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale() -> list[str]:
    """Remove namespaces and root-namespace veths left by killed runs (owner pid gone); return their names."""
    from pyroute2 import IPRoute, netns

    removed = []
    for name in netns.listnetns():
        pid = _pid_of(name)
        if name.startswith(PREFIX) and pid is not None and not _alive(pid):
            netns.remove(name)
            removed.append(name)
    with IPRoute() as ipr:
        for link in ipr.get_links():
            name = link.get_attr("IFLA_IFNAME") or ""
            pid = _pid_of(name) if name.startswith(LINK_PREFIX) else None
            if pid is not None and not _alive(pid):
                ipr.link("del", index=link["index"])
                removed.append(name)
    return removed


def create_network(n_links: int) -> TestbedNetwork:
    """A cloud namespace and ``n_links`` mobile namespaces, each joined to the cloud by a veth pair.

    On any failure, everything created so far is removed before the error propagates.
    """
    from pyroute2 import IPRoute, NetNS, netns

    pid = os.getpid()
    net = TestbedNetwork(pid, f"{PREFIX}{pid}-cloud")
    try:
        netns.create(net.cloud_ns)
        for d in range(n_links):
            link = Link(f"{PREFIX}{pid}-m{d}", f"{LINK_PREFIX}{pid:07x}m{d}", f"10.201.{d}.1",
                        f"{LINK_PREFIX}{pid:07x}c{d}", f"10.201.{d}.2")
            netns.create(link.mobile_ns)
            net.links.append(link)
            with IPRoute() as ipr:
                ipr.link("add", ifname=link.mobile_if, kind="veth", peer={"ifname": link.cloud_if})
                ipr.link("set", index=ipr.link_lookup(ifname=link.mobile_if)[0], net_ns_fd=link.mobile_ns)
                ipr.link("set", index=ipr.link_lookup(ifname=link.cloud_if)[0], net_ns_fd=net.cloud_ns)
            for ns, ifname, ip in ((link.mobile_ns, link.mobile_if, link.mobile_ip),
                                   (net.cloud_ns, link.cloud_if, link.cloud_ip)):
                with NetNS(ns) as nsr:
                    index = nsr.link_lookup(ifname=ifname)[0]
                    nsr.addr("add", index=index, address=ip, prefixlen=30)
                    nsr.link("set", index=index, state="up")
                    nsr.link("set", index=nsr.link_lookup(ifname="lo")[0], state="up")
    except BaseException:
        remove_network(net)
        raise
    return net


def remove_network(net: TestbedNetwork) -> None:
    """Delete the namespaces (their veths and qdiscs go with them) and any veth still in the root one."""
    from pyroute2 import IPRoute, netns

    present = set(netns.listnetns())
    for name in net.namespaces:
        if name in present:
            netns.remove(name)
    with IPRoute() as ipr:
        for link in net.links:
            for ifname in (link.mobile_if, link.cloud_if):
                for index in ipr.link_lookup(ifname=ifname):
                    ipr.link("del", index=index)


@contextmanager
def testbed_network(n_links: int) -> Iterator[TestbedNetwork]:
    """Stale objects cleaned, a fresh network for the block, removed on exit (success, error, Ctrl-C)."""
    require_root()
    remove_stale()
    net = create_network(n_links)
    try:
        yield net
    finally:
        remove_network(net)


def enter_namespace(name: str) -> None:
    """Move the calling process into a namespace (worker processes, before they open any socket)."""
    from pyroute2 import netns

    netns.setns(name)
