"""Terminal output: the summary table and a progress bar that appears only on runs longer than ~2 s."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

    from simulator.runner import Progress as ProgressCallback
    from simulator.runner import RunResult

SHOW_AFTER_S = 2.0


@contextmanager
def progress_reporter(enabled: bool = True) -> Iterator[ProgressCallback | None]:
    """A callback (label, fraction) that draws a bar once the run has lasted SHOW_AFTER_S seconds."""
    if not enabled:
        yield None
        return
    started = time.monotonic()
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True), transient=True)
    tasks: dict[str, int] = {}
    shown = False

    def report(label: str, fraction: float) -> None:
        nonlocal shown
        if not shown:
            if time.monotonic() - started < SHOW_AFTER_S:
                return
            bar.start()
            shown = True
        if label not in tasks:
            tasks[label] = bar.add_task(label, total=1.0)
        bar.update(tasks[label], completed=fraction)

    try:
        yield report
    finally:
        if shown:
            bar.stop()


def _ms(value: float | None) -> str:
    return _number(value, ",.1f")


def print_summary(result: RunResult) -> None:
    """The per-schedule summary as a table on stdout."""
    deadline = result.scenario.workload.deadline_ms
    table = Table(title=f"{result.scenario.name} ({result.scenario.network.mode} mode)")
    for column in ("schedule", "done", "mean ms", "p50", "p95", "p99", "max", "top-1 %", "energy J"):
        table.add_column(column, justify="left" if column == "schedule" else "right")
    if deadline is not None:
        table.add_column(f"miss >{deadline:g} ms", justify="right")
    for name, s in result.summary.items():
        row = [name, f"{s['count']}/{s['requests']}", _ms(s["mean_ms"]), _ms(s["p50_ms"]), _ms(s["p95_ms"]),
               _ms(s["p99_ms"]), _ms(s["max_ms"]),
               "-" if s["mean_accuracy"] is None else f"{s['mean_accuracy']:.2f}",
               "-" if s["mean_energy_j"] is None else f"{s['mean_energy_j']:.3f}"]
        if deadline is not None:
            rate = s.get("deadline_miss_rate")
            row.append("-" if rate is None else f"{rate:.1%}")
        table.add_row(*row)
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 140)
    console.print(table)


def print_claims(results: list) -> None:
    """Claim / expected / simulated / verdict."""
    table = Table(title="claims")
    for column in ("id", "claim", "source", "role", "expected", "simulated", "verdict"):
        table.add_column(column, justify="right" if column == "simulated" else "left", overflow="fold")
    colours = {"pass": "green", "known discrepancy": "yellow", "fail": "red", "regression": "red", "error": "red"}
    for r in results:
        value = "-" if r.simulated != r.simulated else f"{r.simulated:.4g}"
        table.add_row(r.claim.id, r.claim.claim, r.claim.source, r.claim.role, r.claim.expect.describe(), value,
                      f"[{colours[r.verdict]}]{r.verdict}[/]")
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 160)
    console.print(table)


def print_sweep(table: pd.DataFrame, axes: list[str], limit: int = 40) -> None:
    """The sweep over seeds: a line per combination of the other axes and schedule, means with the
    half-width of their 95 % t interval."""
    from simulator.aggregate import seed_axes, summarise

    summary = summarise(table, axes)
    varied = [a for a in axes if a not in seed_axes(axes)]
    out = Table(title="sweep (mean over seeds ± 95 % t interval half-width)")
    for column in (*varied, "schedule", "seeds", "mean ms", "p95 ms", "top-1 %", "energy J", "chosen"):
        out.add_column(column, justify="left" if column in ("schedule", *varied) else "right")

    def cell(row: dict, key: str, spec: str) -> str:
        text = _number(row.get(key), spec)
        low, high = row.get(f"{key}_ci_low"), row.get(f"{key}_ci_high")
        if text != "-" and low is not None and low == low:
            text += f" ± {format((high - low) / 2, spec)}"
        return text

    for row in summary.head(limit).to_dict("records"):
        out.add_row(*(str(row[a]) for a in varied), str(row["schedule"]), str(row["n"]),
                    cell(row, "mean_ms", ",.1f"), cell(row, "p95_ms", ",.1f"), cell(row, "mean_accuracy", ".2f"),
                    cell(row, "mean_energy_j", ".3f"), _number(row.get("parameter"), ".3g"))
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 140)
    console.print(out)
    if len(summary) > limit:
        console.print(f"... {len(summary) - limit} more rows (sweep-summary.csv)")


def _number(value: float | None, spec: str) -> str:
    return "-" if value is None or value != value else format(value, spec)
