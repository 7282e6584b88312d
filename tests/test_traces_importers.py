"""The csv (project and Pensieve) and SimGrid importers, and atomic output on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.errors import InputError
from simulator.traces.csv_format import read_trace_csv
from simulator.traces.importers import import_traces


def run(tmp_path: Path, fmt: str, text: str) -> Path:
    src, dest = tmp_path / "src.txt", tmp_path / "out.csv"
    src.write_text(text)
    import_traces(fmt, src, dest)
    return dest


def test_csv_project_form_is_shifted_to_zero(tmp_path: Path) -> None:
    trace = read_trace_csv(run(tmp_path, "csv", "# who: me\ntime_s,mbps\n5,10\n5.5,20\n6,30\n"))
    assert trace.times_s.tolist() == [0, 0.5, 1.0] and trace.mbps.tolist() == [10, 20, 30]
    assert trace.meta["format"] == "csv" and trace.meta["kind"] == "imported"


def test_csv_pensieve_whitespace_form(tmp_path: Path) -> None:
    trace = read_trace_csv(run(tmp_path, "csv", "0.0 1.5\n1.0\t2.5\n2.0  3.5\n"))
    assert trace.mbps.tolist() == [1.5, 2.5, 3.5]


def test_simgrid_values_are_bytes_per_second(tmp_path: Path) -> None:
    dest = run(tmp_path, "simgrid", "# comment\n% other\n0 1250000\n1 2500000\n2 0\nLOOPAFTER 1\n")
    trace = read_trace_csv(dest)
    assert trace.mbps.tolist() == [10.0, 20.0, 0.0]
    assert trace.meta["loop_after_s"] == 1.0


@pytest.mark.parametrize(("fmt", "text", "fragment"), [
    ("csv", "0,1\n1,x\n", "line 2"),
    ("csv", "0,1\n1,-1\n", "line 2: capacity must be >= 0"),
    ("csv", "0,1\n1,inf\n", "line 2: values must be finite"),
    ("csv", "0,1\n0,2\n", "line 2: time_s must increase"),
    ("csv", "", "no samples found"),
    ("csv", "# only a comment\n", "no samples found"),
    ("simgrid", "0 1\n1 x\n", "line 2"),
    ("simgrid", "0 1\n0 2\n", "line 2: dates must increase"),
    ("simgrid", "0 -1\n", "line 1"),
    ("simgrid", "0 1\nLOOPAFTER soon\n", "line 2"),
])
def test_bad_input_leaves_nothing_at_dest(tmp_path: Path, fmt: str, text: str, fragment: str) -> None:
    dest = tmp_path / "out.csv"
    dest.write_text("previous\n")
    with pytest.raises(InputError) as err:
        run(tmp_path, fmt, text)
    assert fragment in err.value.one_line() and "src.txt" in err.value.one_line()
    assert dest.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "src.txt"]


def test_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown trace format 'pcap'"):
        import_traces("pcap", tmp_path / "a", tmp_path / "b")
