"""Wall time and peak memory at scale: 1 M requests on one device (DES and fast path), and a shared cell.

Each measurement runs in a fresh child process (``--child``), so its peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is its own. Workloads, all from ``scenarios/default.yaml``
(Raspberry Pi 4B + RTX 4090, Mercury split after block 3 at 89.9 % top-1, the synthetic LTE trace replayed):

* ``one-device``: one device, periodic 1 fps, ``--requests`` requests (default 1 M), one schedule;
  ``--engine des`` or ``fast``; the run's outputs and report.html are written unless ``--no-report``.
* ``cell``: ``--devices`` devices (default 20) in one shared cell for ``--duration`` s (default 3600),
  cloud-only 2.2 MB images at 1 fps each with queueing: the cell is overloaded, so hundreds of uploads
  share it at once.
* ``per-device``: the same devices and requests on per-device links (the contention-free reference).

The configurations are interleaved across ``--reps`` repetitions; medians and ranges are printed.

    PYTHONPATH=. python benchmarks/scale.py --reps 3
    PYTHONPATH=. python benchmarks/scale.py --only cell --duration 1800 --reps 1
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "scenarios" / "default.yaml"


def scenario_data(workload: str, args: argparse.Namespace) -> dict[str, Any]:
    """The benchmark scenario as a mapping (default.yaml with the workload's changes)."""
    data = yaml.safe_load(DEFAULT.read_text())
    data["name"] = f"bench-{workload}"
    if workload == "one-device":
        data["workload"] = {"arrival": "periodic", "fps": 1, "n_requests": args.requests, "seed": 1,
                            "on_busy": "queue", "deadline_ms": 700}
        data["schedules"] = [{"kind": "mercury", "split_after": 3, "reconstruction": "learned"}]
        if args.engine == "fast":
            data["engine"] = "fast"
    else:
        data["network"]["sharing"] = "shared-cell" if workload == "cell" else "per-device"
        data["workload"] = {"arrival": "periodic", "fps": 1, "duration_s": args.duration, "seed": 1,
                            "devices": args.devices, "on_busy": "queue"}
        data["schedules"] = [{"kind": "cloud-only", "image_bytes": 2_200_000}]
    return data


def child(workload: str, args: argparse.Namespace) -> None:
    """Run one measurement in this process and print it as JSON."""
    from simulator.outputs import write_run
    from simulator.runner import run_scenario
    from simulator.scenario import scenario_from_dict

    start = time.perf_counter()
    scenario = scenario_from_dict(scenario_data(workload, args), DEFAULT)
    result = run_scenario(scenario)
    simulated = time.perf_counter() - start
    written = 0.0
    if workload == "one-device" and not args.no_report:
        with tempfile.TemporaryDirectory() as folder:
            begin = time.perf_counter()
            write_run(result, Path(folder) / "out", report=True)
            written = time.perf_counter() - begin
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"requests": len(result.records), "simulate_s": simulated, "write_s": written,
                      "peak_mib": peak_mib, "engine": result.engines[0] if hasattr(result, "engines") else "des"}))


def measure(workload: str, engine: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", workload, "--engine", engine, "--requests", str(args.requests),
               "--devices", str(args.devices), "--duration", str(args.duration)]
    if args.no_report:
        command.append("--no-report")
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--duration", type=float, default=3600.0)
    parser.add_argument("--engine", default="des", help=argparse.SUPPRESS)
    parser.add_argument("--no-report", action="store_true", help="Skip writing outputs and report.html")
    parser.add_argument("--only", choices=["one-device", "cell", "per-device"], action="append")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args)
        return
    configs = [("one-device", "des"), ("one-device", "fast"), ("cell", "des"), ("per-device", "des")]
    configs = [c for c in configs if not args.only or c[0] in args.only]
    results: dict[tuple[str, str], list[dict[str, Any]]] = {c: [] for c in configs}
    for _ in range(args.reps):
        for workload, engine in configs:
            results[(workload, engine)].append(measure(workload, engine, args))
    print(f"{args.reps} interleaved reps; medians (ranges)")
    print("| workload | engine | requests | simulate s | outputs + report s | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    for (workload, engine), runs in results.items():
        def cell(key: str, runs: list[dict[str, Any]] = runs) -> str:
            values = [r[key] for r in runs]
            return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"
        print(f"| {workload} | {runs[0]['engine']} | {runs[0]['requests']:,} | {cell('simulate_s')} | "
              f"{cell('write_s')} | {cell('peak_mib')} |")


if __name__ == "__main__":
    main()
