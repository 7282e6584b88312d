"""The self-contained HTML report of a run, built only from its results folder (``mercury-sim report``)."""

from __future__ import annotations

from pathlib import Path

from simulator.atomic import atomic_write_text
from simulator.report import figures
from simulator.report.html import (
    Section,
    claims_table,
    figure_block,
    page,
    provenance,
    run_details,
    summary_table,
)
from simulator.report.stored import StoredRun, load_run

REPORT_NAME = "report.html"
NO_TRACE = "No trace.parquet in the folder: bandwidth not shown."


def sections(run: StoredRun) -> list[Section]:
    """The report's sections in the order a reader needs them."""
    s, records, names = run.summary, run.records, run.schedules
    out = [
        Section("run", "What was run", run_details(run.manifest, s, run.scenario_yaml)),
        Section("summary", "Summary", summary_table(s)),
        Section("breakdown", "Latency breakdown", figure_block("breakdown", figures.breakdown_figure(s))),
        Section("latency-time", "Latency over time",
                figure_block("latency-time", figures.latency_time_figure(records, names, run.trace),
                             "" if run.trace is not None else NO_TRACE)),
        Section("latency-cdf", "Latency CDF",
                figure_block("latency-cdf", figures.latency_cdf_figure(records, names))),
        Section("accuracy-latency", "Accuracy vs latency",
                figure_block("accuracy-latency", figures.accuracy_latency_figure(s))),
        Section("energy", "Mobile energy", figure_block("energy", figures.energy_figure(s))),
        Section("provenance", "Provenance of inputs", provenance(run.manifest)),
    ]
    if run.claims is not None:
        out.append(Section("claims", "Paper claims", claims_table(run.claims)))
    return out


def render(run: StoredRun) -> str:
    """The report page of a stored run."""
    return page(f"mercury-sim report: {run.summary.get('scenario', run.folder.name)}", sections(run))


def write_report(results_dir: Path) -> Path:
    """(Re)write ``results_dir/report.html`` atomically from the stored results; returns its path."""
    run = load_run(Path(results_dir))
    target = Path(results_dir) / REPORT_NAME
    atomic_write_text(target, render(run))
    return target
