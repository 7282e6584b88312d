"""The heap-based shared cell against a fine-step processor-sharing oracle and the previous scanning cell."""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import simpy
from _shared_cell_reference import ScanningSharedCell
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.traces import Trace
from simulator.uplink import SharedCell

GRID_S = 0.01  # arrivals and trace changes lie on this grid, so the stepped oracle only errs at departures
STEP_S = 1e-4


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


def stepped_processor_sharing(trace: Trace, offset_s: float, uploads: list[tuple[float, int]],
                              horizon_s: float) -> list[float]:
    """The definition, stepped: every STEP_S the capacity of that step is split equally among active uploads."""
    remaining = np.array([8.0 * b for _, b in uploads])
    arrival = np.array([a for a, _ in uploads])
    finish = np.full(len(uploads), np.nan)
    for k in range(int(round(horizon_s / STEP_S))):
        t = k * STEP_S
        active = np.flatnonzero((arrival <= t + 1e-12) & np.isnan(finish))
        if active.size == 0:
            continue
        share = trace.capacity_mbps(t + offset_s) * 1e6 * STEP_S / active.size
        before = remaining[active].copy()
        remaining[active] -= share
        for i, left, was in zip(active, remaining[active], before, strict=True):
            if left <= 0:  # finished inside this step: interpolate linearly
                finish[i] = t + STEP_S * was / share
    return finish.tolist()


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
def test_heap_cell_equals_stepped_processor_sharing(case: tuple[Trace, float, list[tuple[float, int]]]) -> None:
    trace, offset, uploads = case
    exact = finish_times(SharedCell, trace, offset, uploads)
    horizon = max(exact) + 0.05
    stepped = stepped_processor_sharing(trace, offset, uploads, horizon)
    # Each departure inside a step misplaces the others by at most one step.
    assert np.allclose(exact, stepped, rtol=0, atol=(len(uploads) + 1) * STEP_S), (exact, stepped)


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
