"""simulator.inputs.numeric equals scipy's PchipInterpolator and brentq to the last bit (so replacing them moved
no result), and the interpolant has the properties that make it the right one: it passes through the data,
never overshoots it, and is linear on two points."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.inputs.accuracy import AccuracyTable
from simulator.inputs.numeric import MonotoneCubic, brent_root

scipy_interpolate = pytest.importorskip("scipy.interpolate")
scipy_optimize = pytest.importorskip("scipy.optimize")


def shipped_curves() -> list[tuple[np.ndarray, np.ndarray]]:
    frame = AccuracyTable.shipped().frame
    curves = []
    for _, rows in frame.groupby(["model", "dataset", "method", "split_after", "reconstruction"], dropna=False):
        rows = rows.sort_values("parameter")
        if len(rows) >= 2:
            curves.append((rows.parameter.to_numpy(float), rows.top1.to_numpy(float)))
    return curves


def test_equals_scipy_on_every_shipped_curve() -> None:
    curves = shipped_curves()
    assert len(curves) >= 10
    for x, y in curves:
        ours, theirs = MonotoneCubic(x, y), scipy_interpolate.PchipInterpolator(x, y, extrapolate=False)
        for value in np.concatenate([np.linspace(x[0], x[-1], 997), x]):
            assert ours(value) == float(theirs(value))


monotone_tables = st.integers(2, 9).flatmap(lambda n: st.tuples(
    st.lists(st.floats(0.01, 10), min_size=n, max_size=n),
    st.lists(st.floats(-5, 5), min_size=n, max_size=n)))


@given(monotone_tables)
def test_equals_scipy_on_random_tables(table: tuple[list[float], list[float]]) -> None:
    steps, values = table
    x = np.cumsum(steps)
    y = np.asarray(values)
    ours, theirs = MonotoneCubic(x, y), scipy_interpolate.PchipInterpolator(x, y, extrapolate=False)
    for value in np.linspace(x[0], x[-1], 41):
        assert ours(value) == float(theirs(value)) or (np.isnan(ours(value)) and np.isnan(theirs(value)))
    assert np.isnan(ours(x[0] - 1e-6)) and np.isnan(ours(x[-1] + 1e-6))


def test_passes_through_the_data_without_overshoot_and_is_linear_on_two_points() -> None:
    x, y = np.array([0.0, 1.0, 2.0, 4.0]), np.array([0.0, 0.0, 3.0, 3.5])
    curve = MonotoneCubic(x, y)
    assert [curve(v) for v in x] == y.tolist()
    inner = [curve(v) for v in np.linspace(0, 4, 401)]
    assert all(b >= a - 1e-12 for a, b in zip(inner, inner[1:], strict=False))  # monotone data, monotone curve
    assert max(inner[:101]) == 0.0  # flat stretch stays flat (a plain cubic spline would dip and rise)
    assert MonotoneCubic([1.0, 3.0], [10.0, 20.0])(2.5) == 17.5


@given(st.floats(-3, 3), st.floats(0.1, 4), st.integers(1, 5))
def test_brent_root_equals_scipy(shift: float, scale: float, power: int) -> None:
    def f(p: float) -> float:
        return scale * (p - shift) ** power - 0.5 if power % 2 else scale * (p - shift) - 0.5

    a, b = shift - 10.0, shift + 10.0
    assert brent_root(f, a, b) == scipy_optimize.brentq(f, a, b)


def test_brent_root_refuses_a_bracket_without_a_sign_change() -> None:
    with pytest.raises(ValueError, match="different signs"):
        brent_root(lambda p: p * p + 1, -1.0, 1.0)
