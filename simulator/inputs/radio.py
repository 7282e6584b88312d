"""Radio power models: the uplink's power while sending, linear in its throughput, then an RRC tail.

A model is a YAML file (``profiles/radio/*.yaml``, or a path) with its provenance, or one a plugin registers
under a name (:func:`register_radio_model`); a mobile profile names one in ``radio_model``, a scenario in
``energy.radio``. What a request's radio costs is computed from the records
by :mod:`simulator.model.energy`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from simulator.errors import InputError
from simulator.files.validation import check_provenance, load_yaml_mapping, parse_model
from simulator.inputs.data import resolve_path, shipped_dir


class RadioModel(BaseModel):
    """An uplink power model: linear in the uplink throughput while sending, then a constant-power tail."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["mercury-sim-radio/1"] = "mercury-sim-radio/1"
    name: str
    technology: str
    provenance: dict[str, Any]
    base_w: float = Field(ge=0, description="Power while sending, at zero throughput")
    w_per_mbps: float = Field(ge=0, description="Extra power per Mbit/s of uplink throughput")
    tail_w: float = Field(ge=0, description="Power in the RRC tail after the last upload")
    tail_s: float = Field(ge=0, description="Length of the tail (the inactivity timer)")
    notes: str | list[str] | None = None

    @field_validator("provenance")
    @classmethod
    def _provenance(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_provenance(value)

    def active_j(self, transfer_s: float | np.ndarray, n_bytes: float | np.ndarray) -> Any:
        """Energy of sending ``n_bytes`` in ``transfer_s``: the integral of base + slope x throughput."""
        return self.base_w * transfer_s + self.w_per_mbps * (np.asarray(n_bytes, float) * 8.0 / 1e6)


_REGISTERED: dict[str, tuple[RadioModel, Path | None]] = {}  # name -> (model, the file that registered it)


def register_radio_model(name: str, model: RadioModel | Mapping[str, Any]) -> None:
    """Make a radio model known by ``name`` (a plugin's way to add one; a mapping is checked as a YAML file
    would be). The file that calls this is recorded, so runs that use the model hash that file."""
    caller = Path(sys._getframe(1).f_code.co_filename)
    source = caller.resolve() if caller.is_file() else None
    if not isinstance(model, RadioModel):
        model = parse_model(RadioModel, dict(model), source or Path(name))
    shipped = shipped_dir("profiles")
    if shipped is not None and (shipped / "radio" / f"{name}.yaml").is_file():
        raise ValueError(f"radio model {name!r} is shipped; register yours under another name")
    _REGISTERED[name] = (model, source)


def registered_radio_models() -> dict[str, tuple[RadioModel, Path | None]]:
    """Every radio model registered by name, with the file that registered it (None: code of this process)."""
    return dict(_REGISTERED)


def find_radio_model(value: str | Path, base_dir: Path | None = None) -> Path | None:
    """The file of a radio model named by shipped name (``lte-huang2012``) or path; None when missing."""
    path = resolve_path(value, base_dir)
    shipped = shipped_dir("profiles")
    if path is None and shipped is not None and (shipped / "radio" / f"{value}.yaml").is_file():
        path = shipped / "radio" / f"{value}.yaml"
    return path if path is not None and path.is_file() else None


def load_radio_model(value: str | Path, base_dir: Path | None = None, *, scenario: Path | None = None,
                     key: str = "energy.radio") -> tuple[RadioModel, Path | None]:
    """A radio model by shipped name, path or registered name, and its file (None: registered in-process)."""
    path = find_radio_model(value, base_dir)
    shipped = shipped_dir("profiles")
    if path is None and str(value) in _REGISTERED:
        return _REGISTERED[str(value)]
    if path is None:
        names = sorted(p.stem for p in (shipped / "radio").glob("*.yaml")) if shipped else []
        names += sorted(_REGISTERED)
        raise InputError(scenario, f"radio model {str(value)!r} not found (a shipped or registered name, or a file "
                         f"path); known: {', '.join(names) or 'none'}", key)
    return parse_model(RadioModel, load_yaml_mapping(path), path), path
