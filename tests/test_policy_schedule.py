"""``kind: policy`` (simulator/schedules/policy.py): a policy that always answers action k runs exactly the records
of the static schedule k; a file that does not fit the scenario (observation spec, candidates) or is no policy
file at all is one line naming it, exit 2; the file's digest is one of the run's inputs."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO
from conftest import run_cli as cli
from test_emulation import needs_root, small_scenario

from simulator.cli.app import main
from simulator.config.scenario import load_scenario
from simulator.model.runner import resolve_inputs, schedule_inputs
from simulator.schedules.observation import ActionSet, ObservationSpec
from simulator.schedules.policy_file import write_policy

FLOOR = 89.9
TRACE = REPO / "traces" / "synthetic" / "5g-driving.csv"


def scenario(tmp: Path, schedules: list[dict], duration_s: float = 40.0) -> Path:
    """The adaptive-5g-driving setup, shortened (40 requests at 1 fps on the 5G driving trace)."""
    doc = {"name": "policy-lab", "model": "deit_base_distilled_patch16_224", "dataset": "cifar100",
           "mobile_profile": "raspberry-pi-4b", "cloud_profile": "rtx-4090",
           "network": {"trace": str(TRACE), "mode": "trace", "rtt_ms": 20},
           "workload": {"arrival": "periodic", "fps": 1, "duration_s": duration_s, "seed": 3, "deadline_ms": 700,
                        "on_busy": "drop"},
           "target_accuracy": FLOOR, "schedules": schedules}
    path = tmp / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def actions_of(path: Path) -> ActionSet:
    sc = load_scenario(path)
    return ActionSet.from_tables("policy", schedule_inputs(sc, resolve_inputs(sc)), FLOOR)


def always(path: Path, actions: ActionSet, k: int, spec: ObservationSpec | None = None) -> Path:
    """A policy whose logits ignore the observation: action ``k`` always wins."""
    spec = spec or ObservationSpec()
    bias = np.zeros(len(actions))
    bias[k] = 1.0
    write_policy(path, [(np.zeros((len(actions), spec.size)), bias)], activation="tanh",
                 observation=spec.as_json(), provenance={"command": "by hand"},
                 actions={**actions.as_json(), "accuracy_floor": FLOOR, "methods": ["mercury", "otas", "janus",
                                                                                    "mobile-only", "cloud-only"],
                          "image_bytes": 2_200_000})
    return path


STATIC = {  # a candidate key -> the static entry that makes the same plan
    "mercury@3:0.5": {"kind": "mercury", "split_after": 3, "reduction": 0.5},
    "otas@2:9": {"kind": "otas", "split_after": 2, "r": 9},
    "cloud-only": {"kind": "cloud-only"},
    "mobile-only": {"kind": "mobile-only"},
}


@pytest.mark.parametrize("key", list(STATIC))
def test_always_k_is_static_k(tmp_path: Path, key: str, capsys: pytest.CaptureFixture[str]) -> None:
    actions = actions_of(scenario(tmp_path, [{"kind": "mobile-only"}]))
    always(tmp_path / "always.json", actions, actions.keys.index(key))
    path = scenario(tmp_path, [{"kind": "policy", "file": "always.json", "label": "learned"},
                               {**STATIC[key], "label": "static"}])
    out = tmp_path / "out"
    code, err = cli(["run", str(path), "-o", str(out), "-q", "--no-report"], capsys)
    assert code == 0, err
    records = pd.read_parquet(out / "records.parquet")
    learned = records[records.schedule == "learned"].drop(columns="schedule").reset_index(drop=True)
    static = records[records.schedule == "static"].drop(columns="schedule").reset_index(drop=True)
    assert len(learned) == 40
    pd.testing.assert_frame_equal(learned, static, check_exact=True)
    inputs = json.loads((out / "manifest.json").read_text())["inputs"]
    digest = hashlib.sha256((tmp_path / "always.json").read_bytes()).hexdigest()
    assert inputs["schedules[0].file"]["sha256"] == digest


def test_mismatches_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, [{"kind": "policy", "file": "p.json"}])
    actions = actions_of(path)
    policy = tmp_path / "p.json"

    def refused(text: str) -> None:
        code, err = cli(["run", str(path), "-o", str(tmp_path / "out"), "-q", "--no-report"], capsys)
        assert code == 2 and err.count("\n") == 1 and str(policy) in err and text in err, err

    always(policy, actions, 0)
    doc = json.loads(policy.read_text())
    doc["actions"]["keys"][0], doc["actions"]["keys"][1] = doc["actions"]["keys"][1], doc["actions"]["keys"][0]
    policy.write_text(json.dumps(doc))
    refused("same keys but other plans")  # the keys pick the plans in their order; the fingerprint differs
    doc["actions"]["keys"][0] = "mercury@3:0.75"
    policy.write_text(json.dumps(doc))
    refused("unknown action 'mercury@3:0.75'")
    always(policy, actions, 0)
    doc = json.loads(policy.read_text())
    doc["actions"]["fingerprint"] = "0" * 64
    policy.write_text(json.dumps(doc))
    refused("same keys but other plans")
    always(policy, actions, 0, ObservationSpec(bandwidth_k=4))
    doc = json.loads(policy.read_text())
    doc["observation"]["bandwidth_k"] = 8  # the features no longer match the parameters
    policy.write_text(json.dumps(doc))
    refused("features do not match")
    doc["observation"] = ObservationSpec().as_json()  # a true spec of 14 values for a network reading 10
    policy.write_text(json.dumps(doc))
    refused("reads 10 values but its observation spec gives 14")
    always(policy, actions.subset(actions.keys[:3]), 0)
    policy.write_text(policy.read_text().replace("89.9", "95.5"))
    refused("actions do not match")
    doc = json.loads(policy.read_text())
    doc["actions"]["methods"] = ["mercury", "evit"]
    policy.write_text(json.dumps(doc))
    refused("actions.methods: unknown method 'evit'")


def test_a_pickle_named_as_the_policy_is_never_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "marker"

    class Marker:
        def __reduce__(self) -> tuple:
            return (open, (str(marker), "w"))

    (tmp_path / "p.json").write_bytes(pickle.dumps(Marker()))
    path = scenario(tmp_path, [{"kind": "policy", "file": "p.json"}])
    code, err = cli(["run", str(path), "-o", str(tmp_path / "out"), "-q", "--no-report"], capsys)
    assert code == 2 and "is a pickle" in err and str(tmp_path / "p.json") in err, err
    assert not marker.exists()
    path = scenario(tmp_path, [{"kind": "policy", "file": "gone.json"}])
    code, err = cli(["run", str(path), "-o", str(tmp_path / "out"), "-q", "--no-report"], capsys)
    assert code == 2 and "schedules[0]: file: policy file not found: gone.json" in err, err


def test_a_new_policy_file_changes_the_sweep_point_key(tmp_path: Path) -> None:
    from simulator.studies.sweep import point_key

    path = scenario(tmp_path, [{"kind": "policy", "file": "p.json"}])
    actions = actions_of(path)
    always(tmp_path / "p.json", actions, 0)
    before = point_key(load_scenario(path), {})
    assert point_key(load_scenario(path), {}) == before
    always(tmp_path / "p.json", actions, 1)  # new weights: a new description (it holds their digest)
    assert point_key(load_scenario(path), {}) != before


@needs_root
def test_a_policy_plans_on_the_emulated_testbed(tmp_path: Path) -> None:
    """``emulate`` builds and plans a policy as ``run`` does: a policy that always sends the image plays
    cloud-only on the testbed, request by request (the testbed fills the decision history it observes)."""
    path = small_scenario(tmp_path, 4)
    (tmp_path / "top1.csv").write_text(  # the test's own row: the floor admits mobile-only and cloud-only
        "model,dataset,method,split_after,parameter,reconstruction,top1,source\n"
        "deit_tiny_distilled_patch16_224,imagenet,none,,0,none,74.5,published: test row\n"
        "deit_tiny_distilled_patch16_224,imagenet,mercury,1,0,learned,74.5,published: test row\n"
        "deit_tiny_distilled_patch16_224,imagenet,mercury,1,0.5,learned,72.0,published: test row\n")
    doc = yaml.safe_load(path.read_text())
    doc.update(accuracy_tables=["top1.csv"], target_accuracy=70.0,
               schedules=[{"kind": "mobile-only"}])
    path.write_text(yaml.safe_dump(doc))
    sc = load_scenario(path)
    actions = ActionSet.from_tables("policy", schedule_inputs(sc, resolve_inputs(sc)), 70.0,
                                    ("mobile-only", "cloud-only"))
    assert actions.keys == ["mobile-only", "cloud-only"]
    bias = np.array([0.0, 1.0])
    spec = ObservationSpec()
    write_policy(tmp_path / "cloud.json", [(np.zeros((2, spec.size)), bias)], activation="tanh",
                 observation=spec.as_json(), provenance={"command": "by hand"},
                 actions={**actions.as_json(), "accuracy_floor": 70.0, "methods": ["mobile-only", "cloud-only"],
                          "image_bytes": 2_200_000})
    doc["schedules"] = [{"kind": "policy", "file": "cloud.json", "label": "learned"},
                        {"kind": "cloud-only", "label": "static"},
                        {"kind": "oracle", "methods": ["mobile-only", "cloud-only"]},  # picks per request too
                        {"kind": "mercury-adaptive", "split_after": 1, "objective": "min-latency",
                         "accuracy_floor": 70.0, "reduction_step": 0.25}]
    path.write_text(yaml.safe_dump(doc))
    out = tmp_path / "out"
    assert main(["emulate", str(path), "-o", str(out), "-q", "--no-report"]) in (0, None)
    records = pd.read_parquet(out / "records.parquet")
    assert (records.status == "ok").all() and len(records) == 16
    adaptive = records[records.schedule == "mercury-adaptive"]
    assert set(adaptive.split_after) == {1} and adaptive.uplink_bytes.gt(0).all()  # Mercury's split, pruned
    learned, static = (records[records.schedule == s] for s in ("learned", "static"))
    assert learned.uplink_bytes.tolist() == static.uplink_bytes.tolist() and (learned.uplink_bytes >= 2_200_000).all()
    assert (learned.mobile_ms == 0).all() and (learned.cloud_ms > 0).all()


@needs_root
def test_a_kind_the_testbed_cannot_run_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = small_scenario(tmp_path, 2)
    doc = yaml.safe_load(path.read_text())
    doc.update(plugins=[str(REPO / "examples" / "threshold-plugin" / "mercury_threshold.py")],
               schedules=[{"kind": "mobile-only"}, {"kind": "mercury-threshold", "below_mbps": 5}])
    path.write_text(yaml.safe_dump(doc))
    code, err = cli(["emulate", str(path), "-o", str(tmp_path / "out"), "-q"], capsys)
    assert code == 2 and err.count("\n") == 1 and "schedules[1].kind" in err
    assert "the testbed cannot run schedule kind 'mercury-threshold'" in err
    assert not (tmp_path / "out").exists()
