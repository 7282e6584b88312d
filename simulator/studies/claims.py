"""Claims: published numbers turned into checks against simulated records.

A claims file (YAML, ``format: mercury-sim-claims/1``) names scenarios (a file, optionally with dotted-key
overrides such as ``network.mode: trace``) and claims. A claim compares one statistic of a record field
(mean / p50 / p95 / p99 / min / max / count of one schedule's completed requests, optionally filtered), or
the ratio of two such statistics, with an expectation (a value within a relative tolerance, or at_least /
at_most). Each claim cites its source and says whether the calibration used it (``role: fit``) or it is a
``prediction``. When the paper's number is known not to be reproduced, ``known_discrepancy`` gives the
reason and pins the value the simulator does produce, so the claim still fails if that value drifts.

Nothing in a claims file is evaluated as code.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from simulator.config.overrides import apply_overrides
from simulator.errors import InputError
from simulator.files.validation import load_yaml_mapping, parse_model

STATISTICS = ("mean", "p50", "p95", "p99", "min", "max", "count", "sum")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScenarioRef(_Strict):
    """A scenario file and dotted-key overrides applied before validation."""

    file: str
    set: dict[str, Any] = Field(default_factory=dict)


class Statistic(_Strict):
    scenario: str
    schedule: str
    field: str = "total_ms"
    stat: Literal["mean", "p50", "p95", "p99", "min", "max", "count", "sum"] = "mean"
    where: dict[str, Any] = Field(default_factory=dict, description="Equality filters on record columns")


class Ratio(_Strict):
    numerator: Statistic
    denominator: Statistic


class Expectation(_Strict):
    value: float | None = None
    rel_tol: float | None = Field(None, ge=0)
    at_least: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Expectation:
        has_value = self.value is not None
        if has_value == (self.at_least is not None or self.at_most is not None):
            raise ValueError("give either value (with rel_tol) or at_least / at_most")
        if has_value and self.rel_tol is None:
            raise ValueError("value needs rel_tol")
        return self

    def holds(self, simulated: float) -> bool:
        if not math.isfinite(simulated):
            return False
        if self.value is not None:
            assert self.rel_tol is not None
            return abs(simulated - self.value) <= self.rel_tol * abs(self.value)
        return (self.at_least is None or simulated >= self.at_least) and \
            (self.at_most is None or simulated <= self.at_most)

    def describe(self) -> str:
        if self.value is not None:
            return f"{self.value:g} ± {self.rel_tol:.0%}"
        parts = []
        if self.at_least is not None:
            parts.append(f"≥ {self.at_least:g}")
        if self.at_most is not None:
            parts.append(f"≤ {self.at_most:g}")
        return " and ".join(parts)


class KnownDiscrepancy(_Strict):
    reason: str = Field(min_length=1)
    simulated: Expectation


class Claim(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    claim: str
    source: str
    role: Literal["fit", "prediction"]
    statistic: Statistic | None = None
    ratio: Ratio | None = None
    expect: Expectation
    known_discrepancy: KnownDiscrepancy | None = None

    @model_validator(mode="after")
    def _one_quantity(self) -> Claim:
        if (self.statistic is None) == (self.ratio is None):
            raise ValueError("give exactly one of statistic and ratio")
        return self

    def statistics(self) -> list[Statistic]:
        return [self.statistic] if self.statistic else [self.ratio.numerator, self.ratio.denominator]  # type: ignore[union-attr]


class ClaimsFile(_Strict):
    format: Literal["mercury-sim-claims/1"] = "mercury-sim-claims/1"
    title: str | None = None
    scenarios: dict[str, ScenarioRef] = Field(min_length=1)
    claims: list[Claim] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> ClaimsFile:
        ids = [c.id for c in self.claims]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"claim ids must be unique; repeated: {', '.join(repeated)}")
        for i, claim in enumerate(self.claims):
            for stat in claim.statistics():
                if stat.scenario not in self.scenarios:
                    raise _ClaimKeyError(f"claims[{i}]", f"unknown scenario {stat.scenario!r}; "
                                         f"declared: {', '.join(self.scenarios)}")
        return self


class _ClaimKeyError(ValueError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


Verdict = Literal["pass", "fail", "known discrepancy", "regression", "error"]


@dataclass
class ClaimResult:
    claim: Claim
    simulated: float
    verdict: Verdict
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.verdict in ("fail", "regression", "error")

    def as_dict(self) -> dict[str, Any]:
        c = self.claim
        return {
            "id": c.id, "claim": c.claim, "source": c.source, "role": c.role,
            "expected": c.expect.describe(), "simulated": None if math.isnan(self.simulated) else self.simulated,
            "verdict": self.verdict, "known_discrepancy": c.known_discrepancy.reason if c.known_discrepancy else None,
            "pinned": c.known_discrepancy.simulated.describe() if c.known_discrepancy else None,
            "detail": self.detail,
        }


def load_claims(path: str | Path) -> ClaimsFile:
    path = Path(path)
    return parse_model(ClaimsFile, load_yaml_mapping(path), path)


def statistic_value(records: pd.DataFrame, stat: Statistic) -> float:
    """One statistic of a schedule's completed requests (status ok unless the filter says otherwise)."""
    if stat.schedule not in set(records.schedule.astype(str)):
        raise LookupError(f"schedule {stat.schedule!r} not in the scenario")
    if stat.field not in records.columns:
        raise LookupError(f"record field {stat.field!r} does not exist")
    rows = records[records.schedule.astype(str) == stat.schedule]
    filters = {"status": "ok", **stat.where}
    for column, wanted in filters.items():
        if column not in rows.columns:
            raise LookupError(f"filter column {column!r} does not exist")
        rows = rows[rows[column].astype(str) == str(wanted)] if isinstance(wanted, str) else \
            rows[rows[column] == wanted]
    values = rows[stat.field].to_numpy(dtype=float)
    if stat.stat == "count":
        return float(values.size)
    if values.size == 0:
        return math.nan
    if stat.stat == "sum":
        return float(values.sum())
    if stat.stat == "mean":
        return float(values.mean())
    if stat.stat in ("min", "max"):
        return float(getattr(values, stat.stat)())
    return float(np.percentile(values, float(stat.stat[1:])))


def evaluate(claim: Claim, records_of: Callable[[str], pd.DataFrame]) -> ClaimResult:
    """Compute a claim's simulated value and its verdict."""
    try:
        if claim.statistic is not None:
            simulated = statistic_value(records_of(claim.statistic.scenario), claim.statistic)
        else:
            assert claim.ratio is not None
            num = statistic_value(records_of(claim.ratio.numerator.scenario), claim.ratio.numerator)
            den = statistic_value(records_of(claim.ratio.denominator.scenario), claim.ratio.denominator)
            simulated = num / den if den else math.nan
    except LookupError as exc:
        return ClaimResult(claim, math.nan, "error", str(exc))
    if claim.expect.holds(simulated):
        return ClaimResult(claim, simulated, "pass")
    if claim.known_discrepancy is not None:
        pinned = claim.known_discrepancy.simulated
        if pinned.holds(simulated):
            return ClaimResult(claim, simulated, "known discrepancy", claim.known_discrepancy.reason)
        return ClaimResult(claim, simulated, "regression", f"pinned {pinned.describe()}")
    return ClaimResult(claim, simulated, "fail")


def junit_xml(results: list[ClaimResult], suite: str) -> bytes:
    """JUnit XML: one testcase per claim; fail/regression/error become failures."""
    failures = sum(r.verdict in ("fail", "regression") for r in results)
    errors = sum(r.verdict == "error" for r in results)
    root = ET.Element("testsuite", name=suite, tests=str(len(results)), failures=str(failures), errors=str(errors))
    properties = ET.SubElement(root, "properties")  # marks the file as ours: a later check may replace it
    ET.SubElement(properties, "property", name="generator", value="mercury-sim")
    for r in results:
        case = ET.SubElement(root, "testcase", classname=suite, name=r.claim.id)
        message = (f"{r.claim.claim} [{r.claim.source}]: expected {r.claim.expect.describe()}, "
                   f"simulated {r.simulated:.6g}")
        if r.verdict in ("fail", "regression"):
            ET.SubElement(case, "failure", message=message).text = r.detail or message
        elif r.verdict == "error":
            ET.SubElement(case, "error", message=r.detail).text = r.detail
        elif r.verdict == "known discrepancy":
            ET.SubElement(case, "system-out").text = f"known discrepancy: {r.detail}; {message}"
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def scenario_data(claims_path: Path, name: str, ref: ScenarioRef) -> tuple[dict[str, Any], Path]:
    """The scenario mapping with overrides applied, and its path (for relative file resolution)."""
    path = (claims_path.parent / ref.file).resolve()
    if not path.is_file():
        raise InputError(claims_path, f"scenario file not found: {ref.file}", f"scenarios.{name}.file")
    data = load_yaml_mapping(path)
    apply_overrides(data, ref.set, claims_path, f"scenarios.{name}.set")
    data["name"] = name  # results are filed under the claims file's scenario key
    return data, path
