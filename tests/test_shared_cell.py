"""The heap-based shared cell against processor sharing by definition (exact fractions) and the scanning cell."""

from __future__ import annotations

import math
from collections.abc import Generator
from fractions import Fraction

import numpy as np
import simpy
from _shared_cell_reference import ScanningSharedCell
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.model.uplink import SharedCell
from simulator.traces import Trace

GRID_S = 0.01  # arrivals and offsets lie on this grid, so the exact oracle can take them as fractions


def finish_times(cell_class: type, trace: Trace, offset_s: float, uploads: list[tuple[float, int]]) -> list[float]:
    """Run uploads (arrival_s, bytes) through a cell in a bare SimPy model; the finish instant of each."""
    env = simpy.Environment()
    cell = cell_class(env, trace, offset_s)
    done = [float("nan")] * len(uploads)

    def upload(index: int, at: float, n_bytes: int) -> Generator:
        yield env.timeout(at)
        yield from cell.send(n_bytes)
        done[index] = env.now

    for i, (at, n_bytes) in enumerate(uploads):
        env.process(upload(i, at, n_bytes))
    env.run()
    return done


def processor_sharing_by_definition(trace: Trace, offset: Fraction, uploads: list[tuple[Fraction, int]]
                                    ) -> list[Fraction]:
    """The definition in exact rational arithmetic: between events (an arrival, a trace sample boundary, a
    departure) the capacity is split equally among active uploads. No float rounding, so no tolerance."""
    starts = [Fraction(float(x)) for x in trace.times_s]
    duration = Fraction(float(trace.duration_s))
    rates = [Fraction(float(r)) * 10**6 for r in trace.mbps]

    def sample_at(u: Fraction) -> tuple[Fraction, Fraction]:
        """Capacity (bit/s) of the looping trace at u, and where that sample ends."""
        lap = math.floor(u / duration)
        within = u - lap * duration
        i = max(k for k, s in enumerate(starts) if s <= within)
        end = starts[i + 1] if i + 1 < len(starts) else duration
        return rates[i], lap * duration + end

    remaining = [Fraction(8 * b) for _, b in uploads]
    finish: list[Fraction | None] = [None] * len(uploads)
    t = Fraction(0)
    for _ in range(10_000):  # bounded: every pass reaches an arrival, a boundary or a departure
        if all(f is not None for f in finish):
            break
        active = [i for i, (at, _) in enumerate(uploads) if at <= t and finish[i] is None]
        rate, boundary = sample_at(t + offset)
        events = [boundary - offset] + [at for at, _ in uploads if at > t]
        if active and rate > 0:
            events.append(t + min(remaining[i] for i in active) * len(active) / rate)
        step = min(events)
        for i in active:
            remaining[i] -= rate * (step - t) / len(active)
            if remaining[i] == 0:
                finish[i] = step
        t = step
    assert all(f is not None for f in finish)
    return finish  # type: ignore[return-value]


@st.composite
def small_cases(draw: st.DrawFn) -> tuple[Trace, float, list[tuple[float, int]]]:
    samples = draw(st.integers(1, 5))
    rates = draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 4.0]), min_size=samples, max_size=samples))
    if not any(rates):
        rates[0] = 1.0
    trace = Trace(np.arange(samples) * 0.2, np.array(rates), samples * 0.2, "loop")
    offset = draw(st.integers(0, samples * 20 - 1)) * GRID_S
    uploads = draw(st.lists(st.tuples(st.integers(0, 40).map(lambda k: k * GRID_S),
                                      st.integers(1, 40).map(lambda kb: kb * 1000)), min_size=1, max_size=5))
    return trace, offset, uploads


@settings(max_examples=25, deadline=None)
@given(small_cases())
def test_heap_cell_equals_processor_sharing_by_definition(case: tuple[Trace, float, list[tuple[float, int]]]) -> None:
    trace, offset, uploads = case
    simulated = finish_times(SharedCell, trace, offset, uploads)
    on_grid = [(Fraction(round(at / GRID_S), 100), n_bytes) for at, n_bytes in uploads]
    defined = processor_sharing_by_definition(trace, Fraction(round(offset / GRID_S), 100), on_grid)
    assert np.allclose(simulated, [float(f) for f in defined], rtol=0, atol=1e-9), (simulated, defined)


def test_equal_uploads_at_one_instant_finish_together() -> None:
    """Three equal uploads at t=0 on 1 Mbit/s share it: all three end at 3 x 8 kbit / 1 Mbit/s = 24 ms."""
    trace = Trace(np.array([0.0]), np.array([1.0]), 1.0, "loop")
    assert finish_times(SharedCell, trace, 0.0, [(0.0, 1000)] * 3) == [0.024] * 3


def test_later_upload_slows_the_earlier_one() -> None:
    """8 kbit at t=0 on 1 Mbit/s; a second 8 kbit at 4 ms: the first has 4 kbit left at half rate (8 ms more),
    then the second has 4 kbit left alone (4 ms more): 12 ms and 16 ms."""
    trace = Trace(np.array([0.0]), np.array([1.0]), 1.0, "loop")
    first, second = finish_times(SharedCell, trace, 0.0, [(0.0, 1000), (0.004, 1000)])
    assert abs(first - 0.012) < 1e-12 and abs(second - 0.016) < 1e-12


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 300))
def test_heap_cell_equals_scanning_cell_bit_for_bit(seed: int, n_uploads: int) -> None:
    """Overloaded cells with hundreds of concurrent uploads on a trace with zero stretches."""
    rng = np.random.default_rng(seed)
    rates = rng.choice([0.0, 0.3, 2.0, 7.5, 20.0], size=50)
    rates[0] = 5.0
    trace = Trace(np.arange(50) * 0.1, rates, 5.0, "loop")
    arrivals = np.cumsum(rng.exponential(0.01, n_uploads))
    sizes = rng.integers(1, 200_000, n_uploads)
    uploads = [(float(a), int(b)) for a, b in zip(arrivals, sizes, strict=True)]
    offset = float(rng.uniform(0, 5.0))
    assert finish_times(SharedCell, trace, offset, uploads) == finish_times(ScanningSharedCell, trace, offset,
                                                                            uploads)
