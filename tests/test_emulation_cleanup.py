"""A killed emulation's temporary folders are removed by the next run, and only those (no root needed)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from simulator.emulation import network


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@pytest.fixture
def tmp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private temporary directory: what TMPDIR names for this process."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setenv("TMPDIR", str(root))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    return root


def test_only_our_folders_of_dead_runs_are_removed(tmp_root: Path) -> None:
    dead, live = _dead_pid(), os.getpid()
    stale_logs = tmp_root / f"msim-logs-{dead}-k2j4x_9a"
    stale_scaled = tmp_root / f"msim-scaled-{dead}-0abc1234"
    (stale_logs / "sub").mkdir(parents=True)
    (stale_logs / "cloud.log").write_text("last words\n")
    stale_scaled.mkdir()
    keep = [tmp_root / f"msim-logs-{live}-q7w8e9r0",   # a live run's
            tmp_root / "msim-logs-k2j4x_9a",            # no pid in the name: not ours to judge
            tmp_root / f"msim-other-{dead}-abc",         # not a kind of ours
            tmp_root / f"msim-logs-{dead}",              # not the name temp_folder gives
            tmp_root / f"other-logs-{dead}-abc"]
    for path in keep:
        path.mkdir()
    target = tmp_root / "target"
    target.mkdir()
    (tmp_root / f"msim-logs-{dead}-link").symlink_to(target)  # a link is never followed nor removed
    (tmp_root / f"msim-logs-{dead}-file").write_text("")       # nor a file
    assert network.remove_stale_folders() == [stale_logs, stale_scaled]
    assert sorted(p.name for p in tmp_root.iterdir()) == sorted(
        [p.name for p in keep] + ["target", f"msim-logs-{dead}-link", f"msim-logs-{dead}-file"])


def test_temp_folder_is_named_after_this_process_and_kept_while_it_lives(tmp_root: Path) -> None:
    with network.temp_folder("logs") as folder:
        assert Path(folder).parent == tmp_root
        assert Path(folder).name.startswith(f"msim-logs-{os.getpid()}-")
        assert network.remove_stale_folders() == []
        assert Path(folder).is_dir()
    assert list(tmp_root.iterdir()) == []


def test_cleanup_line_by_hand() -> None:
    assert network.cleanup_line([], []) is None
    assert network.cleanup_line([], [Path("a")]) == "removed 1 stale temporary folder left by an interrupted run"
    assert network.cleanup_line(["msim-12-cloud", "msim-12-m0", "msim000000cm0"], [Path("a"), Path("b")]) == (
        "removed 2 stale network namespaces, 1 stale veth and 2 stale temporary folders left by an interrupted run")
    assert network.cleanup_line(["msim-12-cloud"], []) == \
        "removed 1 stale network namespace left by an interrupted run"


def test_next_testbed_removes_stale_folders_with_the_namespaces_and_says_so(
        tmp_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The netlink parts replaced (they need root and are tested in test_emulation.py): the folder of a dead
    run goes, the run's own stays, and one line tells what was removed."""
    stale = tmp_root / f"msim-logs-{_dead_pid()}-abcdefgh"
    stale.mkdir()
    mine = tmp_root / f"msim-logs-{os.getpid()}-abcdefgh"
    mine.mkdir()
    built = network.TestbedNetwork(os.getpid(), "msim-test-cloud")
    monkeypatch.setattr(network, "require_root", lambda: None)
    monkeypatch.setattr(network, "remove_stale", lambda: ["msim-1-cloud", "msim-1-m0"])
    monkeypatch.setattr(network, "create_network", lambda n: built)
    monkeypatch.setattr(network, "remove_network", lambda net: None)
    said: list[str] = []
    with network.testbed_network(1, on_cleanup=said.append) as net:
        assert net is built
    assert said == ["removed 2 stale network namespaces and 1 stale temporary folder left by an interrupted run"]
    assert not stale.exists() and mine.is_dir()
