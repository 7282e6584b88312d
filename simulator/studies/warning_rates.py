"""How often a run's queue warnings are right: false alarms on stable configurations, misses on overloaded ones.

A warning is a claim about the configuration, not about one run: ``latency_growing`` or ``overload`` raised
for a schedule whose resources are all offered well under their capacity is a false alarm, and silence on a
schedule offered more than its capacity is a miss. Both are shares over seeds (each seed a different trace
stretch and arrival pattern), tallied per (schedule, seed) by :func:`tally`; ``benchmarks/
warnings_calibration.py`` runs them at scale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from simulator.config.scenario import Scenario
from simulator.model.replications import with_seed
from simulator.model.runner import run_scenario
from simulator.studies.calibration import Tally

WATCHED = ("latency_growing", "overload")
RESOURCES = {"device_cpu": "mobile-only", "uplink": "cloud-only"}  # a resource, and the schedule that loads it


@dataclass(frozen=True)
class Outcome:
    """One schedule at one seed: the rho of its busiest resource that can queue, and the watched codes raised."""

    schedule: str
    rho: float
    fired: frozenset[str]


def queueing_rho(load: dict[str, Any], scenario: Scenario) -> float:
    """The largest rho among a schedule's resources where a queue can grow (the exemptions of ``overload``:
    a closed-loop workload queues nowhere, a dropping device does not queue on its CPU)."""
    work = scenario.workload
    if work.arrival == "back-to-back":
        return 0.0
    rhos = [entry["rho"] or 0.0 for resource, entry in load.items()
            if not (resource == "device_cpu" and work.on_busy == "drop")]
    return max(rhos, default=0.0)


def outcomes(scenario: Scenario, seed: int) -> list[Outcome]:
    """Every schedule's outcome of one run of ``scenario`` at ``seed``."""
    result = run_scenario(with_seed(scenario, seed))
    out = []
    for label, entry in result.summary.items():
        fired = frozenset(w.code for w in result.warnings if w.code in WATCHED and w.message.startswith(f"{label}:"))
        out.append(Outcome(label, queueing_rho(entry.get("load", {}), scenario), fired))
    return out


def randomized(scenario: Scenario) -> Scenario:
    """``scenario`` with its trace replayed from a random offset, so that each seed sees another stretch."""
    if scenario.network.mode != "trace":
        return scenario
    return scenario.model_copy(update={"network": scenario.network.model_copy(update={"start_offset_s": "random"})})


def per_request_rho(base: Scenario, resource: str) -> float:
    """rho offered to ``resource`` by one request per second of its schedule in ``base`` (seed 1's run)."""
    label = RESOURCES[resource]
    schedules = [s for s in base.schedules if getattr(s, "kind", None) == label]
    probe = base.model_copy(update={"schedules": schedules[:1]})
    load = run_scenario(with_seed(probe, 1)).summary[label]["load"][resource]
    return float(load["rho"]) / float(load["rate_per_s"])


def overloaded(base: Scenario, resource: str, rho: float, duration_s: float, unit_rho: float) -> Scenario:
    """``base`` reduced to the schedule that loads ``resource``, with Poisson arrivals offering it ``rho`` for
    ``duration_s`` (``unit_rho``: :func:`per_request_rho`); the device queues what it cannot compute yet."""
    label = RESOURCES[resource]
    schedules = [s for s in base.schedules if getattr(s, "kind", None) == label][:1]
    work = base.workload.model_copy(update={"arrival": "poisson", "fps": None, "rate_per_s": rho / unit_rho,
                                            "duration_s": duration_s, "n_requests": None, "on_busy": "queue"})
    return randomized(base).model_copy(update={"workload": work, "schedules": schedules})


def tally(scenario: Scenario, seeds: Iterable[int],
          counted: Callable[[Outcome], bool] = lambda _: True) -> tuple[dict[str, Tally], float]:
    """Per watched code, how many counted outcomes raised it, out of the counted ones; and the largest rho
    counted. ``counted`` picks outcomes (e.g. the stable ones: rho <= 0.8)."""
    tallies = {code: Tally() for code in WATCHED}
    top = 0.0
    for seed in seeds:
        for outcome in outcomes(scenario, seed):
            if not counted(outcome):
                continue
            top = max(top, outcome.rho)
            for code, found in tallies.items():
                found.total += 1
                found.excluded += code in outcome.fired
    return tallies, top
