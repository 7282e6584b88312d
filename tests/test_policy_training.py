"""Training and export (simulator/rl/train.py, simulator/rl/export.py, ``mercury-sim policy export``): a 200-step
PPO run writes a policy file whose numpy network picks what the stable-baselines3 model picks; the export reads
a model zip without unpickling it; the shipped policy loads and runs on its scenario."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import REPO
from conftest import run_cli as cli

pytest.importorskip("stable_baselines3")

from simulator.errors import InputError  # noqa: E402
from simulator.rl.export import actor_layers  # noqa: E402
from simulator.rl.train import Training, train  # noqa: E402
from simulator.schedules.policy_file import read_policy  # noqa: E402

TRAINING = [str(REPO / "traces" / "synthetic" / f"{name}.csv") for name in ("5g-static", "lte-walking")]


def lab_scenario(tmp: Path, policy: str | None = None, seeds: list[int] | None = None) -> Path:
    """The shipped learned-policy scenario, 20 s long, its policy entry naming ``policy``."""
    doc = yaml.safe_load((REPO / "scenarios" / "learned-policy.yaml").read_text())
    doc["network"]["trace"] = str(REPO / "traces" / "synthetic" / "5g-driving.csv")
    doc["workload"].update(duration_s=20, seed=seeds or [1])
    doc["schedules"][0]["file"] = policy or str(REPO / "policies" / "ppo-offload.json")
    path = tmp / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 200-step PPO policy (not a good one: the pipeline is what is tested)."""
    tmp = tmp_path_factory.mktemp("trained")
    config = Training(steps=200, seed=1, n_requests=20, n_steps=64, batch_size=32, n_epochs=1)
    return train(lab_scenario(tmp), TRAINING, tmp / "p.json", config, held_out=["5g-driving.csv"],
                 command=["test"])


def test_a_smoke_training_writes_a_policy_that_acts_as_the_model(trained: Path) -> None:
    from stable_baselines3 import PPO

    from simulator.rl.env import OffloadEnv
    from simulator.rl.train import training_scenario

    policy = read_policy(trained)
    assert policy.provenance["steps"] == 256  # whole rollouts of 64: 200 steps take four
    assert policy.provenance["traces"] == {"training": ["5g-static.csv", "lte-walking.csv"],
                                           "held_out": ["5g-driving.csv"]}
    assert policy.provenance["seed"] == 1 and policy.provenance["command"] == "test"
    model = PPO.load(trained.with_suffix(".zip"), device="cpu")
    env = OffloadEnv(training_scenario(trained.parent / "scenario.yaml"), n_requests=30, traces=TRAINING)
    observations = []
    obs, _ = env.reset(seed=5)
    for _ in range(30):
        observations.append(obs)
        obs, _, done, _, _ = env.step(env.action_space.sample())
        if done:
            break
    random = np.random.default_rng(0).uniform(0, 3, (200, policy.observation_size)).astype(np.float32)
    batch = np.concatenate([np.array(observations), random])
    expected, _ = model.predict(batch, deterministic=True)
    assert [policy.act(o) for o in batch] == expected.tolist()
    assert len(set(expected.tolist())) > 1  # the comparison sees more than one action


def test_the_trained_policy_runs_in_run(trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code, err = cli(["run", str(lab_scenario(tmp_path, str(trained))), "-o", str(out), "-q", "--no-report"], capsys)
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["schedules"]["learned-ppo"]["requests"] == 20


def test_export_command_gives_the_training_s_file(trained: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "again.json"
    code, err = cli(["policy", "export", str(trained.with_suffix(".zip")), str(out)], capsys)
    assert code == 0, err
    mine, theirs = json.loads(out.read_text()), json.loads(trained.read_text())
    weights = mine.pop("weights")["sha256"]
    assert weights == theirs.pop("weights")["sha256"]
    assert mine == theirs
    # a second export replaces its own output; a file it did not write is kept
    assert cli(["policy", "export", str(trained.with_suffix(".zip")), str(out)], capsys)[0] == 0
    foreign = tmp_path / "notes.json"
    foreign.write_text("{}")
    code, err = cli(["policy", "export", str(trained.with_suffix(".zip")), str(foreign)], capsys)
    assert code == 2 and "was not written by mercury-sim" in err and foreign.read_text() == "{}"
    # without a contract, from the scenario it was trained on: the same network, actions and observation
    other = tmp_path / "from-scenario.json"
    code, err = cli(["policy", "export", str(trained.with_suffix(".zip")), str(other), "--scenario",
                     str(trained.parent / "scenario.yaml")], capsys)
    assert code == 0, err
    derived = json.loads(other.read_text())
    assert derived["weights"]["sha256"] == weights
    for key in ("network", "observation", "actions"):
        assert derived[key] == theirs[key]
    assert derived["provenance"]["model"]["file"] == "p.zip"


def test_export_refuses_what_is_no_ppo_zip_without_unpickling(tmp_path: Path, trained: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "marker"

    class Marker:
        def __reduce__(self) -> tuple:
            return (open, (str(marker), "w"))

    data = zipfile.ZipFile(trained.with_suffix(".zip")).read("data")
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("data", data)
        archive.writestr("policy.pth", pickle.dumps(Marker()))
    with pytest.raises(InputError, match="policy.pth holds more than tensors"):
        actor_layers(evil, 14, 26)
    assert not marker.exists()
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    with pytest.raises(InputError, match="no 'data' in the archive"):
        actor_layers(empty, 14, 26)
    with pytest.raises(InputError, match=r"the environment's Discrete\(5\)"):
        actor_layers(trained.with_suffix(".zip"), 14, 5)
    with pytest.raises(InputError, match=r"observation shape is \[14\], the environment's \[9\]"):
        actor_layers(trained.with_suffix(".zip"), 9, 26)
    code, err = cli(["policy", "export", str(trained.with_suffix(".zip")), str(tmp_path / "x.json"),
                     "--contract", str(tmp_path / "none.json")], capsys)
    assert code == 2 and "cannot read the contract" in err and err.count("\n") == 1, err


def test_export_without_the_extra_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from simulator.cli import extras

    monkeypatch.setattr(extras, "_installed", lambda module: module != "stable_baselines3")
    code, err = cli(["policy", "export", "m.zip", str(tmp_path / "o.json")], capsys)
    assert code == 2 and err == 'error: mercury-sim policy export needs stable-baselines3, Gymnasium and PyTorch: ' \
                                'pip install "mercury-sim[train]"\n'


def test_the_shipped_policy_runs_on_its_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = read_policy(REPO / "policies" / "ppo-offload.json")
    assert policy.provenance["traces"]["held_out"] == ["5g-driving.csv", "lte-driving.csv"]
    assert not set(policy.provenance["traces"]["training"]) & set(policy.provenance["traces"]["held_out"])
    out = tmp_path / "out"
    code, err = cli(["run", str(lab_scenario(tmp_path, seeds=[1, 2])), "-o", str(out), "-q", "--no-report"], capsys)
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())["schedules"]
    assert summary["learned-ppo"]["requests"] == 40 and summary["learned-ppo"]["mean_ms"] > 0


@pytest.mark.slow
def test_a_longer_training_beats_chance(tmp_path: Path) -> None:
    """50k steps: on held-out episodes the policy earns more per request than a uniformly random choice."""
    from simulator.rl.env import OffloadEnv
    from simulator.rl.train import training_scenario

    path = train(lab_scenario(tmp_path), TRAINING, tmp_path / "p.json", Training(steps=50_000, seed=0),
                 command=["test"])
    policy = read_policy(path)
    env = OffloadEnv(training_scenario(tmp_path / "scenario.yaml"), n_requests=100,
                     traces=[str(REPO / "traces" / "synthetic" / "5g-driving.csv")])
    rng = np.random.default_rng(0)

    def episode_return(choose: object, seed: int) -> float:
        obs, _ = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            obs, reward, done, _, _ = env.step(choose(obs))  # type: ignore[operator]
            total += reward
        return total

    learned = sum(episode_return(policy.act, s) for s in range(5))
    chance = sum(episode_return(lambda _: int(rng.integers(len(policy.actions))), s) for s in range(5))
    assert learned > chance + 50  # about +0.1 per request over 500 requests
