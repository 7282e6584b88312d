"""A learned policy as a schedule (``kind: policy``): per request, the plan a trained network picks.

The entry names a policy file (``file:``, relative to the scenario; :mod:`simulator.schedules.policy_file`).
When a request arrives the schedule builds the observation the device can know
(:func:`simulator.schedules.observation.observe`, with the spec recorded in the file) and plays the action
with the largest logit: deterministic, so a scenario and seed give the same records on every run. The
actions are the scenario's candidate plans drawn as the file records (accuracy floor, methods, image bytes)
and named by its keys; a file whose observation spec or candidates (keys, order, or the plans behind them)
do not match the scenario's is refused in one line naming it.

The file is one of the run's inputs (``DATA_FILES``): its digest goes into the manifest and sweep point keys,
so a new policy recomputes what it affects; the weights' own digest sits in the file, so they count too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from simulator.errors import InputError
from simulator.inputs.data import resolve_path
from simulator.plans.plan import Plan, PlanContext
from simulator.schedules.base import ScheduleError, ScheduleInputs
from simulator.schedules.candidates import METHODS
from simulator.schedules.observation import ActionMismatch, ActionSet, ObservationSpec, observe
from simulator.schedules.policy_file import Policy, read_policy

KIND = "policy"


class PolicyConfig(BaseModel):
    """A scenario's ``kind: policy`` entry."""

    model_config = ConfigDict(extra="forbid")
    DATA_FILES: ClassVar[dict[str, str | None]] = {"file": None}  # see simulator.schedules.schedule_files
    kind: Literal["policy"]
    label: str | None = Field(None, min_length=1, description="Name in tables and plots (default: policy)")
    file: str = Field(min_length=1, description="The policy's JSON description (relative to the scenario); "
                                                 "its weights (.safetensors) lie beside it")


@dataclass
class PolicySchedule:
    """Plays a loaded policy's argmax action among the scenario's candidate plans."""

    label: str
    policy: Policy
    actions: ActionSet
    spec: ObservationSpec
    static: bool = False

    @property
    def bandwidth_history(self) -> int:
        """Upload throughputs per device the engine keeps for the observation."""
        return self.spec.bandwidth_history

    @property
    def decision_history(self) -> int:
        """Latencies per device the engine keeps (and the queue and the arrival gap it then fills)."""
        return self.spec.decision_history

    def method_of(self, plan: Plan) -> str:
        """The method (a candidate's, simulator/schedules/candidates.py) that built ``plan``."""
        return next(c.method for c in self.actions.candidates if c.plan == plan)

    def plan(self, ctx: PlanContext) -> Plan:
        return self.actions.candidates[self.policy.act(observe(ctx, self.spec))].plan


def load_policy_schedule(label: str, inputs: ScheduleInputs, policy: Policy) -> PolicySchedule:
    """The schedule of a loaded policy on this scenario's inputs; InputError naming the file on a mismatch."""
    path = policy.path
    try:
        spec = ObservationSpec.from_json(policy.observation)
    except (TypeError, ValueError) as exc:
        raise InputError(path, f"observation: {exc}") from None
    if spec.size != policy.observation_size:
        raise InputError(path, f"the network reads {policy.observation_size} values but its observation spec "
                               f"gives {spec.size}")
    drawn = policy.candidates
    unknown = [m for m in drawn["methods"] if m not in METHODS]
    if unknown:
        raise InputError(path, f"actions.methods: unknown method {unknown[0]!r}; known: {', '.join(METHODS)}")
    try:
        actions = ActionSet.from_tables(label, inputs, float(drawn["accuracy_floor"]), tuple(drawn["methods"]),
                                        int(drawn["image_bytes"]), keys=policy.actions)
        actions.check({"keys": list(policy.actions), "fingerprint": drawn["fingerprint"]})
    except (ScheduleError, ActionMismatch) as exc:
        raise InputError(path, f"actions do not match this scenario's candidates: {exc}") from None
    return PolicySchedule(label, policy, actions, spec)


def build_policy(config: PolicyConfig, inputs: ScheduleInputs) -> PolicySchedule:
    """The registry's builder: find and read the file, then fit it to the scenario."""
    path = resolve_path(config.file, inputs.base_dir)
    if path is None or not path.is_file():
        raise ScheduleError(f"file: policy file not found: {config.file}")
    return load_policy_schedule(config.label or KIND, inputs, read_policy(path))
