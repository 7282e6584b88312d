"""Wall time and peak memory at scale: 1 M requests on one device (DES and fast path), and a shared cell.

Each measurement runs in a fresh child process (``--child``), so its peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is its own; "simulate" is ``run_scenario`` (loading the
scenario's files included), by wall clock and by the child's CPU time (steadier on a shared host).
Workloads, all from ``scenarios/default.yaml``
(Raspberry Pi 4B + RTX 4090, Mercury split after block 3 at 89.9 % top-1, the synthetic LTE trace replayed):

* ``one-device``: one device, periodic 1 fps, ``--requests`` requests (default 1 M), one schedule (Mercury);
  ``--engine des`` or ``fast``; the run's outputs and report.html are written unless ``--no-report``.
* ``cell``: ``--devices`` devices (default 20) in one shared cell for ``--duration`` s (default 3600),
  cloud-only 2.2 MB images at 1 fps each with queueing: the cell is overloaded, so thousands of uploads
  share it at once.
* ``per-device``: the same devices and requests on per-device links (the contention-free reference).

The configurations are interleaved across ``--reps`` repetitions; medians and ranges are printed.

    PYTHONPATH=. python benchmarks/scale.py --reps 3
    PYTHONPATH=. python benchmarks/scale.py --only cell --duration 1800 --reps 1
    PYTHONPATH=. python benchmarks/scale.py --requests 10000,100000,1000000 --devices 5,10,20 --no-report
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

from simulator.config.scenario import Scenario

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
    else:
        data["network"]["sharing"] = "shared-cell" if workload == "cell" else "per-device"
        data["workload"] = {"arrival": "periodic", "fps": 1, "duration_s": args.duration, "seed": 1,
                            "devices": args.devices, "on_busy": "queue"}
        data["schedules"] = [{"kind": "cloud-only", "image_bytes": 2_200_000}]
    if "engine" in Scenario.model_fields:  # absent before the fast path existed (for before/after numbers)
        data["engine"] = args.engine if workload == "one-device" else "des"
    return data


def child(workload: str, args: argparse.Namespace) -> None:
    """Run one measurement in this process and print it as JSON."""
    from simulator.config.scenario import scenario_from_dict
    from simulator.model.runner import run_scenario
    from simulator.results.outputs import write_run

    start, start_cpu = time.perf_counter(), time.process_time()
    scenario = scenario_from_dict(scenario_data(workload, args), DEFAULT)
    result = run_scenario(scenario)
    simulated, simulated_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    written = 0.0
    if workload == "one-device" and not args.no_report:
        with tempfile.TemporaryDirectory() as folder:
            begin = time.perf_counter()
            write_run(result, Path(folder) / "out", report=True)
            written = time.perf_counter() - begin
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engines = ",".join(sorted(set(getattr(result, "engines", {"": "des"}).values())))
    print(json.dumps({"requests": len(result.records), "simulate_s": simulated, "simulate_cpu_s": simulated_cpu,
                      "write_s": written,
                      "peak_mib": peak_mib, "engine": engines}))


def measure(workload: str, engine: str, size: int, args: argparse.Namespace) -> dict[str, Any]:
    """One configuration in a fresh child process; ``size`` is requests (one-device) or devices (cells)."""
    requests, devices = (size, 1) if workload == "one-device" else (1, size)
    command = [sys.executable, __file__, "--child", workload, "--engine", engine, "--requests", str(requests),
               "--devices", str(devices), "--duration", str(args.duration)]
    if args.no_report:
        command.append("--no-report")
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def sizes(text: str) -> list[int]:
    return [int(float(part)) for part in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--requests", default="1000000", help="Requests of one-device runs (comma list: growth)")
    parser.add_argument("--devices", default="20", help="Devices of the cell runs (comma list: growth)")
    parser.add_argument("--duration", type=float, default=3600.0)
    parser.add_argument("--engine", default="des", help=argparse.SUPPRESS)
    parser.add_argument("--no-report", action="store_true", help="Skip writing outputs and report.html")
    parser.add_argument("--only", choices=["one-device", "cell", "per-device"], action="append")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.requests, args.devices = int(args.requests), int(args.devices)
        child(args.child, args)
        return
    configs = [(w, e, n) for w, e in [("one-device", "des"), ("one-device", "fast"), ("cell", "des"),
                                      ("per-device", "des")]
               for n in (sizes(args.requests) if w == "one-device" else sizes(args.devices))]
    configs = [c for c in configs if not args.only or c[0] in args.only]
    results: dict[tuple[str, str, int], list[dict[str, Any]]] = {c: [] for c in configs}
    for _ in range(args.reps):
        for config in configs:
            results[config].append(measure(*config, args))
    print(f"{args.reps} interleaved reps; medians (ranges)")
    print("| workload | devices | engine | requests | simulate s (wall) | simulate s (CPU) | outputs + report s "
          "| peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for (workload, _, size), runs in results.items():
        def cell(key: str, runs: list[dict[str, Any]] = runs) -> str:
            values = [r[key] for r in runs]
            return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"
        devices = 1 if workload == "one-device" else size
        print(f"| {workload} | {devices} | {runs[0]['engine']} | {runs[0]['requests']:,} | {cell('simulate_s')} | "
              f"{cell('simulate_cpu_s')} | {cell('write_s')} | {cell('peak_mib')} |")


if __name__ == "__main__":
    main()
