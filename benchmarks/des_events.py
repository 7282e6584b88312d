"""Could the DES use fewer SimPy events per request and still give the same results bit for bit?

On the ``des_throughput.py`` workload (one device, the LTE trace at 1 fps, Mercury split after block 3,
queueing) this counts the SimPy events per request of the DES and of three bare SimPy models, times the
models interleaved by this process's CPU time, and checks that every model's completion times equal the
first model's bit for bit:

* ``as the DES``: ``des_throughput.bare_simpy``, the DES's events and nothing around them;
* ``FIFO stages computed``: the device's CPU and its dedicated link as FIFO servers whose start is computed
  (``max(now, free_at)``) instead of a SimPy Resource request and release; the request still wakes at the
  end of each stage, at the same absolute time the Resource version reaches;
* ``cloud computed too``: the one GPU (batch 1) the same way: no Store put and get, no done event.

A wake-up at an absolute time needs an event pushed on SimPy's queue at that time (private API):
SimPy's public API schedules after a delay, and ``now + (t - now)`` is not always ``t`` in floating point.

    PYTHONPATH=. python benchmarks/des_events.py --requests 100000 --reps 3
"""

from __future__ import annotations

import argparse
import heapq
import statistics
import sys
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import simpy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from des_throughput import bare_simpy, benchmark_workload, gpu_server, open_loop  # noqa: E402

from simulator.model.engine import EngineSetup  # noqa: E402
from simulator.model.runner import run_scenario  # noqa: E402

# (setup, mobile_s, cloud_s, upload bytes, environment, completion times) -> requests finished
Model = Callable[[EngineSetup, float, float, int, simpy.Environment, list[float]], int]


def wake_at(env: simpy.Environment, t: float) -> simpy.Event:
    """An event that fires at absolute time ``t`` (SimPy's queue entry: time, priority, id, event)."""
    event = env.event()
    event._ok, event._value = True, None  # triggered, as a Timeout is
    heapq.heappush(env._queue, (t, simpy.events.NORMAL, next(env._eid), event))
    return event


def computed_stages(cloud_computed: bool) -> Model:
    """The bare model with the CPU and the link (and, if ``cloud_computed``, the GPU) as computed FIFOs."""
    def model(setup: EngineSetup, mobile_s: float, cloud_s: float, upload: int, env: simpy.Environment,
              finished_at: list[float]) -> int:
        trace, offset = setup.trace, setup.start_offsets_s[0]
        free = {"cpu": 0.0, "link": 0.0, "gpu": 0.0}
        queue = simpy.Store(env)

        def request() -> Generator[Any, Any, None]:
            start = max(env.now, free["cpu"])
            free["cpu"] = start + mobile_s  # what timeout(mobile_s) at the start reaches
            yield wake_at(env, free["cpu"])
            start = max(env.now, free["link"])
            end = trace.transfer_end(start + offset, upload) - offset
            free["link"] = start + max(end - start, 0.0)
            yield wake_at(env, free["link"])
            if cloud_computed:
                start = max(env.now, free["gpu"])
                free["gpu"] = start + cloud_s
                yield wake_at(env, free["gpu"])
            else:
                done = env.event()
                yield queue.put((cloud_s, done))
                yield done
            finished_at.append(env.now)

        if not cloud_computed:
            env.process(gpu_server(env, queue))
        env.process(open_loop(env, setup, request))
        env.run()
        return len(finished_at)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    scenario, setup, plan = benchmark_workload(args.requests)
    if setup.return_s or setup.rtt_s:
        raise SystemExit("the models assume no RTT and no result return, as the benchmark scenario has")

    start = simpy.Environment.__init__  # every scheduled event takes the next id: the id counter counts them
    created: list[simpy.Environment] = []

    def record(env: simpy.Environment, *a: Any, **k: Any) -> None:
        start(env, *a, **k)
        created.append(env)
    simpy.Environment.__init__ = record  # type: ignore[method-assign]
    try:
        run_scenario(scenario)
    finally:
        simpy.Environment.__init__ = start  # type: ignore[method-assign]
    des_events = sum(next(env._eid) for env in created) / args.requests
    models: dict[str, Model] = {"as the DES": bare_simpy, "FIFO stages computed": computed_stages(False),
                                "cloud computed too": computed_stages(True)}
    cpu: dict[str, list[float]] = {name: [] for name in models}
    events: dict[str, float] = {}
    reference: list[float] | None = None
    for _ in range(args.reps):
        for name, model in models.items():
            env, ends = simpy.Environment(), []
            began = time.process_time()
            done = model(setup, *plan, env, ends)
            cpu[name].append(time.process_time() - began)
            events[name] = next(env._eid) / done
            reference = reference if reference is not None else ends
            if ends != reference:
                raise SystemExit(f"{name}: completion times differ from the first model's")
    print(f"{args.requests:,} requests, {args.reps} interleaved reps; completion times equal bit for bit: yes")
    print(f"mercury-sim DES: {des_events:.2f} events per request")
    print("| model | events per request | CPU s per 1 M requests: median (range) |")
    print("|---|---|---|")
    for name, seconds in cpu.items():
        scaled = [s * 1e6 / args.requests for s in seconds]
        print(f"| {name} | {events[name]:.2f} | {statistics.median(scaled):.1f} "
              f"({min(scaled):.1f}-{max(scaled):.1f}) |")


if __name__ == "__main__":
    main()
