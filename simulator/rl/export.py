"""Convert a stable-baselines3 PPO model (its ``.zip``) into a policy file that loads without running code.

An SB3 zip holds pickles (the spaces, the schedules) beside the weights; this reads only what is safe to read:
the ``data`` member as JSON (the policy class, its keyword arguments and the spaces, by their printed form,
never unpickled) and ``policy.pth`` with ``torch.load(weights_only=True)``, which refuses anything but
tensors. The actor of an ``MlpPolicy`` (``mlp_extractor.policy_net`` then ``action_net``) becomes the policy
file's MLP; the value network is left out. What the network reads and picks among (the observation spec and
the action set) is not in the zip: it comes from the environment the model was trained in
(:func:`write_from_zip`'s arguments; the command reads them from the decision file the training wrote).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from simulator.errors import InputError
from simulator.schedules.policy_file import write_policy

CONTRACT_SUFFIX = ".contract.json"


def contract_path(model_zip: Path) -> Path:
    """Where the training writes the model's contract: beside it, ``MODEL.contract.json``."""
    return model_zip.with_name(model_zip.name.removesuffix(".zip") + CONTRACT_SUFFIX)


def read_contract(path: Path) -> dict:
    """The contract's observation spec, action set and provenance (one line naming the file when malformed)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(path, f"cannot read the contract: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"not JSON ({exc})") from None
    if not isinstance(doc, dict) or not {"observation", "actions", "provenance"} <= set(doc):
        raise InputError(path, "a contract holds observation, actions and provenance")
    return doc


_ACTIVATIONS = {"Tanh": "tanh", "ReLU": "relu"}
_POLICY_NET = re.compile(r"mlp_extractor\.policy_net\.(\d+)\.(weight|bias)")


def _member(archive: zipfile.ZipFile, name: str, path: Path) -> bytes:
    try:
        return archive.read(name)
    except KeyError:
        raise InputError(path, f"no '{name}' in the archive: not a stable-baselines3 model") from None


def _activation(data: Mapping[str, Any], path: Path) -> str:
    """The actor's activation from the policy keyword arguments' printed form (SB3's default: Tanh)."""
    kwargs = data.get("policy_kwargs") or {}
    printed = kwargs.get("activation_fn") if isinstance(kwargs, dict) else None
    if printed is None:
        return "tanh"
    name = str(printed).rstrip("'>").rsplit(".", 1)[-1]
    if name not in _ACTIVATIONS:
        raise InputError(path, f"activation {printed} is not one a policy file holds ({', '.join(_ACTIVATIONS)})")
    return _ACTIVATIONS[name]


def _space(data: Mapping[str, Any], key: str, path: Path) -> Mapping[str, Any]:
    space = data.get(key)
    if not isinstance(space, dict):
        raise InputError(path, f"data: no {key}")
    return space


def actor_layers(model_zip: Path, observation_size: int, n_actions: int) -> tuple[list[tuple[np.ndarray, np.ndarray]],
                                                                                  str]:
    """The actor's linear layers (weight, bias) and activation, checked against the sizes the environment gives."""
    import torch

    try:
        archive = zipfile.ZipFile(model_zip)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(model_zip, f"not a stable-baselines3 zip ({exc})") from None
    with archive:
        try:
            data = json.loads(_member(archive, "data", model_zip))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(model_zip, f"data is not JSON ({exc})") from None
        state_bytes = _member(archive, "policy.pth", model_zip)
    policy_class = data.get("policy_class", {})
    if not isinstance(policy_class, dict) or "ActorCriticPolicy" not in str(policy_class.get(":type:", "")) + \
            str(policy_class.get("__init__", "")):
        raise InputError(model_zip, "not an actor-critic MlpPolicy (PPO's default policy)")
    action_space = _space(data, "action_space", model_zip)
    if "Discrete" not in str(action_space.get(":type:")) or str(action_space.get("n")) != str(n_actions):
        raise InputError(model_zip, f"the action space is {action_space.get(':type:')} n={action_space.get('n')}, "
                                    f"the environment's Discrete({n_actions})")
    observation_space = _space(data, "observation_space", model_zip)
    if observation_space.get("_shape") != [observation_size]:
        raise InputError(model_zip, f"the observation shape is {observation_space.get('_shape')}, the environment's "
                                    f"[{observation_size}]")
    try:
        state = torch.load(io.BytesIO(state_bytes), map_location="cpu", weights_only=True)
    except Exception as exc:  # weights_only refuses whatever is not plain tensors: one line, not a traceback
        raise InputError(model_zip, f"policy.pth holds more than tensors ({type(exc).__name__})") from None
    extractor = [k for k in state if "features_extractor" in k]
    if extractor:
        raise InputError(model_zip, f"a features extractor with weights ({extractor[0]}): only an MLP is exported")
    indices = sorted({int(m.group(1)) for k in state if (m := _POLICY_NET.fullmatch(k))})
    names = [(f"mlp_extractor.policy_net.{i}.weight", f"mlp_extractor.policy_net.{i}.bias") for i in indices]
    names.append(("action_net.weight", "action_net.bias"))
    layers = []
    for weight, bias in names:
        if weight not in state or bias not in state:
            raise InputError(model_zip, f"policy.pth lacks {weight} or {bias}")
        layers.append((state[weight].double().numpy(), state[bias].double().numpy()))
    if layers[0][0].shape[1] != observation_size:
        raise InputError(model_zip, f"the actor reads {layers[0][0].shape[1]} values, the environment gives "
                                    f"{observation_size}")
    return layers, _activation(data, model_zip)


def write_from_zip(model_zip: Path, out: Path, *, observation: Mapping[str, Any], observation_size: int,
                   actions: Mapping[str, Any], provenance: Mapping[str, Any]) -> Path:
    """Write ``out`` (and its weights) from ``model_zip``; returns the weights' path."""
    layers, activation = actor_layers(model_zip, observation_size, len(actions["keys"]))
    return write_policy(out, layers, activation=activation, observation=observation, actions=actions,
                        provenance=provenance)
