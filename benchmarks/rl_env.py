"""Steps per second of ``mercury-sim/Offload-v0`` with a random agent, single and vectorised, next to the DES's
request rate on the same scenario (one schedule, ``engine: des``).

Rounds interleave the configurations (the host is noisy); each prints the median over rounds and the spread
(min-max). A step is one request of the agent device; resets are counted inside the timing.

    PYTHONPATH=. python benchmarks/rl_env.py --scenario scenarios/default.yaml --rounds 5 --steps 20000
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np

from simulator.config.scenario import load_scenario
from simulator.model.engine import simulate
from simulator.model.runner import build_schedules, mean_bandwidth, plan_pricing, resolve_inputs, scenario_setup
from simulator.rl import ENV_ID
from simulator.rl.env import OffloadEnv


def single(scenario: Path, steps: int, *, wrapped: bool) -> float:
    """Steps/s of one environment (``wrapped``: through ``gymnasium.make`` and its checking wrappers)."""
    env = gym.make(ENV_ID, scenario=scenario) if wrapped else OffloadEnv(scenario)
    rng = np.random.default_rng(0)
    n_actions = int(env.action_space.n)  # type: ignore[attr-defined]
    env.reset(seed=0)
    start, episode = time.perf_counter(), 0
    for _ in range(steps):
        _, _, done, truncated, _ = env.step(int(rng.integers(n_actions)))
        if done or truncated:
            episode += 1
            env.reset(seed=episode)
    return steps / (time.perf_counter() - start)


def vector(scenario: Path, steps: int, *, envs: int, asynchronous: bool) -> float:
    """Steps/s (agent decisions, all environments together) of a vector environment with autoreset."""
    kind = gym.vector.AsyncVectorEnv if asynchronous else gym.vector.SyncVectorEnv
    vec = kind([lambda: OffloadEnv(scenario)] * envs)
    try:
        vec.reset(seed=list(range(envs)))
        start = time.perf_counter()
        for _ in range(steps // envs):
            vec.step(vec.action_space.sample())
        return steps // envs * envs / (time.perf_counter() - start)
    finally:
        vec.close()


def des_rate(scenario_path: Path, requests: int, index: int) -> float:
    """Requests/s of the DES running the scenario's schedule ``index`` for about ``requests`` requests."""
    scenario = load_scenario(scenario_path)
    inputs = resolve_inputs(scenario)
    schedule = build_schedules(scenario, inputs, [])[index]
    cost, _, _, _ = plan_pricing(scenario, inputs, scenario.workload.seeds[0])
    setup = scenario_setup(scenario, inputs)
    per_device = max(1, requests // setup.devices)
    setup = dataclasses.replace(setup, n_requests=per_device, duration_s=None)
    start = time.perf_counter()
    records = simulate(setup, schedule, cost, mean_mbps=mean_bandwidth(scenario, inputs))
    return records.size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=Path("scenarios/default.yaml"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--envs", type=int, default=4)
    parser.add_argument("--schedule", type=int, default=-1, help="the schedule the DES runs (index; last: -1)")
    parser.add_argument("--no-async", action="store_true", help="leave out AsyncVectorEnv (it spawns processes)")
    args = parser.parse_args()
    runs: dict[str, Callable[[], float]] = {
        "single (OffloadEnv)": lambda: single(args.scenario, args.steps, wrapped=False),
        "single (gymnasium.make)": lambda: single(args.scenario, args.steps, wrapped=True),
        f"SyncVectorEnv x{args.envs}": lambda: vector(args.scenario, args.steps, envs=args.envs, asynchronous=False),
        f"DES requests/s (schedule {args.schedule})": lambda: des_rate(args.scenario, args.steps, args.schedule),
    }
    if not args.no_async:
        runs[f"AsyncVectorEnv x{args.envs}"] = lambda: vector(args.scenario, args.steps, envs=args.envs,
                                                               asynchronous=True)
    found: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, run in runs.items():
            found[name].append(run())
    print(f"{args.scenario} ({args.rounds} rounds of {args.steps} steps)")
    for name, values in found.items():
        print(f"  {name:34s} median {statistics.median(values):9.0f} /s   spread {min(values):.0f}-{max(values):.0f}")


if __name__ == "__main__":
    main()
