"""Requests per second of mercury-sim's DES against a bare SimPy model with the same events, in one process.

The workload is one device replaying the synthetic LTE trace at 1 fps with Mercury split after block 3
(``scenarios/default.yaml``), ``--requests`` requests, queueing. The bare model is the ceiling: the same
SimPy events per request (an arrival timeout, a request process, the CPU resource and its timeout, the
link resource and a timeout of the trace's exact transfer time, RTT/2, a put into the cloud queue taken
by a GPU process, the GPU's timeout and done event, the return) and nothing else: no plans, no records.
The two are interleaved over ``--reps`` repetitions; medians and ranges are printed with their ratio, by
wall clock and by this process's CPU time (the steadier one on a host shared with other work).

    PYTHONPATH=. python benchmarks/des_throughput.py --requests 100000 --reps 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import simpy
import yaml

from simulator.config.scenario import Scenario, scenario_from_dict
from simulator.model.engine import EngineSetup, arrival_times
from simulator.model.runner import engine_setup, resolve_inputs, run_scenario

DEFAULT = Path(__file__).resolve().parents[1] / "scenarios" / "default.yaml"


def benchmark_scenario(requests: int) -> Scenario:
    data = yaml.safe_load(DEFAULT.read_text())
    data["workload"] = {"arrival": "periodic", "fps": 1, "n_requests": requests, "seed": 1, "on_busy": "queue"}
    data["schedules"] = [{"kind": "mercury", "split_after": 3, "reconstruction": "learned"}]
    if "engine" in Scenario.model_fields:  # absent before the fast path existed (for before/after numbers)
        data["engine"] = "des"
    return scenario_from_dict(data, DEFAULT)


def benchmark_workload(requests: int) -> tuple[Scenario, EngineSetup, tuple[float, float, int]]:
    """The scenario, its engine setup and its one static plan's (mobile s, cloud s, upload bytes)."""
    scenario = benchmark_scenario(requests)
    setup = engine_setup(scenario, resolve_inputs(scenario))
    probe = run_scenario(benchmark_scenario(10)).records.iloc[0]
    return scenario, setup, (probe.mobile_ms / 1e3, probe.cloud_ms / 1e3, int(probe.uplink_bytes))


def gpu_server(env: simpy.Environment, queue: simpy.Store) -> Generator[Any, Any, None]:
    """One GPU taking (compute s, done event) jobs from ``queue`` one at a time."""
    while True:
        job, done = yield queue.get()
        yield env.timeout(job)
        done.succeed()


def open_loop(env: simpy.Environment, setup: EngineSetup,
              request: Callable[[], Generator[Any, Any, None]]) -> Generator[Any, Any, None]:
    """Device 0's arrivals, each starting a ``request`` process."""
    for t in arrival_times(setup, 0).tolist():
        if t > env.now:
            yield env.timeout(t - env.now)
        env.process(request())


def bare_simpy(setup: EngineSetup, mobile_s: float, cloud_s: float, upload_bytes: int,
               env: simpy.Environment | None = None, finished_at: list[float] | None = None) -> int:
    """The same events as the DES for one device and one static plan, without the simulator around them
    (``finished_at``, when given, collects each request's completion time)."""
    env = env or simpy.Environment()
    cpu, link, queue = simpy.Resource(env, 1), simpy.Resource(env, 1), simpy.Store(env)
    trace, offset, half_rtt = setup.trace, setup.start_offsets_s[0], setup.rtt_s / 2
    finished = 0

    def request() -> Generator[Any, Any, None]:
        nonlocal finished
        with cpu.request() as slot:
            yield slot
            yield env.timeout(mobile_s)
        with link.request() as slot:
            yield slot
            end = trace.transfer_end(env.now + offset, upload_bytes) - offset
            yield env.timeout(max(end - env.now, 0.0))
        if half_rtt:
            yield env.timeout(half_rtt)
        done = env.event()
        yield queue.put((cloud_s, done))
        yield done
        if half_rtt:
            yield env.timeout(half_rtt)
        finished += 1
        if finished_at is not None:
            finished_at.append(env.now)

    env.process(gpu_server(env, queue))
    env.process(open_loop(env, setup, request))
    env.run()
    return finished


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    scenario, setup, (mobile_s, cloud_s, upload) = benchmark_workload(args.requests)
    runs = {"mercury-sim DES": lambda: len(run_scenario(scenario).records),
            "bare SimPy": lambda: bare_simpy(setup, mobile_s, cloud_s, upload)}
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.reps):
        for name, go in runs.items():
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            done = go()
            wall[name].append(done / (time.perf_counter() - start_wall))
            cpu[name].append(done / (time.process_time() - start_cpu))
    print(f"{args.requests:,} requests, {args.reps} interleaved reps (requests/s, median and range)")
    for clock, rates in (("wall", wall), ("CPU", cpu)):
        for name, values in rates.items():
            print(f"{name} ({clock}): {statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})")
        ratios = [a / b for a, b in zip(rates["mercury-sim DES"], rates["bare SimPy"], strict=True)]
        print(f"ratio ({clock}): {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main()
