"""Cascade (Ask the Expert, Liu and Fahmy 2026): a small generalist ViT on the device answers when it is
confident; below a confidence threshold the image goes to an expert ViT on a near-edge server.

The Plan is a stage graph: the generalist on the device, then a probabilistic branch that escalates with
the table's escalation rate at the chosen threshold (the upload of the image, the expert on its tier, the
result back) or stops. Each arm carries its own accuracy: the generalist's on the samples it keeps, the
expert's on those it is sent.

The escalation table (CSV, ``#`` comment lines first): ``threshold, escalation_rate, accuracy_kept,
accuracy_escalated, source``; an empty accuracy is unknown (reported as NaN). A threshold must be one of
the table's rows: the escalation rate is a quantile of the generalist's confidence distribution, which
the table samples; nothing is interpolated between rows. ``escalation_probability`` (with the two
accuracies, optional) stands in for a table.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simulator.inputs.data import resolve_path
from simulator.inputs.vit import MODELS, get_model
from simulator.plans.graph import DEVICE, NOTHING, Branch, Chain, Compute, Transfer
from simulator.plans.plan import Plan, PlanContext
from simulator.schedules.base import ScheduleError, ScheduleInputs, full_model_stages

TABLE_COLUMNS = ["threshold", "escalation_rate", "accuracy_kept", "accuracy_escalated", "source"]
SOURCE_KINDS = ("published:", "fitted:", "measured:", "definition:")


class CascadeConfig(BaseModel):
    """A scenario's ``kind: cascade`` entry."""

    model_config = ConfigDict(extra="forbid")
    DATA_FILES: ClassVar[dict[str, str | None]] = {"table": None}  # see simulator.schedules.schedule_files
    kind: Literal["cascade"]
    label: str | None = None
    device_model: str = Field(
        "deit_tiny_distilled_patch16_224",
        description="The generalist on the device; 'none': every image goes to the expert (full offload)")
    expert_model: str | None = Field(None, description="The expert (default: the scenario's model)")
    expert_tier: str = Field("near-edge", description="The server running the expert")
    table: str | None = Field(None, description="Escalation table CSV (relative to the scenario)")
    threshold: float | None = Field(None, ge=0, le=1, description="Confidence below which a sample escalates")
    escalation_probability: float | None = Field(None, ge=0, le=1, description="Instead of table and threshold")
    accuracy_kept: float | None = Field(None, gt=0, le=100)
    accuracy_escalated: float | None = Field(None, gt=0, le=100)
    image_bytes: int = Field(150_528, gt=0, description="Upload of an escalated image (224 x 224 x 3 bytes)")
    result_bytes: int = Field(4000, ge=0, description="The expert's answer back to the device")

    @model_validator(mode="after")
    def _one_source(self) -> CascadeConfig:
        for key in ("device_model", "expert_model"):
            name = getattr(self, key)
            if name is not None and name != "none" and name not in MODELS:
                raise ValueError(f"{key}: unknown model {name!r}; known: {', '.join(sorted(MODELS))}")
        tabled = self.table is not None or self.threshold is not None
        if self.device_model == "none":
            if tabled or self.escalation_probability is not None or self.accuracy_kept is not None:
                raise ValueError("without a device_model every image escalates: give no table, threshold, "
                                 "escalation_probability or accuracy_kept")
            return self
        if tabled == (self.escalation_probability is not None):
            raise ValueError("give table and threshold, or escalation_probability")
        if tabled and (self.table is None or self.threshold is None):
            raise ValueError("table and threshold go together")
        if tabled and (self.accuracy_kept is not None or self.accuracy_escalated is not None):
            raise ValueError("with a table, the accuracies come from its row")
        return self


@dataclass(frozen=True)
class EscalationRow:
    threshold: float
    escalation_rate: float
    accuracy_kept: float
    accuracy_escalated: float


def read_escalation_table(path: Path) -> list[EscalationRow]:
    """The table's rows; a malformed file raises ScheduleError naming the file and the line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ScheduleError(f"table: cannot read {path}: {exc.strerror}") from None
    body = [(n, line) for n, line in enumerate(lines, 1) if line.strip() and not line.startswith("#")]
    if not body or [c.strip() for c in next(csv.reader([body[0][1]]))] != TABLE_COLUMNS:
        raise ScheduleError(f"table {path}: the header must be {','.join(TABLE_COLUMNS)}")
    rows = []
    for number, line in body[1:]:
        cells = next(csv.reader(io.StringIO(line)))
        try:
            if len(cells) != len(TABLE_COLUMNS):
                raise ValueError(f"expected {len(TABLE_COLUMNS)} fields, got {len(cells)}")
            threshold, rate = float(cells[0]), float(cells[1])
            kept, escalated = (float(c) if c.strip() else math.nan for c in cells[2:4])
            if not (0 <= threshold <= 1 and 0 <= rate <= 1):
                raise ValueError("threshold and escalation_rate must lie in [0, 1]")
            if not cells[4].strip().startswith(SOURCE_KINDS):
                raise ValueError(f"source must start with one of {', '.join(SOURCE_KINDS)}")
        except ValueError as exc:
            raise ScheduleError(f"table {path}, line {number}: {exc}") from None
        rows.append(EscalationRow(threshold, rate, kept, escalated))
    return rows


@dataclass
class CascadeSchedule:
    label: str
    inputs: ScheduleInputs
    config: CascadeConfig
    static: bool = True
    _plan: Plan = field(init=False)

    def __post_init__(self) -> None:
        c = self.config
        if c.expert_tier != "cloud" and c.expert_tier not in self.inputs.servers:
            known = ", ".join(["cloud", *self.inputs.servers])
            raise ScheduleError(f"expert_tier: no tier {c.expert_tier!r} in the scenario (servers: {known})")
        expert = get_model(c.expert_model or self.inputs.spec.name)
        escalate = Chain((Transfer(DEVICE, c.expert_tier, c.image_bytes),
                          Compute(c.expert_tier, full_model_stages(expert), expert.name, "expert"),
                          Transfer(c.expert_tier, DEVICE, c.result_bytes)))
        if c.device_model == "none":  # the full-offload baseline: no generalist, no branch
            accuracy = c.accuracy_escalated if c.accuracy_escalated is not None else math.nan
            self._plan = Plan(0, math.nan, (), 0, (), accuracy, graph=escalate)
            self._warn_unknown(accuracy, "accuracy_escalated is not given")
            return
        p, kept, escalated, threshold = self._operating_point()
        overall = (1 - p) * kept + p * escalated if 0 < p < 1 else kept if p == 0 else escalated
        self._warn_unknown(overall, "the escalation table has no accuracy for the path taken" if c.table
                           else "accuracy_kept or accuracy_escalated is not given")
        generalist = get_model(c.device_model)
        graph = Chain((Compute(DEVICE, full_model_stages(generalist), generalist.name, "generalist"),
                       Branch(p, escalate, NOTHING, escalated, kept)))
        self._plan = Plan(0, threshold, (), 0, (), overall, graph=graph)

    def _warn_unknown(self, accuracy: float, why: str) -> None:
        if math.isnan(accuracy):
            self.inputs.warnings.append(f"{why}; accuracy reported as NaN")

    def _operating_point(self) -> tuple[float, float, float, float]:
        """(escalation probability, accuracy kept, accuracy escalated, threshold or NaN)."""
        c = self.config
        if c.escalation_probability is not None:
            nan = math.nan
            return (c.escalation_probability, c.accuracy_kept or nan, c.accuracy_escalated or nan, nan)
        assert c.table is not None and c.threshold is not None
        path = resolve_path(c.table, self.inputs.base_dir)
        if path is None or not path.is_file():
            raise ScheduleError(f"table: file not found: {c.table}")
        rows = read_escalation_table(path)
        for row in rows:
            if abs(row.threshold - c.threshold) <= 1e-9:
                return row.escalation_rate, row.accuracy_kept, row.accuracy_escalated, row.threshold
        listed = ", ".join(f"{r.threshold:g}" for r in rows)
        raise ScheduleError(f"threshold: {c.threshold:g} is not a row of {c.table} (rows: {listed})")

    def plan(self, ctx: PlanContext) -> Plan:
        return self._plan
