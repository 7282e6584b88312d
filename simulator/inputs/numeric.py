"""The two numeric routines accuracy curves need, in plain numpy and Python: a monotone cubic interpolant
and a bracketed root finder.

They follow scipy's ``PchipInterpolator`` and ``brentq`` operation for operation (tests/test_numeric.py
checks equality to the last bit), so results do not move; importing scipy for them cost a run about 0.4 s
of start-up, more than the simulation of a short scenario.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _end_slope(h0: float, h1: float, m0: float, m1: float) -> float:
    """One-sided three-point slope at an end, kept shape-preserving (Moler, Numerical Computing with MATLAB,
    sec. 3.6): zero when its sign differs from the end secant's, capped at three times that secant."""
    d = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
    if np.sign(d) != np.sign(m0):
        return 0.0
    if np.sign(m0) != np.sign(m1) and abs(d) > 3.0 * abs(m0):
        return 3.0 * m0
    return d


class MonotoneCubic:
    """Piecewise cubic Hermite interpolation with Fritsch-Carlson slopes (PCHIP): it never overshoots the
    data, so a monotone table stays monotone. Defined on ``[x[0], x[-1]]`` only (NaN outside)."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if x.ndim != 1 or x.shape != y.shape or x.size < 2 or np.any(np.diff(x) <= 0):
            raise ValueError("need two or more strictly increasing x with one y each")
        h = x[1:] - x[:-1]
        m = (y[1:] - y[:-1]) / h
        slopes = np.empty_like(y)
        if x.size == 2:
            slopes[:] = m[0]
        else:
            sign = np.sign(m)
            flat = (sign[1:] != sign[:-1]) | (m[1:] == 0) | (m[:-1] == 0)
            w1 = 2 * h[1:] + h[:-1]
            w2 = h[1:] + 2 * h[:-1]
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                harmonic = (w1 / m[:-1] + w2 / m[1:]) / (w1 + w2)  # weighted harmonic mean of the secants
                slopes[1:-1] = np.where(flat, 0.0, 1.0 / harmonic)
            slopes[0] = _end_slope(h[0], h[1], m[0], m[1])
            slopes[-1] = _end_slope(h[-1], h[-2], m[-1], m[-2])
        t = (slopes[:-1] + slopes[1:] - 2 * m) / h
        # c3 + c2 s + c1 s^2 + c0 s^3 on each interval, s measured from its left end
        self._coefficients = np.stack([t / h, (m - slopes[:-1]) / h - t, slopes[:-1], y[:-1]], axis=1).tolist()
        self._x = x
        self._breaks = x.tolist()

    def __call__(self, value: float) -> float:
        """The interpolant at ``value`` (NaN outside the data's range)."""
        value = float(value)
        if not self._breaks[0] <= value <= self._breaks[-1]:
            return float("nan")
        i = min(int(np.searchsorted(self._x, value, side="right")) - 1, len(self._breaks) - 2)
        c0, c1, c2, c3 = self._coefficients[i]
        s = value - self._breaks[i]
        z2 = s * s
        return c3 + c2 * s + c1 * z2 + c0 * (z2 * s)


def brent_root(f: Callable[[float], float], a: float, b: float, *, xtol: float = 2e-12,
               rtol: float = 4 * np.finfo(float).eps, maxiter: int = 100) -> float:
    """A root of ``f`` in ``[a, b]`` (signs at the ends must differ) by Brent's method: inverse quadratic or
    secant steps while they shrink the bracket fast enough, bisection otherwise."""
    x_prev, x_cur = a, b
    f_prev, f_cur = f(x_prev), f(x_cur)
    if f_prev == 0:
        return x_prev
    if f_cur == 0:
        return x_cur
    if np.signbit(f_prev) == np.signbit(f_cur):
        raise ValueError("f(a) and f(b) must have different signs")
    x_blk = f_blk = s_prev = s_cur = 0.0
    for _ in range(maxiter):
        if f_prev != 0 and f_cur != 0 and np.signbit(f_prev) != np.signbit(f_cur):
            x_blk, f_blk = x_prev, f_prev
            s_prev = s_cur = x_cur - x_prev
        if abs(f_blk) < abs(f_cur):  # keep the best estimate in x_cur
            x_prev, x_cur, x_blk = x_cur, x_blk, x_cur
            f_prev, f_cur, f_blk = f_cur, f_blk, f_cur
        delta = (xtol + rtol * abs(x_cur)) / 2
        s_bis = (x_blk - x_cur) / 2
        if f_cur == 0 or abs(s_bis) < delta:
            return x_cur
        if abs(s_prev) > delta and abs(f_cur) < abs(f_prev):
            if x_prev == x_blk:  # secant
                s_try = -f_cur * (x_cur - x_prev) / (f_cur - f_prev)
            else:  # inverse quadratic
                d_prev = (f_prev - f_cur) / (x_prev - x_cur)
                d_blk = (f_blk - f_cur) / (x_blk - x_cur)
                s_try = -f_cur * (f_blk * d_blk - f_prev * d_prev) / (d_blk * d_prev * (f_blk - f_prev))
            if 2 * abs(s_try) < min(abs(s_prev), 3 * abs(s_bis) - delta):
                s_prev, s_cur = s_cur, s_try
            else:
                s_prev = s_cur = s_bis
        else:
            s_prev = s_cur = s_bis
        x_prev, f_prev = x_cur, f_cur
        x_cur += s_cur if abs(s_cur) > delta else (delta if s_bis > 0 else -delta)
        f_cur = f(x_cur)
    raise ValueError(f"no convergence in {maxiter} iterations")
