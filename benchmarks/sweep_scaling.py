"""Wall time of one sweep on each executor: in-process, local worker processes, a local Dask cluster.

Runs the shipped ``sweeps/default-reduction.yaml`` (18 points), interleaving the executors across
repetitions so that host drift hits them alike, and prints medians and ranges. It also checks that every
executor produced the same table.

    PYTHONPATH=. python benchmarks/sweep_scaling.py --reps 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import pandas as pd

from simulator.studies.sweep import load_sweep, run_sweep

SWEEP = Path(__file__).resolve().parents[1] / "sweeps" / "default-reduction.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()
    sweep = load_sweep(SWEEP)
    executors = {"in-process": {"workers": 1}, f"{args.workers} processes": {"workers": args.workers}}
    if not args.no_dask:
        executors[f"dask local ({args.workers} workers)"] = {"workers": args.workers, "dask": "local"}
    times: dict[str, list[float]] = {name: [] for name in executors}
    tables: dict[str, pd.DataFrame] = {}
    for _ in range(args.reps):
        for name, options in executors.items():
            start = time.perf_counter()
            tables[name] = run_sweep(sweep, **options).table
            times[name].append(time.perf_counter() - start)
    reference = next(iter(tables.values()))
    same = all(t.equals(reference) for t in tables.values())
    print(f"{len(sweep.points)} points, {args.reps} interleaved reps; identical tables: {same}")
    print("| executor | median s | range s | points/s |")
    print("|---|---|---|---|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.2f} | {min(values):.2f}-{max(values):.2f} | {len(sweep.points) / median:.2f} |")


if __name__ == "__main__":
    main()
