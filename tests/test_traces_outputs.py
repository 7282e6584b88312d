"""Trace commands write inside an existing folder and never replace a file mercury-sim did not write."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from _traces_real import SYNTHETIC, run_cli

from simulator.traces.csv_format import read_trace_csv
from simulator.traces.destination import written_by_us

PENSIEVE = "0 1.5\n1 2.5\n2 3.5\n"


def digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(capsys, args: list[str], root: Path) -> str:
    before = digest(root)
    code, _, err = run_cli(args, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert digest(root) == before
    return err


@pytest.mark.parametrize("foreign", ["my notes\n", "time_s,mbps\n0,1\n1,2\n", "# kind: mine\ntime_s,mbps\n0,1\n"])
def test_import_refuses_a_file_it_did_not_write(capsys, tmp_path: Path, foreign: str) -> None:
    (tmp_path / "in.txt").write_text(PENSIEVE)
    (tmp_path / "out.csv").write_text(foreign)
    err = refused(capsys, ["traces", "import", "csv", str(tmp_path / "in.txt"), str(tmp_path / "out.csv")],
                  tmp_path)
    assert "was not written by mercury-sim" in err


def test_import_replaces_its_own_output_and_writes_inside_a_folder(capsys, tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text(PENSIEVE)
    out = tmp_path / "out.csv"
    for _ in range(2):
        code, _, err = run_cli(["traces", "import", "csv", str(src), str(out)], capsys)
        assert code == 0, err
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    code, _, err = run_cli(["traces", "import", "csv", str(src), str(folder)], capsys)
    assert code == 0, err
    assert sorted(p.name for p in folder.iterdir()) == ["in.csv", "keep.txt"]
    assert read_trace_csv(folder / "in.csv").mbps.tolist() == [1.5, 2.5, 3.5]


def test_export_and_synth_refuse_foreign_files(capsys, tmp_path: Path) -> None:
    (tmp_path / "x.up").write_text("1\n2\n")
    trace = SYNTHETIC / "lte-static.csv"
    refused(capsys, ["traces", "export", "mahimahi", str(trace), str(tmp_path / "x.up")], tmp_path)
    (tmp_path / "s.csv").write_text("data\n")
    refused(capsys, ["traces", "synth", "--profile", "lte-static", "--duration-s", "5", str(tmp_path / "s.csv")],
            tmp_path)
    code, _, err = run_cli(["traces", "export", "mahimahi", str(trace), str(tmp_path)], capsys)
    assert code == 0, err
    assert (tmp_path / "lte-static.up").is_file()


def test_ghoshal_import_into_a_folder_holding_a_foreign_output_name(capsys, tmp_path: Path) -> None:
    src = tmp_path / "src" / "static" / "lte"
    src.mkdir(parents=True)
    (src / "a.list").write_text("#####\nRun 1\n1,2,3\n")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "lte-static.csv").write_text("someone else's\n")
    refused(capsys, ["traces", "import", "ghoshal2022", str(tmp_path / "src"), str(dest)], tmp_path)
    (dest / "lte-static.csv").unlink()
    (dest / "other.txt").write_text("kept")
    code, _, err = run_cli(["traces", "import", "ghoshal2022", str(tmp_path / "src"), str(dest)], capsys)
    assert code == 0, err
    assert (dest / "other.txt").read_text() == "kept" and (dest / "lte-all.csv").is_file()


def test_what_counts_as_ours(tmp_path: Path) -> None:
    assert written_by_us(SYNTHETIC / "lte-all.csv") and written_by_us(SYNTHETIC / "models.yaml")
    (tmp_path / "plain.csv").write_text("time_s,mbps\n0,1\n")
    (tmp_path / "models.yaml").write_text("provenance: {kind: notes}\n")
    assert not written_by_us(tmp_path / "plain.csv") and not written_by_us(tmp_path / "models.yaml")


def test_export_replaces_its_own_earlier_export_and_nothing_else(capsys, tmp_path: Path) -> None:
    trace = SYNTHETIC / "lte-static.csv"
    out = tmp_path / "link.up"
    for _ in range(2):  # the second export replaces the first: the record beside it says it is ours
        code, _, err = run_cli(["traces", "export", "mahimahi", str(trace), str(out)], capsys)
        assert code == 0, err
    record = tmp_path / "link.up.mercury-sim.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.up", "link.up.mercury-sim.json"]
    assert f'"sha256": "{hashlib.sha256(out.read_bytes()).hexdigest()}"' in record.read_text()
    with out.open("a") as handle:  # edited since: no longer what the tool wrote, so it is kept
        handle.write("999999\n")
    err = refused(capsys, ["traces", "export", "mahimahi", str(trace), str(out)], tmp_path)
    assert "link.up" in err and "not written by mercury-sim" in err
    out.unlink()
    record.write_text("my own notes\n")  # a foreign file where the record goes is kept too
    assert "mercury-sim.json" in refused(capsys, ["traces", "export", "mahimahi", str(trace), str(out)], tmp_path)
    record.unlink()
    for _ in range(2):  # into a folder: SRC's stem + .up, replaced on the second export
        code, _, err = run_cli(["traces", "export", "mahimahi", str(trace), str(tmp_path)], capsys)
        assert code == 0, err
    assert {"lte-static.up", "lte-static.up.mercury-sim.json"} <= {p.name for p in tmp_path.iterdir()}
