"""The vectorised reader of regular trace files gives exactly what the row parser gives, or defers to it."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

from simulator.errors import InputError
from simulator.traces.csv_format import _read_regular, _read_rows, read_trace_csv

SHIPPED = sorted((REPO / "traces" / "synthetic").glob("*.csv"))


def assert_same(path: Path) -> None:
    fast = _read_regular(path)
    assert fast is not None, f"{path.name} should be read in one pass"
    rows = _read_rows(path, loose=False)
    assert fast[0] == rows[0]
    assert fast[1].tobytes() == rows[1].tobytes() and fast[2].tobytes() == rows[2].tobytes()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_traces_read_identically(path: Path) -> None:
    assert_same(path)


def test_random_numbers_read_identically(tmp_path: Path) -> None:
    """Numbers written every way Python prints them (repr, exponents, padding) parse to the same bits."""
    rng = random.Random(7)
    t, lines = 0.0, ["# kind: test", "#   note: indented", "time_s,mbps"]
    for _ in range(5000):
        t += rng.choice([0.1, rng.uniform(1e-9, 3.0)])
        rate = rng.choice([0.0, rng.uniform(0, 1e3), rng.uniform(0, 1e-6), 10 ** rng.uniform(-300, 300)])
        lines.append(f"{rng.choice([repr(t), f'{t:.17g}', f'{t:.10g}'])},{rng.choice([repr(rate), f'{rate:e}'])}")
    path = tmp_path / "r.csv"
    path.write_text("\n".join(lines) + "\n")
    if _read_regular(path) is None:  # a %.10g time may repeat: then the row parser must refuse it
        with pytest.raises(InputError):
            _read_rows(path, loose=False)
    else:
        assert_same(path)


@pytest.mark.parametrize("text, fragment", [
    ("time_s,mbps\n0,1\n\n1,2\n", None),          # a blank line: the row parser skips it
    ("time_s,mbps\n0,1\n# late note\n1,2\n", None),  # a comment after the data
    ("time_s,mbps\n0,1\n1,x\n", "line 3"),
    ("time_s,mbps\n0,1\n0,2\n", "line 3"),
    ("time_s,mbps\n0,1\n1,-2\n", "line 3"),
    ("time_s,mbps\n0,1\n1,inf\n", "line 3"),
    ("time_s,mbps\n0,1,2\n", "line 2"),
])
def test_irregular_files_go_to_the_row_parser(tmp_path: Path, text: str, fragment: str | None) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text)
    assert _read_regular(path) is None
    if fragment is None:
        trace = read_trace_csv(path)
        assert trace.mbps.tolist() == [1.0, 2.0]
    else:
        with pytest.raises(InputError, match=fragment):
            read_trace_csv(path)


def test_values_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("# source: by hand\ntime_s,mbps\n10,5\n10.5,0\n11,2.5\n")
    trace = read_trace_csv(path)
    assert trace.meta == {"source": "by hand"}
    assert np.array_equal(trace.times_s, [0.0, 0.5, 1.0]) and np.array_equal(trace.mbps, [5.0, 0.0, 2.5])
    assert trace.duration_s == 1.5
