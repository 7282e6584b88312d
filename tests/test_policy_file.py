"""The policy file format (simulator/schedules/policy_file.py): what a hand-made network computes, and every
malformed, mismatched or foreign file refused in one line naming it, a pickle never executed."""

from __future__ import annotations

import hashlib
import json
import math
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from simulator.errors import InputError
from simulator.schedules.policy_file import Normalisation, read_policy, write_policy

SPEC = {"names": ["a", "b"]}


def _actions(*keys: str) -> dict:
    return {"keys": list(keys), "fingerprint": "f" * 64, "accuracy_floor": 80.0, "methods": ["mercury"],
            "image_bytes": 1000}


def _write(path: Path, **overrides: object) -> Path:
    """A 2 -> 2 -> 3 tanh network: hidden = tanh(x), logits = [h0, h1, h0 + h1 - 1]."""
    layers = [(np.eye(2), np.zeros(2)), (np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0.0, 0.0, -1.0]))]
    kwargs: dict = {"activation": "tanh", "observation": SPEC, "actions": _actions("x", "y", "z"),
                    "provenance": {"command": "by hand"}}
    kwargs.update(overrides)
    write_policy(path, layers, **kwargs)
    return path


def _edit(path: Path, change: callable) -> None:  # type: ignore[valid-type]
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def test_logits_by_hand(tmp_path: Path) -> None:
    policy = read_policy(_write(tmp_path / "p.json"))
    h0, h1 = math.tanh(0.5), math.tanh(2.0)
    assert policy.logits([0.5, 2.0]).tolist() == pytest.approx([h0, h1, h0 + h1 - 1], abs=1e-7)
    assert policy.act([0.5, 2.0]) == 1  # tanh(2) is the largest
    assert policy.act([3.0, 3.0]) == 0  # a tie goes to the first: h0 == h1 > 2 h - 1
    assert policy.actions == ("x", "y", "z") and policy.observation == SPEC and policy.observation_size == 2
    assert policy.candidates["accuracy_floor"] == 80.0


def test_normalisation_and_relu(tmp_path: Path) -> None:
    norm = Normalisation(np.array([1.0, -1.0]), np.array([4.0, 0.25]), 0.0, 5.0)
    policy = read_policy(_write(tmp_path / "p.json", activation="relu", normalisation=norm))
    # (3 - 1) / 2 = 1 and (0 + 1) / 0.5 = 2; (-1 - 1) / 2 = -1 -> relu 0, and (9 + 1) / 0.5 = 20 -> clipped to 5
    assert policy.logits([3.0, 0.0]).tolist() == [1.0, 2.0, 2.0]
    assert policy.logits([-1.0, 9.0]).tolist() == [0.0, 5.0, 4.0]


def _one_line(path: Path, text: str) -> None:
    with pytest.raises(InputError) as err:
        read_policy(path)
    line = err.value.one_line()
    assert "\n" not in line and text in err.value.detail, line  # the detail: a test folder's name may hold text
    assert str(path.parent) in line  # names the file


@pytest.mark.parametrize(("change", "text"), [
    (lambda d: d.update(format="other"), "format must be 'mercury-sim-policy'"),
    (lambda d: d.update(version=2), "version 2"),
    (lambda d: d.pop("actions"), "missing keys: actions"),
    (lambda d: d.update(extra=1), "unknown keys: extra"),
    (lambda d: d["actions"].update(keys=["x", "y"]), "3 logits for 2 actions"),
    (lambda d: d["actions"].update(keys=["x", "x", "z"]), "distinct"),
    (lambda d: d.update(actions=["x", "y", "z"]), "actions must be {accuracy_floor, fingerprint"),
    (lambda d: d["actions"].update(accuracy_floor=120), "actions.accuracy_floor"),
    (lambda d: d["actions"].update(image_bytes=1.5), "actions.image_bytes"),
    (lambda d: d["actions"].update(methods=[]), "actions.methods"),
    (lambda d: d["network"].update(activation="gelu"), "network.activation"),
    (lambda d: d["network"].update(type="cnn"), "network.type"),
    (lambda d: d["network"]["layers"][1].update(weight="nope"), "no tensor 'nope'"),
    (lambda d: d["network"]["layers"].reverse(), "layers[1] takes 2 inputs but the layer before gives 3"),
    (lambda d: d["network"]["layers"][0].update(bias="layers.1.bias"), "weight (2, 2) and bias (3,)"),
    (lambda d: d["network"]["layers"].pop(), "tensors no layer names"),
    (lambda d: d["weights"].update(sha256="0" * 64), "do not match their sha256"),
    (lambda d: d["weights"].update(file="../p.safetensors"), "a file name beside"),
    (lambda d: d["weights"].update(file="gone.safetensors"), "cannot read the weights"),
    (lambda d: d.update(normalisation={"mean": [0.0], "var": [1.0], "epsilon": 0, "clip": 1}),
     "1 means and 1 variances for 2"),
    (lambda d: d.update(normalisation={"mean": [0.0, float("nan")], "var": [1.0, 1.0], "epsilon": 0, "clip": 1}),
     "not finite"),
    (lambda d: d.update(normalisation={"mean": [0.0, 0.0], "var": [1.0, 0.0], "epsilon": 0, "clip": 1}),
     "var + epsilon must be > 0"),
    (lambda d: d.update(observation=[1]), "observation must be"),
])
def test_malformed_description(tmp_path: Path, change: callable, text: str) -> None:  # type: ignore[valid-type]
    path = _write(tmp_path / "p.json")
    _edit(path, change)
    _one_line(path, text)


def test_layers_that_do_not_chain(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    write_policy(path, [(np.eye(2), np.zeros(2)), (np.ones((3, 4)), np.zeros(3))], activation="tanh",
                 observation=SPEC, actions=_actions("x", "y", "z"), provenance={})
    _one_line(path, "takes 4 inputs but the layer before gives 2")


def test_not_json_and_not_safetensors(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("format: yaml\n")
    _one_line(path, "not a JSON policy description")
    _write(path)
    blob = b"not safetensors at all"
    (tmp_path / "p.safetensors").write_bytes(blob)
    _edit(path, lambda d: d["weights"].update(sha256=hashlib.sha256(blob).hexdigest()))
    _one_line(path, "not a safetensors file")


class _Marker:
    """Unpickled, it creates the marker file: proof that a loader executed the pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_pickle_is_refused_unexecuted(tmp_path: Path, protocol: int) -> None:
    payload = pickle.dumps(_Marker(tmp_path / "proof"), protocol=protocol)
    pickle.loads(payload)  # the payload is live: unpickling it does create a marker
    assert (tmp_path / "proof").exists()
    marker = tmp_path / "marker"
    payload = pickle.dumps(_Marker(marker), protocol=protocol)
    disguised = tmp_path / "policy.json"
    disguised.write_bytes(payload)
    _one_line(disguised, "is a pickle" if protocol >= 2 else "not a JSON policy description")
    # as the weights, with the description's sha256 matching them
    path = _write(tmp_path / "p.json")
    (tmp_path / "p.safetensors").write_bytes(payload)
    _edit(path, lambda d: d["weights"].update(sha256=hashlib.sha256(payload).hexdigest()))
    _one_line(path, "is a pickle" if protocol >= 2 else "not a safetensors file")
    assert not marker.exists()


def test_stable_baselines_zip_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    path = tmp_path / "model.json"
    with zipfile.ZipFile(path, "w") as archive:  # the layout of a stable-baselines3 save
        archive.writestr("data", "{}")
        archive.writestr("policy.pth", pickle.dumps(_Marker(marker), protocol=2))
    _one_line(path, "zip archive")
    assert not marker.exists()
