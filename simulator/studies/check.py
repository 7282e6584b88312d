"""``mercury-sim check``: run every scenario a claims file needs once, evaluate the claims, write results."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simulator.config.scenario import scenario_from_dict
from simulator.model.runner import Progress, RunResult, run_scenario
from simulator.schedules.plugins import with_plugin_files
from simulator.studies.claims import ClaimResult, ClaimsFile, evaluate, load_claims, scenario_data


@dataclass
class CheckOutcome:
    claims: ClaimsFile
    results: list[ClaimResult]
    runs: dict[str, RunResult]

    @property
    def failed(self) -> list[ClaimResult]:
        return [r for r in self.results if r.failed]


def run_check(claims_path: Path, *, progress: Progress | None = None, plugins: Sequence[Path] = ()) -> CheckOutcome:
    """Load and validate everything first (bad input fails before any simulation), then simulate.

    ``plugins``: plugin files (``--plugin``) every scenario of the claims file loads besides its own.
    """
    claims = load_claims(claims_path)
    needed = {s.scenario for c in claims.claims for s in c.statistics()}
    scenarios = {}
    for name in claims.scenarios:
        if name not in needed:
            continue
        data, path = scenario_data(claims_path, name, claims.scenarios[name])
        scenarios[name] = with_plugin_files(scenario_from_dict(data, path), plugins)
    runs: dict[str, RunResult] = {}
    for name, scenario in scenarios.items():
        wrapped = (lambda label, f, n=name: progress(f"{n}: {label}", f)) if progress else None
        runs[name] = run_scenario(scenario, progress=wrapped)

    def records_of(name: str) -> pd.DataFrame:
        return runs[name].records

    return CheckOutcome(claims, [evaluate(c, records_of) for c in claims.claims], runs)


def claims_document(outcome: CheckOutcome, claims_path: Path) -> dict:
    from simulator.version import __version__

    return {
        "mercury_sim_version": __version__,
        "claims_file": str(claims_path),
        "title": outcome.claims.title,
        "passed": sum(r.verdict == "pass" for r in outcome.results),
        "known_discrepancies": sum(r.verdict == "known discrepancy" for r in outcome.results),
        "failed": len(outcome.failed),
        "claims": [r.as_dict() for r in outcome.results],
    }


def guard_check_outputs(claims_path: Path, *, junit: Path | None = None, output: Path | None = None,
                        html: Path | None = None) -> None:
    """Refuse, before anything runs, an output that would replace what mercury-sim did not write.

    ``-o`` is written into, never replaced: it must be new, empty or an earlier check's folder (its
    claims.json and the scenarios' run folders); each scenario's folder must be new or an earlier run's.
    """
    from simulator.files.output_guard import guard_file, guard_folder, names_mercury_sim
    from simulator.results.outputs import guard_run_folder, is_run_folder

    claims = load_claims(claims_path)
    for path in (junit, html):
        if path is not None:
            guard_file(path, inputs=[claims_path], ours=names_mercury_sim)
    if output is not None:
        guard_folder(output, marker="claims.json", written={"claims.json"}, inputs=[claims_path],
                     subfolder=is_run_folder)
        for name in claims.scenarios:
            guard_run_folder(output / name, [claims_path])


def write_check_outputs(outcome: CheckOutcome, claims_path: Path, *, junit: Path | None = None,
                        output: Path | None = None, html: Path | None = None,
                        command: list[str] | None = None) -> None:
    """JUnit XML; per scenario its results, its claims and its report; the claims document and page."""
    from simulator.files.atomic import atomic_write_bytes, atomic_write_text
    from simulator.report import REPORT_NAME
    from simulator.report.claims_page import claims_sections, write_claims_page
    from simulator.results.outputs import write_run
    from simulator.studies.claims import junit_xml

    document = claims_document(outcome, claims_path)
    if junit is not None:
        atomic_write_bytes(junit, junit_xml(outcome.results, claims_path.stem))
    reports: dict[str, Path] = {}
    if output is not None:
        for name, result in outcome.runs.items():
            mine = [r.as_dict() for r in outcome.results
                    if any(s.scenario == name for s in r.claim.statistics())]
            folder = write_run(result, output / name, command=command, claims=mine, report=True)
            reports[name] = folder / REPORT_NAME
        atomic_write_text(output / "claims.json", json.dumps(document, indent=2) + "\n")
    if html is not None:
        title = outcome.claims.title or claims_path.stem
        write_claims_page(html, title, claims_sections(document, reports, html))
