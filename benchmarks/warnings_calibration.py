"""Calibration of a run's queue warnings (``latency_growing``, ``overload``): false alarms on the shipped
scenarios' stable schedules, and misses on configurations built overloaded, over seeds.

False alarms: every shipped scenario, its trace replayed from a random offset, run at each seed; per
(schedule, seed), a schedule whose resources that can queue are all offered rho <= 0.8 should raise neither
code (``overload`` none below rho 1). Misses: the default scenario reduced to mobile-only (the device CPU,
which queues) or cloud-only (the uplink over the LTE trace), Poisson arrivals offering rho from 0.5 to 1.5
for a few durations; the share of seeds that raise each code (below 1: false alarms near the edge; above:
detections). Shares with their Wilson 95 % interval (:mod:`simulator.studies.warning_rates`).

    PYTHONPATH=. python -W ignore benchmarks/warnings_calibration.py     # benchmarks/README.md
    PYTHONPATH=. python -W ignore benchmarks/warnings_calibration.py --seeds 20 --no-stable   # a quick look
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from simulator.config.scenario import load_scenario
from simulator.studies.calibration import Tally
from simulator.studies.warning_rates import RESOURCES, overloaded, per_request_rho, randomized, tally

REPO = Path(__file__).resolve().parents[1]
STABLE_RHO = 0.8
RHOS = (0.5, 0.8, 0.9, 0.95, 1.05, 1.2, 1.5)
DURATIONS_S = (60.0, 300.0, 1200.0)


def _share(found: Tally) -> str:
    low, high = found.wilson()
    return f"{found.share:.1%} [{low:.1%}, {high:.1%}]" if found.total else "-"


def stable(seeds: list[int], names: list[str]) -> None:
    """False alarms per shipped scenario (its schedules at rho <= 0.8), and pooled."""
    pooled = {"latency_growing": Tally(), "overload": Tally()}
    print("| scenario | stable (schedule, seed) | largest rho | latency_growing | overload |\n|---|---|---|---|---|")
    for name in names:
        scenario = randomized(load_scenario(REPO / "scenarios" / f"{name}.yaml"))
        found, top = tally(scenario, seeds, lambda o: o.rho <= STABLE_RHO)
        for code, count in found.items():
            pooled[code].excluded += count.excluded
            pooled[code].total += count.total
        total = found["overload"].total
        print(f"| {name} | {total} | {top:.2f} | {_share(found['latency_growing'])} | {_share(found['overload'])} |",
              flush=True)
    print(f"| all | {pooled['overload'].total} | | {_share(pooled['latency_growing'])} | "
          f"{_share(pooled['overload'])} |")


def curve(seeds: list[int], rhos: list[float], durations: list[float]) -> None:
    """Per resource, duration and offered rho: the share of seeds that raise each code."""
    base = load_scenario(REPO / "scenarios" / "default.yaml")
    print("\n| resource | duration | rho | latency_growing | overload |\n|---|---|---|---|---|")
    for resource in RESOURCES:
        unit = per_request_rho(base, resource)
        for duration in durations:
            for rho in rhos:
                found, _ = tally(overloaded(base, resource, rho, duration, unit), seeds)
                print(f"| {resource} | {duration:g} s | {rho:g} | {_share(found['latency_growing'])} | "
                      f"{_share(found['overload'])} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", help="shipped scenarios for the false alarms (default: all)")
    parser.add_argument("--seeds", type=int, default=50, help="seeds per scenario and per built configuration")
    parser.add_argument("--rho", type=float, nargs="*", default=list(RHOS))
    parser.add_argument("--duration", type=float, nargs="*", default=list(DURATIONS_S))
    parser.add_argument("--no-stable", action="store_true", help="only the built configurations")
    parser.add_argument("--no-curve", action="store_true", help="only the shipped scenarios")
    args = parser.parse_args()
    seeds = list(range(1, args.seeds + 1))
    names = args.scenarios or sorted(p.stem for p in (REPO / "scenarios").glob("*.yaml"))
    start = time.perf_counter()
    if not args.no_stable:
        stable(seeds, names)
    if not args.no_curve:
        curve(seeds, args.rho, args.duration)
    print(f"\n{args.seeds} seeds each, {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
