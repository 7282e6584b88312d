"""``mercury-sim traces``: commands end to end, bad input as one line and exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from _traces_real import REPO, SYNTHETIC, run_cli


def test_stats_json(capsys, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("time_s,mbps\n0,0.5\n0.1,10\n0.2,20\n0.3,30\n")
    code, out, _ = run_cli(["traces", "stats", "--json", str(path)], capsys)
    assert code == 0
    [row] = json.loads(out)
    assert row["mean"] == pytest.approx(15.125)
    assert row["outage_fraction"] == pytest.approx(0.25)
    assert row["duration_s"] == pytest.approx(0.4)


def test_stats_table(capsys) -> None:
    code, out, _ = run_cli(["traces", "stats", str(SYNTHETIC / "lte-static.csv")], capsys)
    assert code == 0 and "lte-static" in out and "lag-1" in out


def test_synth_is_deterministic(capsys, tmp_path: Path) -> None:
    outs = []
    for name in ("a.csv", "b.csv"):
        code, _, err = run_cli(["traces", "synth", "--profile", "5g-all", "--duration-s", "30", "--seed", "7",
                                str(tmp_path / name)], capsys)
        assert code == 0, err
        outs.append((tmp_path / name).read_bytes())
    assert outs[0].split(b"time_s,mbps")[1] == outs[1].split(b"time_s,mbps")[1]
    assert b"kind: synthetic" in outs[0] and b"seed: 7" in outs[0]


def test_mahimahi_import_export_via_cli(capsys, tmp_path: Path) -> None:
    src = tmp_path / "x.up"
    src.write_text("".join(f"{t}\n" for t in range(1, 1001)))  # one packet per ms = 12 Mbit/s
    code, _, err = run_cli(["traces", "import", "mahimahi", str(src), str(tmp_path / "x.csv")], capsys)
    assert code == 0, err
    code, _, err = run_cli(["traces", "export", "mahimahi", str(tmp_path / "x.csv"), str(tmp_path / "y.up")],
                           capsys)
    assert code == 0, err
    assert (tmp_path / "y.up").read_text() == src.read_text()


@pytest.mark.parametrize("args", [
    ["traces", "import", "pcap", "a", "b"],
    ["traces", "export", "simgrid", "a", "b"],
    ["traces", "stats", "does-not-exist.csv"],
    ["traces", "synth", "--profile", "6g-flying", "OUT.csv"],
    ["traces", "synth", "--profile", "lte-all", "--duration-s", "-1", "OUT.csv"],
    ["traces", "import", "ghoshal2022", "BAD", "OUT", "--legs", "lte"],
])
def test_bad_arguments_exit_2_with_one_line(capsys, tmp_path: Path, args: list[str]) -> None:
    args = [str(tmp_path / a) if a in ("a", "b", "OUT", "OUT.csv", "BAD") else a for a in args]
    code, _, err = run_cli(args, capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert "Traceback" not in err
    assert not (tmp_path / "OUT.csv").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize(("fmt", "text", "fragment"), [
    ("csv", "0,1\n1,2\n2,x\n", "line 3"),
    ("mahimahi", "1\n2\n1\n", "line 3"),
    ("csv", "", "no samples"),
])
def test_bad_file_via_subprocess(tmp_path: Path, fmt: str, text: str, fragment: str) -> None:
    src = tmp_path / "in.txt"
    src.write_text(text)
    result = subprocess.run([sys.executable, "-m", "simulator", "traces", "import", fmt, str(src),
                             str(tmp_path / "out.csv")], cwd=REPO, capture_output=True, text=True,
                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(src) in lines[0] and fragment in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.csv").exists()
