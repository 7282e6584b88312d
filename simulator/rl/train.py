"""Train a PPO policy (stable-baselines3) on ``mercury-sim/Offload-v0`` and write it as a policy file.

The environment is built from a scenario whose ``kind: policy`` entries are left out (the policy being trained
does not exist yet), over the training traces only; episodes start at a uniform offset in a random one of
them. What comes out: the SB3 model (``MODEL.zip``), the contract beside it (``MODEL.contract.json``: the
observation spec, the action set, the provenance) and, converted from both by
:func:`simulator.rl.export.write_from_zip`, the policy file (``OUT.json`` + ``OUT.safetensors``). Training is
single-threaded on the CPU and seeded, so one machine and one library version repeat a run.
"""

from __future__ import annotations

import inspect
import json
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulator.config.scenario import Scenario, load_scenario
from simulator.errors import InputError
from simulator.files.atomic import atomic_write_text
from simulator.rl.env import OffloadEnv, Reward
from simulator.rl.export import contract_path, write_from_zip
from simulator.schedules.observation import ActionSet, ObservationSpec


@dataclass(frozen=True)
class Training:
    """What a training run does; recorded whole in the policy's provenance."""

    steps: int
    seed: int = 0
    n_requests: int = 200  # per episode
    max_minutes: float | None = None  # stop at the first rollout past this wall time
    n_steps: int = 2048  # environment steps per PPO update
    batch_size: int = 256
    n_epochs: int = 5
    learning_rate: float = 3e-4
    gamma: float = 0.9  # a request's reward arrives a step or two after its decision; little beyond that
    ent_coef: float = 0.01
    net_arch: tuple[int, ...] = (64, 64)
    reward: Reward = field(default_factory=Reward)
    observation: ObservationSpec = field(default_factory=ObservationSpec)


def training_scenario(path: Path) -> Scenario:
    """The scenario without its ``kind: policy`` entries (one schedule is kept for the devices beyond device 0)."""
    scenario = load_scenario(path)
    kept = [entry for entry in scenario.schedules if entry.kind != "policy"]
    return scenario.model_copy(update={"schedules": kept[:1]})


def _versions() -> dict[str, str]:
    import gymnasium
    import stable_baselines3
    import torch

    from simulator.version import __version__

    return {"mercury-sim": __version__, "stable-baselines3": stable_baselines3.__version__,
            "torch": torch.__version__, "gymnasium": gymnasium.__version__, "python": platform.python_version()}


def train(scenario: Path, traces: Sequence[str], out: Path, config: Training, *,
          held_out: Sequence[str] = (), command: Sequence[str] | None = None, log: Any = None) -> Path:
    """Train, then write the model, its contract and the policy file ``out``; returns ``out``."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback

    torch.set_num_threads(1)
    base = training_scenario(scenario)
    if base.target_accuracy is None:
        raise InputError(scenario, "the training scenario needs target_accuracy (the candidates' accuracy floor)",
                         "target_accuracy")
    env = OffloadEnv(base, n_requests=config.n_requests, traces=list(traces), observation=config.observation,
                     reward=config.reward, accuracy_floor=base.target_accuracy)
    model = PPO("MlpPolicy", env, seed=config.seed, device="cpu", n_steps=config.n_steps,
                batch_size=config.batch_size, n_epochs=config.n_epochs, learning_rate=config.learning_rate,
                gamma=config.gamma, ent_coef=config.ent_coef, verbose=0,
                policy_kwargs={"net_arch": {"pi": list(config.net_arch), "vf": list(config.net_arch)}})
    started = time.monotonic()

    episodes = [0]

    class Clock(BaseCallback):
        """Counts episodes, logs the mean return of the last 100 per rollout, and stops past ``max_minutes``
        (the rollout under way is then dropped: every update is on a whole rollout)."""

        def _on_step(self) -> bool:
            episodes[0] += sum("episode" in info for info in self.locals["infos"])
            late = config.max_minutes is not None and time.monotonic() - started > 60 * config.max_minutes
            return not late

        def _on_rollout_end(self) -> None:
            returns = [e["r"] for e in self.model.ep_info_buffer]
            if log is not None and returns:
                print(f"{self.num_timesteps} steps, {time.monotonic() - started:.0f} s, mean return "
                      f"{sum(returns) / len(returns):.2f}", file=log, flush=True)

    model.learn(config.steps, callback=Clock())
    wall_s = time.monotonic() - started
    model_zip = out.with_suffix(".zip")
    model.save(model_zip)
    settings = {k: v for k, v in asdict(config).items() if k not in ("reward", "observation")}
    provenance = {
        "command": " ".join(command if command is not None else sys.argv),
        "algorithm": "PPO (stable-baselines3), MlpPolicy", "seed": config.seed, "steps": int(model.num_timesteps),
        "episodes": episodes[0], "wall_time_s": round(wall_s, 1),
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "scenario": scenario.name,
        "traces": {"training": [Path(t).name for t in traces], "held_out": [Path(t).name for t in held_out]},
        "reward": asdict(config.reward), "settings": settings, "versions": _versions(),
    }
    actions = {**env.actions.as_json(), **drawn_with(base.target_accuracy)}
    contract = {"observation": config.observation.as_json(), "actions": actions, "provenance": provenance}
    atomic_write_text(contract_path(model_zip), json.dumps(contract, indent=1) + "\n")
    write_from_zip(model_zip, out, observation=config.observation.as_json(), observation_size=config.observation.size,
                   actions=actions, provenance=provenance)
    return out


def scenario_contract(scenario: Path, model_zip: Path, command: Sequence[str]) -> dict[str, Any]:
    """The contract of a model trained outside :func:`train` on ``scenario``'s environment with its defaults
    (the default observation spec, the candidates at its target_accuracy); the provenance names the zip."""
    from simulator.files.digest import file_sha256

    base = training_scenario(scenario)
    if base.target_accuracy is None:
        raise InputError(scenario, "the scenario needs target_accuracy (the candidates' accuracy floor)",
                         "target_accuracy")
    env = OffloadEnv(base, accuracy_floor=base.target_accuracy)
    provenance = {"command": " ".join(command), "model": {"file": model_zip.name, "sha256": file_sha256(model_zip)},
                  "scenario": scenario.name, "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "note": "trained outside scripts/train_policy.py: seed, steps and traces unknown"}
    return {"observation": ObservationSpec().as_json(),
            "actions": {**env.actions.as_json(), **drawn_with(base.target_accuracy)}, "provenance": provenance}


def drawn_with(floor: float) -> dict[str, Any]:
    """How the environment draws its candidates (:meth:`ActionSet.from_tables`'s defaults at ``floor``), as the
    policy file records them; the plans' fingerprint catches a default that ever changes."""
    defaults = inspect.signature(ActionSet.from_tables).parameters
    return {"accuracy_floor": float(floor), "methods": list(defaults["methods"].default),
            "image_bytes": int(defaults["image_bytes"].default)}
