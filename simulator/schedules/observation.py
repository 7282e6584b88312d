"""The decision contract of a learned chooser: what it observes when a request arrives and which plans it
picks from. The environment that trains one (:mod:`simulator.rl`) and the schedule that runs one share it.

Actions (:class:`ActionSet`): a discrete list of candidate plans, the ones the oracle chooses from
(:func:`simulator.schedules.candidates.candidate_plans`: per method and split, the most aggressive parameter
meeting an accuracy floor, the whole model on the device, the image sent whole), or a subset named by key.
Action ``i`` is candidate ``i``. :meth:`ActionSet.as_json` records the keys and a fingerprint of the plans, and
:meth:`ActionSet.check` refuses a recorded list that differs (other keys, order, or plans priced differently).

Observation (:func:`observe`): a float32 vector of only what the device knows when it plans (never the
trace's future), each entry divided by a fixed scale (:class:`ObservationSpec`, written as JSON and compared
whole):

========================  ===========  =====================================================================
entry                     unit, scale  what
========================  ===========  =====================================================================
``mbps[-k]..mbps[-1]``    Mbit/s, 100  the last ``bandwidth_k`` uplink rates, oldest first: the radio's samples
                                       up to now (``source: radio``) or the device's own upload throughputs
                                       (``source: uploads``); too few: the oldest one repeated in front, or
                                       the link's mean when there is none
``queue``                 requests, 4  the device's earlier requests still waiting for or using its CPU or
                                       uplink
``latency_ms[-j]..[-1]``  ms, 1000     end-to-end latencies of its last ``latency_k`` completed requests,
                                       oldest first; 0 in front while fewer have completed
``since_arrival_s``       s, 1         time since its previous request arrived (0 for the first)
========================  ===========  =====================================================================

Entries are not clipped: every one is >= 0, and a rate, a queue or a latency beyond its scale reads above 1.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from simulator.plans.plan import Plan, PlanContext
from simulator.schedules.base import ScheduleError, ScheduleInputs
from simulator.schedules.candidates import METHODS, Candidate, candidate_plans

SPEC_VERSION = 1
Source = Literal["radio", "uploads"]


@dataclass(frozen=True)
class Feature:
    """One entry of the observation: its name, its unit, and the scale it is divided by."""

    name: str
    unit: str
    scale: float


@dataclass(frozen=True)
class ObservationSpec:
    """How :func:`observe` builds the vector: history lengths, the uplink source and the fixed scales."""

    bandwidth_k: int = 8
    latency_k: int = 4
    source: Source = "radio"
    mbps_scale: float = 100.0
    queue_scale: float = 4.0
    latency_scale_ms: float = 1000.0
    gap_scale_s: float = 1.0

    def __post_init__(self) -> None:
        if self.bandwidth_k < 1 or self.latency_k < 0:
            raise ValueError("bandwidth_k must be >= 1 and latency_k >= 0")
        if self.source not in ("radio", "uploads"):
            raise ValueError(f"source must be 'radio' or 'uploads', not {self.source!r}")
        if min(self.mbps_scale, self.queue_scale, self.latency_scale_ms, self.gap_scale_s) <= 0:
            raise ValueError("every scale must be positive")

    @property
    def features(self) -> list[Feature]:
        return [*(Feature(f"mbps[-{self.bandwidth_k - j}]", "Mbit/s", self.mbps_scale)
                  for j in range(self.bandwidth_k)),
                Feature("queue", "requests", self.queue_scale),
                *(Feature(f"latency_ms[-{self.latency_k - j}]", "ms", self.latency_scale_ms)
                  for j in range(self.latency_k)),
                Feature("since_arrival_s", "s", self.gap_scale_s)]

    @property
    def size(self) -> int:
        return self.bandwidth_k + self.latency_k + 2

    @property
    def bandwidth_history(self) -> int:
        """Upload throughputs the engine must keep per device (``PlanContext.recent_mbps``)."""
        return self.bandwidth_k if self.source == "uploads" else 0

    @property
    def decision_history(self) -> int:
        """Latencies the engine must keep per device; at least 1 so it also fills the queue and the gap."""
        return max(self.latency_k, 1)

    def as_json(self) -> dict[str, Any]:
        """The spec with its features spelled out (names, units, scales), for a policy file."""
        return {"version": SPEC_VERSION, **asdict(self), "features": [asdict(f) for f in self.features]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ObservationSpec:
        """The spec :meth:`as_json` wrote; ValueError when its version or its features do not match."""
        if data.get("version") != SPEC_VERSION:
            raise ValueError(f"observation spec version {data.get('version')!r}, expected {SPEC_VERSION}")
        fields = {k: data[k] for k in ("bandwidth_k", "latency_k", "source", "mbps_scale", "queue_scale",
                                       "latency_scale_ms", "gap_scale_s") if k in data}
        spec = cls(**fields)
        if "features" in data and data["features"] != spec.as_json()["features"]:
            raise ValueError("the observation spec's features do not match its parameters")
        return spec


def observe(ctx: PlanContext, spec: ObservationSpec) -> np.ndarray:
    """The observation of the request ``ctx`` plans (see the module's table)."""
    out = np.zeros(spec.size, dtype=np.float32)
    k = spec.bandwidth_k
    if spec.source == "radio" and ctx.trace is not None:
        rates = ctx.trace.recent_samples(ctx.now_s + ctx.trace_offset_s, k).tolist()
    else:
        rates = list(ctx.recent_mbps)[-k:]
    if len(rates) < k:
        rates = [rates[0] if rates else ctx.mean_mbps] * (k - len(rates)) + rates
    out[:k] = np.divide(rates, spec.mbps_scale)
    out[k] = ctx.queue / spec.queue_scale
    j = spec.latency_k
    if j:
        latencies = list(ctx.recent_latency_ms)[-j:]
        if latencies:
            out[k + 1 + j - len(latencies):k + 1 + j] = np.divide(latencies, spec.latency_scale_ms)
    out[-1] = 0.0 if ctx.since_arrival_s is None else ctx.since_arrival_s / spec.gap_scale_s
    return out


class ActionMismatch(ValueError):
    """A recorded action list is not this one (a policy trained on other candidates)."""


@dataclass(frozen=True)
class ActionSet:
    """The candidate plans, action ``i`` being ``candidates[i]``."""

    candidates: tuple[Candidate, ...]

    @classmethod
    def from_tables(cls, label: str, inputs: ScheduleInputs, floor: float, methods: tuple[str, ...] = METHODS,
                    image_bytes: int = 2_200_000, keys: Sequence[str] | None = None) -> ActionSet:
        """The oracle's candidates at ``floor`` (% top-1), or those of them ``keys`` names, in that order."""
        found = cls(tuple(candidate_plans(label, inputs, floor, methods, image_bytes)))
        if not found.candidates:
            raise ScheduleError(f"no method reaches the {floor:g} % accuracy floor")
        return found if keys is None else found.subset(keys)

    def subset(self, keys: Sequence[str]) -> ActionSet:
        """The candidates ``keys`` names, in that order; ScheduleError naming an unknown or repeated key."""
        by_key = {c.key: c for c in self.candidates}
        if len(set(keys)) != len(keys):
            raise ScheduleError("an action key is named twice")
        unknown = [k for k in keys if k not in by_key]
        if unknown:
            raise ScheduleError(f"unknown action {unknown[0]!r}; the candidates: {', '.join(by_key)}")
        if not keys:
            raise ScheduleError("the action list is empty")
        return ActionSet(tuple(by_key[k] for k in keys))

    def __len__(self) -> int:
        return len(self.candidates)

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.candidates]

    @property
    def plans(self) -> list[Plan]:
        return [c.plan for c in self.candidates]

    def index(self, plan: Plan) -> int:
        """The action of a plan (ValueError when no candidate is that plan)."""
        return self.plans.index(plan)

    @property
    def fingerprint(self) -> str:
        """A digest of the keys and the plans (their stages, bytes and accuracy), in order."""
        text = json.dumps([[c.key, repr(c.plan)] for c in self.candidates])
        return hashlib.sha256(text.encode()).hexdigest()

    def as_json(self) -> dict[str, Any]:
        return {"keys": self.keys, "fingerprint": self.fingerprint}

    def check(self, recorded: Mapping[str, Any]) -> None:
        """Refuse (ActionMismatch) a recorded action list (:meth:`as_json`) that is not this one."""
        keys = list(recorded.get("keys", []))
        if keys != self.keys:
            extra = sorted(set(keys) - set(self.keys))
            missing = sorted(set(self.keys) - set(keys))
            detail = (f"recorded only: {', '.join(extra)}; " if extra else "") + \
                (f"here only: {', '.join(missing)}" if missing else "")
            raise ActionMismatch(f"the action list differs ({detail or 'same keys in another order'})")
        if recorded.get("fingerprint") != self.fingerprint:
            raise ActionMismatch("the action list has the same keys but other plans (tables or profiles changed)")
