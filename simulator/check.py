"""``mercury-sim check``: run every scenario a claims file needs once, evaluate the claims, write results."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simulator.claims import ClaimResult, ClaimsFile, evaluate, load_claims, scenario_data
from simulator.runner import Progress, RunResult, run_scenario
from simulator.scenario import scenario_from_dict


@dataclass
class CheckOutcome:
    claims: ClaimsFile
    results: list[ClaimResult]
    runs: dict[str, RunResult]

    @property
    def failed(self) -> list[ClaimResult]:
        return [r for r in self.results if r.failed]


def run_check(claims_path: Path, *, progress: Progress | None = None) -> CheckOutcome:
    """Load and validate everything first (bad input fails before any simulation), then simulate."""
    claims = load_claims(claims_path)
    needed = {s.scenario for c in claims.claims for s in c.statistics()}
    scenarios = {}
    for name in claims.scenarios:
        if name not in needed:
            continue
        data, path = scenario_data(claims_path, name, claims.scenarios[name])
        scenarios[name] = scenario_from_dict(data, path)
    runs: dict[str, RunResult] = {}
    for name, scenario in scenarios.items():
        wrapped = (lambda label, f, n=name: progress(f"{n}: {label}", f)) if progress else None
        runs[name] = run_scenario(scenario, progress=wrapped)

    def records_of(name: str) -> pd.DataFrame:
        return runs[name].records

    return CheckOutcome(claims, [evaluate(c, records_of) for c in claims.claims], runs)


def claims_document(outcome: CheckOutcome, claims_path: Path) -> dict:
    return {
        "claims_file": str(claims_path),
        "title": outcome.claims.title,
        "passed": sum(r.verdict == "pass" for r in outcome.results),
        "known_discrepancies": sum(r.verdict == "known discrepancy" for r in outcome.results),
        "failed": len(outcome.failed),
        "claims": [r.as_dict() for r in outcome.results],
    }


def write_claims_json(outcome: CheckOutcome, claims_path: Path, path: Path) -> None:
    from simulator.atomic import atomic_write_text

    atomic_write_text(path, json.dumps(claims_document(outcome, claims_path), indent=2) + "\n")
