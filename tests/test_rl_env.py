"""The Gymnasium environment (simulator/rl/env.py): the checkers on shipped scenarios, records equal to the
simulator's for every static schedule, the reward by hand, reproducible episodes, vector environments."""

from __future__ import annotations

import os
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

from simulator.config.scenario import load_scenario
from simulator.model.records import FIELDS
from simulator.model.replications import with_seed
from simulator.model.runner import build_schedules, resolve_inputs, run_scenario
from simulator.plans.plan import PlanContext
from simulator.rl import ENV_ID
from simulator.rl.env import OffloadEnv, Reward

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
DEFAULT = SCENARIOS / "default.yaml"


@pytest.mark.parametrize("name", ["default", "cell-contention", "paper-fig6-5g"])
def test_checkers_pass_on_shipped_scenarios(name: str) -> None:
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = OffloadEnv(SCENARIOS / f"{name}.yaml", n_requests=6)
    check_env(env, skip_render_check=True)
    sb3_check_env(OffloadEnv(SCENARIOS / f"{name}.yaml", n_requests=6), warn=True)
    made = gym.make(ENV_ID, scenario=SCENARIOS / f"{name}.yaml", n_requests=3)
    obs, _ = made.reset(seed=0)
    assert made.observation_space.contains(obs)


def _static_labels() -> list[str]:
    scenario = load_scenario(DEFAULT)
    schedules = build_schedules(scenario, resolve_inputs(scenario), [])
    return [s.label for s in schedules if s.static]


@pytest.mark.parametrize("label", _static_labels())
def test_always_the_static_plan_gives_the_simulator_s_records(label: str) -> None:
    env = OffloadEnv(DEFAULT, duration_s=40.0)
    scenario = env.scenario
    inputs = resolve_inputs(scenario)
    schedule = next(s for s in build_schedules(scenario, inputs, []) if s.label == label)
    action = env.actions.index(schedule.plan(PlanContext(0.0, 0, 1.0)))
    _, info = env.reset(seed=3)
    done = False
    while not done:
        _, _, done, _, _ = env.step(action)
    alone = scenario.model_copy(update={
        "schedules": [c for c, s in zip(scenario.schedules, build_schedules(scenario, inputs, []), strict=True)
                      if s.label == label],
        "network": scenario.network.model_copy(update={"start_offset_s": info["offset_s"]})})
    expected = run_scenario(with_seed(alone, info["seed"])).records
    got = env.records()
    assert len(got) == len(expected) > 30
    for column in FIELDS:
        pd.testing.assert_series_equal(got[column], expected[column], check_names=False, check_exact=True,
                                       obj=column)


def test_reward_by_hand_on_two_requests() -> None:
    # Mobile-only on the Pi takes 2.057787 s > the 1 s frame period: the second frame is dropped (on_busy: drop)
    # when it plans, during step 2; the first finishes at 2.06 s, after the last decision, also in step 2.
    weights = Reward(accuracy=2.0, latency=0.5, miss=3.0, energy=0.25, drop=7.0)
    env = OffloadEnv(DEFAULT, n_requests=2, reward=weights, actions=["mobile-only", "cloud-only"])
    scenario = env.scenario
    inputs = resolve_inputs(scenario)
    mobile_s = inputs.plan_cost(env.actions.plans[0]).mobile_s
    assert mobile_s == pytest.approx(2.057787, abs=1e-6)
    compute_w = inputs.mobile.power.watts("compute")
    _, info = env.reset(seed=0)
    assert info["request_id"] == 0
    obs, reward, done, _, info = env.step(0)
    assert (reward, done, info["finished"], info["request_id"]) == (0.0, False, [], 1)
    assert obs[8] == pytest.approx(1 / 4)  # the first request holds the CPU: queue 1 of scale 4
    assert obs[-1] == pytest.approx(1.0)  # one second since the first arrival
    _, reward, done, _, info = env.step(0)
    first = 2.0 * 91.2 / 100 - 0.5 * mobile_s - 3.0 * (mobile_s * 1e3 > 700) - 0.25 * compute_w * mobile_s
    assert done and info["finished"] == [1, 0]
    assert reward == pytest.approx(first - 7.0, rel=1e-9)


def test_same_seed_same_episode_and_traces_drawn() -> None:
    traces = [SCENARIOS.parent / "traces" / "synthetic" / "lte-all.csv", "lte-all"]
    runs = []
    for seed in (5, 5, 6):
        env = OffloadEnv(DEFAULT, n_requests=12, traces=traces)
        obs, info = env.reset(seed=seed)
        picks = np.random.default_rng(seed)
        steps = [obs]
        done = False
        while not done:
            obs, reward, done, _, _ = env.step(int(picks.integers(len(env.actions))))
            steps.append(np.append(obs, reward))
        runs.append((info, np.concatenate(steps)))
    assert runs[0][0] == runs[1][0] and np.array_equal(runs[0][1], runs[1][1])
    assert runs[0][0]["offset_s"] != runs[2][0]["offset_s"]
    assert not np.array_equal(runs[0][1], runs[2][1])


@pytest.mark.parametrize("vector", [gym.vector.SyncVectorEnv, gym.vector.AsyncVectorEnv])
def test_vector_environments_run(vector: type) -> None:
    envs = vector([lambda: OffloadEnv(DEFAULT, n_requests=4)] * 2)
    try:
        obs, _ = envs.reset(seed=[1, 2])
        assert obs.shape == (2, envs.single_observation_space.shape[0])
        finished = 0
        for _ in range(6):  # past the first episode's end: autoreset starts the next
            obs, reward, terminated, _, _ = envs.step(envs.action_space.sample())
            finished += int(terminated.sum())
            assert np.isfinite(reward).all() and obs.dtype == np.float32
        assert finished == 2
    finally:
        envs.close()
