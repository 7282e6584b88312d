"""Mahimahi import/export: bin counting, the round trip within one packet, and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.errors import InputError
from simulator.traces.mahimahi import PACKET_BYTES, packets_per_bin, read_mahimahi, write_mahimahi
from simulator.traces.trace import Trace

MBPS_PER_PACKET_100MS = PACKET_BYTES * 8 / 0.1 / 1e6  # one packet per 100 ms bin = 0.12 Mbit/s


def test_counts_packets_per_bin(tmp_path: Path) -> None:
    path = tmp_path / "x.up"
    path.write_text("1\n1\n50\n100\n101\n250\n300\n")
    trace = read_mahimahi(path, 100)
    # bins (0,100], (100,200], (200,300]; the last timestamp (300 ms) is the loop period
    assert trace.mbps / MBPS_PER_PACKET_100MS == pytest.approx([4, 1, 2])
    assert trace.duration_s == pytest.approx(0.3)


def test_export_carries_fractional_packets(tmp_path: Path) -> None:
    # 0.06 Mbit/s over 0.1 s = 750 bytes: half a packet per bin, so one packet every other bin
    trace = Trace(np.arange(4) * 0.1, np.full(4, 0.06), 0.4)
    assert packets_per_bin(trace).tolist() == [0, 1, 0, 1]
    write_mahimahi(tmp_path / "o.up", trace)
    assert (tmp_path / "o.up").read_text().split() == ["200", "400"]


def _bytes_per_bin(trace: Trace) -> np.ndarray:
    return trace.mbps * 1e6 / 8 * np.diff(np.append(trace.times_s, trace.duration_s))


stamps = st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=300).map(sorted).filter(
    lambda s: s[-1] > 0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stamps=stamps, bin_ms=st.sampled_from([1, 7, 10, 100, 1000]))
def test_round_trip_keeps_every_bin_within_one_packet(tmp_path: Path, stamps: list[int], bin_ms: int) -> None:
    src, out = tmp_path / "in.up", tmp_path / "out.up"
    src.write_text("\n".join(map(str, stamps)) + "\n")
    first = read_mahimahi(src, bin_ms)
    write_mahimahi(out, first)
    second = read_mahimahi(out, bin_ms)
    a, b = _bytes_per_bin(first), _bytes_per_bin(second)
    assert a.size == b.size
    assert np.all(np.abs(a - b) < PACKET_BYTES)
    assert np.all(np.abs(np.cumsum(a) - np.cumsum(b)) < PACKET_BYTES)
    assert a.sum() == pytest.approx(len(stamps) * PACKET_BYTES)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=300, allow_nan=False), min_size=1, max_size=200))
def test_export_is_exact_to_one_packet_cumulatively(rates: list[float]) -> None:
    x = np.asarray(rates)
    if x.sum() <= 0:
        x[0] = 1.0
    trace = Trace(np.arange(x.size) * 0.1, x, x.size * 0.1)
    packets = packets_per_bin(trace)
    exact = np.cumsum(_bytes_per_bin(trace))
    assert np.all(packets >= 0)
    assert np.all(np.abs(np.cumsum(packets) * PACKET_BYTES - exact) < PACKET_BYTES + 1e-6)


@pytest.mark.parametrize(("text", "where", "fragment"), [
    ("1\n2\nabc\n", "line 3", "integer millisecond"),
    ("1\n2.5\n", "line 2", "integer millisecond"),
    ("5\n3\n", "line 2", "must not decrease"),
    ("1\n-4\n", "line 2", ">= 0"),
    ("1\nnan\n", "line 2", "integer millisecond"),
    ("", None, "empty mahimahi trace"),
    ("0\n0\n", None, "loop period"),
])
def test_bad_input(tmp_path: Path, text: str, where: str | None, fragment: str) -> None:
    path = tmp_path / "bad.up"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        read_mahimahi(path)
    message = err.value.one_line()
    assert str(path) in message and fragment in message
    if where:
        assert where in message


def test_line_numbers_survive_block_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import simulator.traces.mahimahi as mm

    monkeypatch.setattr(mm, "_BLOCK_LINES", 4)
    path = tmp_path / "x.up"
    path.write_text("1\n2\n3\n4\n5\n\n7\n6\n")
    with pytest.raises(InputError, match="line 8: timestamps must not decrease, got 6 after 7"):
        read_mahimahi(path)
    path.write_text("1\n2\n3\n4\n3\n")
    with pytest.raises(InputError, match="line 5: timestamps must not decrease, got 3 after 4"):
        read_mahimahi(path)
