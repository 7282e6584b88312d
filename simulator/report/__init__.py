"""The HTML pages, built only from what a results folder stores (``mercury-sim report``): a run's report,
a sweep's, a comparison's and a claims check's, their figures and the plotly bundle they load.

May import: every layer below it; the pages read only what a folder stores, so today they need ``errors``,
``files``, ``traces`` (the replayed trace window), ``config`` and ``analysis``, never the model that made it.
It sits below :mod:`simulator.results`, which writes a run's page into the run's folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulator.files.atomic import atomic_write_text
from simulator.report import figures
from simulator.report.html import (
    Section,
    claims_table,
    figure_block,
    input_files,
    page,
    plotly_loader,
    preformatted,
    provenance,
    run_details,
    summary_table,
    warnings_block,
)
from simulator.report.stored import StoredRun, load_run

REPORT_NAME = "report.html"
NO_TRACE = "No trace.parquet in the folder: bandwidth not shown."


def sections(run: StoredRun) -> list[Section]:
    """The report's sections, the answer first: the summary, the latency CDF against the deadline (which
    schedule is fastest, how often each meets it), the other figures; what ran and its inputs last."""
    s, records, names = run.summary, run.records, run.schedules
    claims = [Section("claims", "Paper claims", claims_table(run.claims))] if run.claims is not None else []
    return [
        Section("summary", "Summary", summary_table(s)),
        Section("warnings", "Warnings", warnings_block(s)),
        Section("latency-cdf", "Latency CDF",
                figure_block("latency-cdf", figures.latency_cdf_figure(records, names, s.get("deadline_ms")))),
        Section("breakdown", "Latency breakdown", figure_block("breakdown", figures.breakdown_figure(s))),
        Section("latency-time", "Latency over time",
                figure_block("latency-time", figures.latency_time_figure(records, names, run.trace),
                             "" if run.trace is not None else NO_TRACE)),
        Section("accuracy-latency", "Accuracy vs latency",
                figure_block("accuracy-latency", figures.accuracy_latency_figure(s))),
        Section("energy", "Mobile energy", figure_block("energy", figures.energy_figure(s), energy_note(s))),
        *claims,
        Section("run", "What was run", run_details(run.manifest, s)),
        Section("provenance", "Provenance of inputs", input_files(run.manifest) + provenance(run.manifest)),
        Section("scenario", "Resolved scenario", preformatted(run.scenario_yaml)),
    ]


def energy_note(summary: dict[str, Any]) -> str:
    """What the energy figure leaves out: the schedules whose energy is unknown, and where to read why."""
    unknown = figures.energy_unknown(summary)
    return (f"Energy unknown, not shown: {', '.join(unknown)} (the mobile profile states no power for a part of "
            "it; the run's warnings name the keys)." if unknown else "")


def render(run: StoredRun, **loader: object) -> str:
    """The report page of a stored run (``loader``: how it loads plotly.js, see ``plotly_loader``)."""
    return page(f"mercury-sim report: {run.summary.get('scenario', run.folder.name)}", sections(run), **loader)


def write_report(results_dir: Path, *, self_contained: bool = False) -> Path:
    """(Re)write the page of a results folder atomically from what it stores; returns its path.

    A run's folder gets ``report.html``, a sweep's ``sweep.html``, a comparison's ``compare.html``. Unless
    ``self_contained``, plotly.js is loaded from a bundle file beside the page, written once per folder.
    """
    folder = Path(results_dir)
    if (folder / "sweep.json").is_file():
        from simulator.report.sweep_page import write_sweep_page

        return write_sweep_page(folder, self_contained=self_contained)
    if (folder / "compare.json").is_file():
        from simulator.report.compare_page import write_compare_page

        return write_compare_page(folder, self_contained=self_contained)
    run = load_run(folder)
    target = folder / REPORT_NAME
    atomic_write_text(target, render(run, **plotly_loader(folder, self_contained)))
    return target
