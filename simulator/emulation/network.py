"""Namespaces and veth pairs for the testbed: created with netlink (pyroute2), always removed.

Names carry the project prefix and the creating process id (``msim-<pid>-...``), so a later run can tell
stale objects of a killed run (pid gone) from those of a run still going, and removes only the stale ones.
The run's temporary folders (the workers' logs, validate's scaled profiles) are named the same way
(``msim-logs-<pid>-...`` in the temporary directory) and cleaned with them. Traffic stays between the
namespaces: their addresses exist only inside them and nothing is routed out.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "msim-"
LINK_PREFIX = "msim"
PORT = 47_000
FOLDER_KINDS = ("logs", "scaled")  # temp_folder's kinds: msim-<kind>-<pid>-<random>
_FOLDER = re.compile(rf"{PREFIX}(?:{'|'.join(FOLDER_KINDS)})-(\d+)-[^/]+")


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


def temp_folder(kind: str) -> tempfile.TemporaryDirectory[str]:
    """A temporary folder named after this process (``msim-<kind>-<pid>-...``), removed on exit; a killed
    run's is removed by the next run (:func:`remove_stale_folders`)."""
    assert kind in FOLDER_KINDS
    return tempfile.TemporaryDirectory(prefix=f"{PREFIX}{kind}-{os.getpid()}-")


def remove_stale_folders(root: Path | None = None) -> list[Path]:
    """Remove the temporary folders of killed runs: named by :func:`temp_folder`, owned by this user, and
    whose process is gone (a live run's, and anything not named ours, stay); return them."""
    root = Path(root if root is not None else tempfile.gettempdir())
    removed = []
    for path in sorted(root.glob(f"{PREFIX}*-*-*")):
        match = _FOLDER.fullmatch(path.name)
        if match is None or path.is_symlink() or not path.is_dir() or path.stat().st_uid != os.geteuid():
            continue
        if not _alive(int(match[1])):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _count(n: int, thing: str) -> str:
    return f"{n} stale {thing}{'' if n == 1 else 's'}"


def cleanup_line(names: list[str], folders: list[Path]) -> str | None:
    """One line for what :func:`remove_stale` and :func:`remove_stale_folders` removed; None when nothing."""
    namespaces = sum(name.startswith(PREFIX) for name in names)
    parts = [_count(n, thing) for n, thing in ((namespaces, "network namespace"),
                                               (len(names) - namespaces, "veth"), (len(folders), "temporary folder"))
             if n]
    if not parts:
        return None
    listed = ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else parts[0]
    return f"removed {listed} left by an interrupted run"


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
def testbed_network(n_links: int, *, on_cleanup: Callable[[str], None] | None = None) -> Iterator[TestbedNetwork]:
    """Stale objects and folders of killed runs cleaned (``on_cleanup`` told what, in one line), a fresh
    network for the block, removed on exit (success, error, Ctrl-C)."""
    require_root()
    said = cleanup_line(remove_stale(), remove_stale_folders())
    if said and on_cleanup is not None:
        on_cleanup(said)
    net = create_network(n_links)
    try:
        yield net
    finally:
        remove_network(net)


def enter_namespace(name: str) -> None:
    """Move the calling process into a namespace (worker processes, before they open any socket)."""
    from pyroute2 import netns

    netns.setns(name)
