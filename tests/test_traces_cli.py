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


@pytest.fixture
def shipped(monkeypatch, tmp_path: Path) -> Path:
    """A data root of our own whose shipped traces are two tiny files (kind, duration and mean known)."""
    import simulator.inputs.data

    folder = tmp_path / "data" / "traces" / "synthetic"
    folder.mkdir(parents=True)
    (folder / "tiny.csv").write_text("# kind: synthetic\ntime_s,mbps\n0,2\n1,6\n")  # 2 s, mean 4
    (folder / "flat.csv").write_text("# kind: imported\ntime_s,mbps\n0,0.5\n0.5,0.5\n")  # 1 s, mean 0.5
    monkeypatch.setattr(simulator.inputs.data, "data_roots", lambda: [tmp_path / "data"])
    return folder


def test_stats_and_export_take_a_shipped_name(capsys, shipped: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["traces", "stats", "--json", "tiny"], capsys)
    assert code == 0, err
    [row] = json.loads(out)
    assert row["name"] == "tiny" and row["mean"] == pytest.approx(4.0) and row["duration_s"] == pytest.approx(2.0)
    code, out, err = run_cli(["traces", "stats", "--csv", "tiny", "flat"], capsys)
    assert code == 0, err
    assert [line.split(",")[:2] for line in out.splitlines()[1:]] == [["tiny", str(shipped / "tiny.csv")],
                                                                      ["flat", str(shipped / "flat.csv")]]
    code, _, err = run_cli(["traces", "export", "mahimahi", "tiny", str(tmp_path)], capsys)
    assert code == 0, err
    # 2 Mbit/s for 1 s, then 6: 2e6 / 12000 = 166.67 then 500 packets of 1500 bytes: 666 whole ones in 2 s
    assert len((tmp_path / "tiny.up").read_text().splitlines()) == 666


def test_a_path_wins_over_a_shipped_name(capsys, shipped: Path, tmp_path: Path, monkeypatch) -> None:
    work = tmp_path / "work"
    (work / "tiny").mkdir(parents=True)
    (work / "tiny" / "mine.csv").write_text("time_s,mbps\n0,10\n1,30\n")
    monkeypatch.chdir(work)
    code, out, err = run_cli(["traces", "stats", "--json", "tiny"], capsys)  # the folder ./tiny, not the trace
    assert code == 0, err
    [row] = json.loads(out)
    assert row["name"] == "mine" and row["mean"] == pytest.approx(20.0)


def test_an_unknown_name_says_which_are_shipped(capsys, shipped: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for args in (["traces", "stats", "tiyn"], ["traces", "export", "mahimahi", "tiyn", "out.up"]):
        code, _, err = run_cli(args, capsys)
        assert code == 2
        assert err == "error: tiyn: no such file or shipped trace; did you mean 'tiny'? shipped traces: flat, tiny\n"
    assert not (tmp_path / "out.up").exists()


def test_list_shows_the_shipped_traces(capsys, shipped: Path, monkeypatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    code, out, err = run_cli(["traces", "list"], capsys)
    assert code == 0, err
    cells = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
             for line in out.splitlines() if line.startswith("│")}
    # name: kind, duration s, mean, median, p5, p95, outage <1, lag-1 acf (two samples: none)
    assert cells == {"flat": ["imported", "1.0", "0.50", "0.50", "0.50", "0.50", "1.000", "nan"],
                     "tiny": ["synthetic", "2.0", "4.00", "4.00", "2.00", "6.00", "0.000", "nan"]}
    assert f"in {shipped};" in out and "'mercury-sim traces stats flat'" in out


def test_low_capacity_warning_names_five_and_counts_the_rest(capsys) -> None:
    from simulator.cli.traces import _warn_low_capacity

    means = {f"t{i}": 0.01 * i for i in range(1, 8)} | {"fast": 1.0}  # 1 Mbit/s is not below the line
    _warn_low_capacity(means, " (mean_mbps in stats.csv)")
    assert capsys.readouterr().err == (
        "warning: low capacity: 7 of 8 trace(s) average below 1 Mbit/s, too slow for split inference (300 kB take "
        "> 2.4 s): t1 0.01, t2 0.02, t3 0.03, t4 0.04, t5 0.05 Mbit/s and 2 more (mean_mbps in stats.csv)\n")
    _warn_low_capacity({"fast": 1.0})
    assert capsys.readouterr().err == ""
