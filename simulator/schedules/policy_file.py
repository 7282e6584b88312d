"""The policy file: a trained network that plans, stored so that loading it can never run code.

A policy is two files side by side: a JSON description (``NAME.json``) and its weights in safetensors
(``NAME.safetensors``, named in the description with its SHA-256, so the description's digest pins the
weights too). Neither is a pickle: safetensors holds raw tensors behind a JSON header and is parsed, never
executed, here with ``safetensors.numpy`` and numpy alone (no torch in the schedules layer).

The description (``format: mercury-sim-policy``, ``version: 1``) gives:

* ``network``: an MLP, ``type: mlp``; ``layers`` lists each linear layer's tensor names (``weight`` of shape
  (out, in), ``bias`` of shape (out,)); ``activation`` (``tanh`` or ``relu``) follows every layer but the last,
  whose outputs are the action logits (``output: action_logits``). The planned action is their argmax.
* ``observation``: the spec of the vector the network reads (names, units, scales), compared with the
  scenario's when the policy is built; ``normalisation`` (optional): ``mean``, ``var``, ``epsilon``, ``clip``,
  applied as ``clip((x - mean) / sqrt(var + epsilon), -clip, clip)``, as stable-baselines3's VecNormalize does.
* ``actions``: the candidate plans (:class:`simulator.schedules.observation.ActionSet`): ``keys`` in logit order,
  the ``fingerprint`` of their plans, and how they were drawn (``accuracy_floor``, ``methods``,
  ``image_bytes``); a scenario whose candidates differ is refused.
* ``provenance``: how it was made (command, seed, steps, traces, date, wall time).

Anything malformed is one :class:`InputError` naming the file; a pickle or a zip (a stable-baselines3 model)
is recognised by its first bytes and refused before anything reads it further.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulator.errors import InputError

FORMAT = "mercury-sim-policy"
VERSION = 1
ACTIVATIONS = ("tanh", "relu")
OUTPUT = "action_logits"
_KEYS = {"format", "version", "weights", "network", "observation", "normalisation", "actions", "provenance"}
_ACTION_KEYS = {"keys", "fingerprint", "accuracy_floor", "methods", "image_bytes"}


@dataclass(frozen=True)
class Normalisation:
    """Running observation statistics the network was trained behind."""

    mean: np.ndarray
    var: np.ndarray
    epsilon: float
    clip: float

    def apply(self, x: np.ndarray) -> np.ndarray:
        return np.clip((x - self.mean) / np.sqrt(self.var + self.epsilon), -self.clip, self.clip)


@dataclass(frozen=True)
class Policy:
    """A loaded policy: the MLP's layers (weight, bias), what it reads and which plans it picks among
    (``actions``: the keys, in logit order; ``candidates``: the whole ``actions`` entry)."""

    path: Path
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]
    activation: str
    observation: Mapping[str, Any]
    normalisation: Normalisation | None
    actions: tuple[str, ...]
    candidates: Mapping[str, Any]
    provenance: Mapping[str, Any]

    @property
    def observation_size(self) -> int:
        return int(self.layers[0][0].shape[1])

    def logits(self, observation: Sequence[float] | np.ndarray) -> np.ndarray:
        """The network's action logits, in float64 (the same on every run of the same input)."""
        x = np.asarray(observation, dtype=np.float64)
        if self.normalisation is not None:
            x = self.normalisation.apply(x)
        for i, (weight, bias) in enumerate(self.layers):
            x = weight @ x + bias
            if i < len(self.layers) - 1:
                x = np.tanh(x) if self.activation == "tanh" else np.maximum(x, 0.0)
        return x

    def act(self, observation: Sequence[float] | np.ndarray) -> int:
        """The planned action: the first of the largest logits."""
        return int(np.argmax(self.logits(observation)))


def _refuse_foreign(path: Path, data: bytes, what: str) -> None:
    """Refuse a pickle or a zip by its first bytes, before anything parses it."""
    if data[:4] == b"PK\x03\x04":
        raise InputError(path, f"{what} is a zip archive (a stable-baselines3 model?), not a policy file; convert "
                               "it with 'mercury-sim policy export MODEL.zip OUT.json --scenario SCENARIO'")
    if data[:1] == b"\x80":  # the PROTO opcode every pickle since protocol 2 starts with
        raise InputError(path, f"{what} is a pickle, which is never loaded (unpickling runs code)")


def _require(path: Path, ok: bool, problem: str) -> None:
    if not ok:
        raise InputError(path, problem)


def _floats(path: Path, value: Any, key: str) -> np.ndarray:
    ok = isinstance(value, list) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    _require(path, ok, f"{key} must be a list of numbers")
    array = np.asarray(value, dtype=np.float64)
    _require(path, bool(np.isfinite(array).all()), f"{key} holds a value that is not finite")
    return array


def _load_weights(path: Path, entry: Any) -> dict[str, np.ndarray]:
    _require(path, isinstance(entry, dict) and set(entry) == {"file", "sha256"}
             and all(isinstance(v, str) for v in entry.values()),
             "weights must be {file: NAME.safetensors, sha256: HEX}")
    name = Path(entry["file"])
    _require(path, not name.is_absolute() and name.name == entry["file"],
             "weights.file must be a file name beside the description")
    weights_path = path.parent / name
    try:
        data = weights_path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read the weights {weights_path}: {exc.strerror or exc}") from None
    _refuse_foreign(weights_path, data, "the weights file")
    _require(path, hashlib.sha256(data).hexdigest() == entry["sha256"],
             f"the weights {name} do not match their sha256 in the description (edited or replaced)")
    from safetensors import SafetensorError
    from safetensors.numpy import load

    try:
        return load(data)
    except (SafetensorError, ValueError) as exc:
        raise InputError(weights_path, f"not a safetensors file ({exc})") from None


def _network(path: Path, network: Any, tensors: dict[str, np.ndarray]) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    _require(path, isinstance(network, dict) and network.get("type") == "mlp",
             "network.type must be 'mlp' (the only network a policy file holds)")
    _require(path, network.get("activation") in ACTIVATIONS,
             f"network.activation must be one of {', '.join(ACTIVATIONS)}")
    _require(path, network.get("output") == OUTPUT, f"network.output must be '{OUTPUT}'")
    entries = network.get("layers")
    _require(path, isinstance(entries, list) and len(entries) > 0, "network.layers must be a non-empty list")
    layers = []
    named: set[str] = set()
    for i, layer in enumerate(entries):
        _require(path, isinstance(layer, dict) and set(layer) == {"weight", "bias"},
                 f"network.layers[{i}] must be {{weight: TENSOR, bias: TENSOR}}")
        pair = []
        for role in ("weight", "bias"):
            name = layer[role]
            _require(path, isinstance(name, str) and name in tensors,
                     f"network.layers[{i}].{role}: no tensor {name!r} in the weights")
            array = tensors[name]
            _require(path, array.dtype in (np.float32, np.float64), f"tensor {name} is {array.dtype}, not a float")
            _require(path, bool(np.isfinite(array).all()), f"tensor {name} holds a value that is not finite")
            pair.append(array.astype(np.float64))
            named.add(name)
        weight, bias = pair
        _require(path, weight.ndim == 2 and bias.shape == (weight.shape[0],),
                 f"network.layers[{i}]: weight {weight.shape} and bias {bias.shape} do not make a linear layer")
        if layers:
            previous = layers[-1][0].shape[0]
            _require(path, weight.shape[1] == previous,
                     f"network.layers[{i}] takes {weight.shape[1]} inputs but the layer before gives {previous}")
        layers.append((weight, bias))
    extra = sorted(set(tensors) - named)
    _require(path, not extra, f"the weights hold tensors no layer names: {', '.join(extra)}")
    return tuple(layers)


def _normalisation(path: Path, entry: Any, size: int) -> Normalisation | None:
    if entry is None:
        return None
    _require(path, isinstance(entry, dict) and set(entry) == {"mean", "var", "epsilon", "clip"},
             "normalisation must be null or {mean, var, epsilon, clip}")
    mean, var = _floats(path, entry["mean"], "normalisation.mean"), _floats(path, entry["var"], "normalisation.var")
    _require(path, mean.shape == var.shape == (size,),
             f"normalisation has {mean.size} means and {var.size} variances for {size} observation values")
    epsilon, clip = entry["epsilon"], entry["clip"]
    _require(path, isinstance(epsilon, int | float) and isinstance(clip, int | float)
             and epsilon >= 0 and clip > 0 and math.isfinite(epsilon) and math.isfinite(clip),
             "normalisation.epsilon must be >= 0 and clip > 0")
    _require(path, bool((var >= 0).all() and (var + epsilon > 0).all()),
             "normalisation: var must be >= 0 and var + epsilon must be > 0")
    return Normalisation(mean, var, float(epsilon), float(clip))


def read_policy(path: Path) -> Policy:
    """Load and check a policy file (the JSON description; its weights beside it)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read the policy: {exc.strerror or exc}") from None
    _refuse_foreign(path, data, "the policy file")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"not a JSON policy description ({exc})") from None
    _require(path, isinstance(doc, dict) and doc.get("format") == FORMAT,
             f"not a policy description (format must be '{FORMAT}')")
    _require(path, doc.get("version") == VERSION, f"policy format version {doc.get('version')!r}; this reads {VERSION}")
    missing, unknown = sorted(_KEYS - set(doc)), sorted(set(doc) - _KEYS)
    _require(path, not missing, f"missing keys: {', '.join(missing)}")
    _require(path, not unknown, f"unknown keys: {', '.join(unknown)}")
    layers = _network(path, doc["network"], _load_weights(path, doc["weights"]))
    candidates = doc["actions"]
    _require(path, isinstance(candidates, dict) and set(candidates) == _ACTION_KEYS,
             f"actions must be {{{', '.join(sorted(_ACTION_KEYS))}}}")
    actions = candidates["keys"]
    _require(path, isinstance(actions, list) and len(actions) > 0 and all(isinstance(a, str) for a in actions)
             and len(set(actions)) == len(actions), "actions.keys must be a non-empty list of distinct keys")
    floor, methods, image_bytes = candidates["accuracy_floor"], candidates["methods"], candidates["image_bytes"]
    _require(path, isinstance(candidates["fingerprint"], str), "actions.fingerprint must be a string")
    _require(path, isinstance(floor, int | float) and not isinstance(floor, bool) and 0 < floor <= 100,
             "actions.accuracy_floor must be a top-1 in (0, 100]")
    _require(path, isinstance(methods, list) and len(methods) > 0 and all(isinstance(m, str) for m in methods),
             "actions.methods must be a non-empty list of method names")
    _require(path, isinstance(image_bytes, int) and not isinstance(image_bytes, bool) and image_bytes > 0,
             "actions.image_bytes must be a positive integer")
    _require(path, layers[-1][0].shape[0] == len(actions),
             f"the network gives {layers[-1][0].shape[0]} logits for {len(actions)} actions")
    _require(path, isinstance(doc["observation"], dict), "observation must be the observation spec (a mapping)")
    _require(path, isinstance(doc["provenance"], dict), "provenance must be a mapping")
    size = int(layers[0][0].shape[1])
    return Policy(path, layers, doc["network"]["activation"], doc["observation"],
                  _normalisation(path, doc["normalisation"], size), tuple(actions), candidates, doc["provenance"])


def write_policy(path: Path, layers: Sequence[tuple[np.ndarray, np.ndarray]], *, activation: str,
                 observation: Mapping[str, Any], actions: Mapping[str, Any], provenance: Mapping[str, Any],
                 normalisation: Normalisation | None = None) -> Path:
    """Write ``path`` (the description) and its weights beside it (same stem, ``.safetensors``); returns the
    weights' path. Written weights first, so a description never names weights that are not there.
    ``actions``: the action set's JSON with how it was drawn (the module's ``actions`` entry)."""
    from safetensors.numpy import save

    from simulator.files.atomic import atomic_write_bytes, atomic_write_text

    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}")
    tensors: dict[str, np.ndarray] = {}
    entries = []
    for i, (weight, bias) in enumerate(layers):
        tensors[f"layers.{i}.weight"] = np.ascontiguousarray(weight, dtype=np.float32)
        tensors[f"layers.{i}.bias"] = np.ascontiguousarray(bias, dtype=np.float32)
        entries.append({"weight": f"layers.{i}.weight", "bias": f"layers.{i}.bias"})
    blob = save(tensors, metadata={"format": FORMAT})
    weights_path = path.with_suffix(".safetensors")
    atomic_write_bytes(weights_path, blob)
    norm = None if normalisation is None else {
        "mean": normalisation.mean.tolist(), "var": normalisation.var.tolist(),
        "epsilon": normalisation.epsilon, "clip": normalisation.clip}
    doc = {"format": FORMAT, "version": VERSION,
           "weights": {"file": weights_path.name, "sha256": hashlib.sha256(blob).hexdigest()},
           "network": {"type": "mlp", "activation": activation, "output": OUTPUT, "layers": entries},
           "observation": dict(observation), "normalisation": norm, "actions": dict(actions),
           "provenance": dict(provenance)}
    atomic_write_text(path, json.dumps(doc, indent=1) + "\n")
    return weights_path
