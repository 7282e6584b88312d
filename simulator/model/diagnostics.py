"""What makes a run's result doubtful: warnings with a stable code and a message naming the schedule.

Codes (stable: scripts may filter on them):

* ``overload``: a resource a schedule uses is offered rho >= 1 of its capacity (:mod:`simulator.model.offered_load`
  says what rho is), so latencies measure a queue that grows as long as the run lasts; one per schedule and
  resource. Not for the device CPU under ``workload.on_busy: drop`` (a busy device skips frames by design,
  and the summary counts them as ``dropped``) nor for a back-to-back workload (it waits for each answer, so
  no queue can grow); their rho is in the summary's ``load`` all the same.
* ``latency_growing``: the latency of a schedule's requests keeps rising over the run (a queue that never
  drains): the median latency of each sixth of the arrivals at least that of the sixth before, the last
  sixth's above twice the first's, and a significant Kendall trend of latency against arrival time
  (one-sided, p < 0.01, its variance inflated for the autocorrelation of successive latencies); requests
  still unfinished when the run ended count as slower than any that finished. A trace's bad stretch slows
  requests and lets them recover (its sixths rise and fall): no warning. Six parts, not four: on stable
  schedules (rho <= 0.8) four rising quarters came up in up to 17 % of seeds, six rising sixths in 2 %
  (``benchmarks/warnings_calibration.py``). Under
  processor sharing (a shared cell) an overloaded cell slows every upload alike, so latency need not grow
  with arrival time: ``overload`` says so instead.
* ``accuracy_interpolated``: a schedule's top-1 comes from between two rows of an accuracy table (PCHIP),
  not from a row; once per schedule, also when it chose its parameter per request.
* ``accuracy_unknown``: some completed requests have no known top-1 (NaN), so the mean accuracy is null.
* ``energy_unknown``: the mobile profile leaves a power out, so energy is NaN (:func:`simulator.model.energy.
  energy_warning`).
* ``trace_too_slow``: the first plan's upload takes longer at the trace's mean than the time between
  requests (:mod:`simulator.model.uplink_load`).
* ``seed_no_effect``: runs replicated over several seeds that cannot differ (:mod:`simulator.config.seed_effect`),
  or that did not.
* ``schedule``: what a schedule said while it was built (a table ending before its target, no rows, ...).
* ``not_emulated``: a scenario key the testbed does not emulate (``mercury-sim emulate``).
* ``compute_constant``: ``compute.variability`` is ``profile`` but a tier's profile has no ``quantiles_ms``, so
  that tier's compute stays constant (:func:`simulator.model.variability.unsampled_warning`).

The warning itself (:class:`simulator.errors.RunWarning`), its codes and its stored form live in
:mod:`simulator.errors`, beside the other things that reach the user, so that every layer can raise one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulator.errors import RunWarning
from simulator.inputs.accuracy import PARAMETER_NAMES

if TYPE_CHECKING:
    from simulator.config.scenario import Scenario
    from simulator.inputs.accuracy import Interpolated
    from simulator.model.offered_load import ResourceLoad

TREND_P = 0.01  # one-sided significance of the latency trend
PARTS = 6  # the arrivals' consecutive parts whose medians must rise
GROWTH = 2.0  # last part's median over the first part's
MIN_TREND_REQUESTS = 8
# A number in a warning's text (3, 4.69, 2,200,000, 3e-65), not a digit of a name (sharded-2, mercury-75).
_NUMBER = re.compile(r"(?<![\w-])\d[\d,.]*(?:e[-+]?\d+)?")


def overload_warnings(label: str, loads: Sequence[ResourceLoad], scenario: Scenario) -> list[RunWarning]:
    """One per resource offered at least its capacity, except where the load cannot queue (module docstring)."""
    work = scenario.workload
    if work.arrival == "back-to-back":
        return []
    out = []
    for load in loads:
        if not load.rho >= 1.0 or (load.resource == "device_cpu" and work.on_busy == "drop"):
            continue
        out.append(RunWarning("overload", f"{label}: {load.resource} offered {load.rho:.3g}x its capacity "
                                          f"({load.terms}): latencies measure a growing queue"))
    return out


def latency_growing(label: str, rows: pd.DataFrame) -> RunWarning | None:
    """A warning when the latency of ``rows`` (one schedule's records, in arrival order) keeps growing."""
    rows = rows[rows.status != "dropped"]
    if len(rows) < MIN_TREND_REQUESTS:
        return None
    ok = (rows.status == "ok").to_numpy()
    latency = np.where(ok, rows.total_ms.to_numpy(float), math.inf)
    parts = [float(np.median(part)) for part in np.array_split(latency, PARTS)]
    first, last = parts[0], parts[-1]
    rising = all(a <= b for a, b in zip(parts, parts[1:], strict=False))  # a bad stretch rises, then falls
    if not (rising and math.isfinite(first) and last > GROWTH * first):
        return None
    from scipy.stats import kendalltau, norm  # only here: most runs never get this far

    finite = latency[ok]
    ranked = np.where(ok, latency, (finite.max() if finite.size else 0.0) + 1.0)  # unfinished: the slowest
    tau, iid_p = kendalltau(rows.arrival_s.to_numpy(float), ranked, alternative="greater")
    p = float(norm.sf(norm.isf(iid_p) / math.sqrt(autocorrelation_inflation(ranked))))
    if not p < TREND_P:
        return None
    unfinished = int((~ok).sum())
    stuck = f"; {unfinished} request(s) still unfinished when the run ended" if unfinished else ""
    late = f"{last:,.0f} ms" if math.isfinite(last) else "unfinished"
    return RunWarning("latency_growing",
                      f"{label}: latency grows over the run (median {late} over the last sixth of arrivals "
                      f"against {first:,.0f} ms over the first; Kendall tau {tau:.2f} against arrival time, "
                      f"p = {p:.1g}{stuck}): a queue that never drains, so the statistics depend on the run's length")


def autocorrelation_inflation(values: np.ndarray) -> float:
    """How much the autocorrelation of successive ``values`` inflates the variance of Kendall's S against their
    order (Hamed & Rao 1998, at least 1): a queue's successive latencies are alike, so an iid Kendall test
    would call a slow wander a trend. From the lag autocorrelations of the ranks, detrended, that are
    significant at 5 %."""
    from scipy.stats import norm, rankdata

    n = values.size
    if n < 3:
        return 1.0
    ranks = rankdata(values)
    order = np.arange(n, dtype=float)
    residual = ranks - np.polyval(np.polyfit(order, ranks, 1), order)
    residual -= residual.mean()
    spectrum = np.fft.rfft(residual, 2 * n)
    covariance = np.fft.irfft(spectrum * np.conj(spectrum), 2 * n)[:n]
    if covariance[0] <= 1e-9 * float(np.sum((ranks - ranks.mean()) ** 2)):  # a straight line: nothing left over
        return 1.0
    rho = covariance[1:] / covariance[0]
    lag = np.arange(1, n, dtype=float)
    weight = (n - lag) * (n - lag - 1) * (n - lag - 2)
    significant = np.abs(rho) > norm.isf(0.025) / math.sqrt(n)
    return max(1.0, 1.0 + 2.0 * float(np.sum(weight * rho * significant)) / (n * (n - 1) * (n - 2)))


INTERPOLATED_COLUMN = "accuracy_interpolated"


def interpolated_mask(rows: pd.DataFrame, notes: dict[tuple[float, float], Interpolated]) -> np.ndarray:
    """Which of one schedule's ``rows`` took their top-1 from between two table rows (the records' column).

    ``notes`` maps each (parameter, top-1) a schedule read between rows to the rows it lies between; a request
    whose plan carried such a pair was priced with an interpolated accuracy, whatever its status.
    """
    if not notes or rows.empty:
        return np.zeros(len(rows), dtype=bool)
    keys = pd.MultiIndex.from_arrays([rows.parameter.to_numpy(np.float64), rows.accuracy.to_numpy(np.float64)])
    return np.asarray(keys.isin(list(notes)), dtype=bool)


def interpolation_warning(label: str, rows: pd.DataFrame,
                          notes: dict[tuple[float, float], Interpolated]) -> RunWarning | None:
    """A warning when completed requests of ``rows`` took their top-1 from between two table rows."""
    ok = rows[rows.status == "ok"]
    if not notes or ok.empty:
        return None
    used = ok.groupby(["parameter", "accuracy"]).size()
    between = [(notes[key], int(count)) for key, count in used.items() if key in notes]
    if not between:
        return None
    parameters = ok.parameter.nunique()
    if parameters == 1:
        return RunWarning("accuracy_interpolated", f"{label}: {between[0][0].describe()}")
    requests = sum(count for _, count in between)
    name = PARAMETER_NAMES.get(between[0][0].method, "parameter")
    return RunWarning("accuracy_interpolated",
                      f"{label}: {name} chosen per request; top-1 interpolated between table rows for {requests} "
                      f"of {len(ok)} completed requests ({len(between)} of the {parameters} values chosen, e.g. "
                      f"{between[0][0].describe()})")


def accuracy_unknown(label: str, entry: dict[str, Any]) -> RunWarning | None:
    """A warning when some completed requests of a schedule (its summary ``entry``) have no known top-1."""
    unknown = entry.get("accuracy_unknown")
    if not unknown:
        return None
    return RunWarning("accuracy_unknown", f"{label}: top-1 unknown for {unknown} of {entry.get('count')} completed "
                                          "requests, so its mean accuracy is null")


def schedule_warnings(label: str, rows: pd.DataFrame, entry: dict[str, Any], loads: Sequence[ResourceLoad],
                      notes: dict[tuple[float, float], Interpolated], scenario: Scenario) -> list[RunWarning]:
    """Every warning about one schedule's results, in the order of the module docstring."""
    found = [*overload_warnings(label, loads, scenario), latency_growing(label, rows),
             interpolation_warning(label, rows, notes), accuracy_unknown(label, entry)]
    return [w for w in found if w is not None]


def merge_seed_warnings(per_seed: dict[int, list[RunWarning]]) -> list[RunWarning]:
    """A replicated run's warnings, each once: those that differ between seeds only in their numbers (the same
    code and the same text with every number masked) are one warning, the first seed's text, saying at how many
    seeds it was raised."""
    groups: dict[tuple[str, str], list[tuple[int, RunWarning]]] = {}
    for seed, warnings in per_seed.items():
        for warning in warnings:
            groups.setdefault((warning.code, _NUMBER.sub("#", warning.message)), []).append((seed, warning))
    merged = []
    for found in groups.values():
        seeds = list(dict.fromkeys(seed for seed, _ in found))
        first = found[0][1]
        if len({w.message for _, w in found}) == 1 and len(seeds) == len(per_seed):
            merged.append(first)
            continue
        where = f"at {len(seeds)} of {len(per_seed)} seeds; seed {seeds[0]}'s numbers" if len(per_seed) > 1 else ""
        merged.append(RunWarning(first.code, f"{first.message} ({where})" if where else first.message))
    return merged


def seed_warning(scenario: Scenario, seeds: Sequence[int]) -> RunWarning | None:
    """For a run replicated over ``seeds``: a warning when no draw of the scenario depends on the seed."""
    from simulator.config.seed_effect import seed_has_effect

    reason = seed_has_effect(scenario) if len(set(seeds)) > 1 else None
    if reason is None:
        return None
    return RunWarning("seed_no_effect", f"seed has no effect: {reason}; its {len(set(seeds))} seeds repeat one run")
