"""Terminal output: the tables (numbers always whole) and a progress bar that appears only on runs longer
than ~2 s."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from copy import copy
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, Group
from rich.markup import escape
from rich.measure import Measurement
from rich.padding import Padding
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Column, Table
from rich.text import Text

if TYPE_CHECKING:
    import pandas as pd

    from simulator.model.runner import Progress as ProgressCallback
    from simulator.model.runner import RunResult
    from simulator.studies.claims import ClaimResult

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


UNLIMITED = 1_000_000  # piped output's width: a table row stays one line, however long
NAME_FLOOR = 10  # a name column folds down to this many characters before a number's header must wrap


def table_console() -> Console:
    """A console for tables: the terminal's width (or COLUMNS when set); piped, no width limit, so a file or
    ``| cat`` gets every row on one line and every digit."""
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = UNLIMITED
    return console


def _width(console: Console, table: Table) -> int:
    unbounded = console.options.update_width(UNLIMITED)  # a table's measure is capped at the width it is given
    return Measurement.get(console, unbounded, table).maximum


def _fits(console: Console, table: Table) -> bool:
    return _width(console, table) <= console.width


def _plain(console: Console, cell: object) -> str | None:
    """A cell's text (markup rendered), or None for a renderable that is not text."""
    if isinstance(cell, str):
        return console.render_str(cell).plain
    return cell.plain if isinstance(cell, Text) else None


def _is_number(text: str | None) -> bool:
    try:
        float((text or "").replace(",", "").removesuffix("%"))
    except ValueError:
        return False
    return True


def _is_numeric(console: Console, column: Column) -> bool:
    """Right-aligned columns hold numbers (the project's convention), and so does a column of numbers only."""
    if column.justify == "right":
        return True
    cells = [_plain(console, cell) for cell in column.cells]
    return bool(cells) and all(_is_number(text) for text in cells)


def keep_numbers_whole(console: Console, table: Table) -> int:
    """Lay ``table`` out so that no number is cut, wrapped or ellipsized; returns the width it needs.

    A number's column is at least as wide as its widest cell and never wraps (only its header may, at
    spaces); names fold instead of losing characters. When the table is wider than the console, numbers'
    headers wrap and names fold down to NAME_FLOOR characters; the width returned is what that takes.
    """
    numbers = [c for c in table.columns if _is_numeric(console, c)]
    names = [c for c in table.columns if c not in numbers]
    unbounded = console.options.update_width(UNLIMITED)  # a cell wider than the console is measured whole
    for column in numbers:
        column.no_wrap = True
        column.min_width = max((Measurement.get(console, unbounded, cell).maximum for cell in column.cells), default=0)
        header = console.render_str(column.header) if isinstance(column.header, str) else column.header
        if isinstance(header, Text):
            header.no_wrap, header.justify = False, column.justify  # the header wraps; the numbers do not
            column.header = header
    for column in names:
        column.no_wrap, column.overflow = False, "fold"
    if _fits(console, table):
        return _width(console, table)
    for column in numbers:
        words = (_plain(console, column.header) or "").split()
        column.max_width = max([column.min_width or 0, *(cell_len(w) for w in words)])
    kept = [column.max_width for column in names]
    for column in names:
        column.max_width = NAME_FLOOR if column.max_width is None else min(column.max_width, NAME_FLOOR)
    needed = _width(console, table)
    for column, max_width in zip(names, kept, strict=True):
        column.max_width = max_width
    return needed


def column_sections(console: Console, table: Table, key: int) -> list[Table]:
    """``table`` cut into tables stacked one under another, each with its first ``key`` columns (the row's
    names) and as many of the others, in order, as fit the console whole; the title goes on the first, the
    caption on the last. A column too wide for a section of its own gets one, and folds as print_table's do."""
    keys, rest = table.columns[:key], table.columns[key:]
    groups: list[list[Column]] = []
    for column in rest:
        if groups and _compact_width(console, _section(table, keys + groups[-1] + [column])) <= console.width:
            groups[-1].append(column)
        else:
            groups.append([column])
    sections = [_section(table, keys + group) for group in groups]
    for i, section in enumerate(sections):
        section.title = table.title if i == 0 else None
        section.caption = table.caption if i == len(sections) - 1 else None
    return sections


def _compact_width(console: Console, table: Table) -> int:
    """The width ``table`` takes with its numbers whole, their headers wrapped at spaces where needed, and
    its names unfolded (a copy is laid out: ``table`` stays as it is)."""
    trial = _section(table, table.columns)
    keep_numbers_whole(console, trial)  # sets the numbers' widths; the names' are back as they were
    return _width(console, trial)


def _section(table: Table, columns: list[Column]) -> Table:
    """A copy of ``table`` with only ``columns`` (copies, so laying one section out leaves the others be)."""
    section = copy(table)
    section.columns = [replace(column, _cells=list(column.cells)) for column in columns]
    section.rows = list(table.rows)
    return section


def print_table(table: Table, console: Console | None = None, narrow: Table | list[Table] | None = None,
                key: int = 0) -> None:
    """Print ``table`` with every number whole (:func:`keep_numbers_whole`); ``narrow`` (a table, or tables
    printed one under another) stands in for a table too wide for the console, and a table still too wide is
    cut into sections that repeat its first ``key`` columns (:func:`column_sections`; ``key=0``: never cut).
    When not even that fits, the lines outgrow the console rather than a number lose a digit."""
    console = console or table_console()
    tables = [table]
    if narrow is not None and not _fits(console, table):
        tables = narrow if isinstance(narrow, list) else [narrow]
    if key > 0:
        tables = [section for t in tables for section in (
            column_sections(console, t, key) if key < len(t.columns) and _compact_width(console, t) > console.width
            else [t])]
    for i, shown in enumerate(tables):
        if i:
            console.print()
        _print_whole(console, shown)


def _print_whole(console: Console, table: Table) -> None:
    """One table, its numbers whole, wider than the console where that is what they take."""
    needed = keep_numbers_whole(console, table)
    width = console.width
    console.width = max(width, needed)
    try:
        console.print(table)
    finally:
        console.width = width


SUMMARY_NARROW_DROPS = ("p50", "p99", "max")  # below the full table's width; p95 and the mean stay


def summary_table(result: RunResult, narrow: bool = False) -> Table:
    """The per-schedule summary; ``narrow`` drops the columns a reader misses least and the frame."""
    deadline = result.scenario.workload.deadline_ms
    columns = ["schedule", "done", "mean ms", "p50", "p95", "p99", "max", "top-1 %", "energy J"]
    if deadline is not None:
        columns.append(f"miss >{deadline:g} ms")
    shown = [c for c in columns if not (narrow and c in SUMMARY_NARROW_DROPS)]
    seeds = len(result.seeds)
    over = f", mean over {seeds} seeds ± 95 % t half-width" if seeds > 1 else ""
    table = Table(title=f"{result.scenario.name} ({result.scenario.network.mode} mode{over})",
                  box=box.SIMPLE_HEAD if narrow else box.HEAVY_HEAD)
    for column in shown:
        table.add_column(column, justify="left" if column == "schedule" else "right")
    for name, s in result.summary.items():
        def shown_value(key: str, spec: str, entry: dict[str, Any] = s) -> str:
            ci = entry.get(f"{key}_ci") or (None, None)
            return with_interval(entry.get(key), ci[0], ci[1], spec, n=entry.get(f"{key}_n", seeds), of=seeds)

        cells = dict(zip(columns, [
            name, f"{s['count']}/{s['requests']}", shown_value("mean_ms", ",.1f"), shown_value("p50_ms", ",.1f"),
            shown_value("p95_ms", ",.1f"), _ms(s["p99_ms"]), _ms(s["max_ms"]), _number(s["mean_accuracy"], ".2f"),
            _energy(s), shown_value("deadline_miss_rate", ".1%")], strict=False))
        table.add_row(*(cells[c] for c in shown))
    return table


def print_summary(result: RunResult) -> None:
    """The per-schedule summary as a table on stdout: fewer columns when the terminal is narrow, and those in
    sections under one another (each naming the schedule) when the intervals over seeds need more room."""
    print_table(summary_table(result), narrow=summary_table(result, narrow=True), key=1)


CLAIMS_TABLE_MIN_WIDTH = 120  # below it the claim texts wrap to a few words a line: a list reads better
VERDICT_COLOURS = {"pass": "green", "known discrepancy": "yellow", "fail": "red", "regression": "red",
                   "error": "red"}


def claims_table(results: list[ClaimResult]) -> Table:
    """Claim / expected / simulated / verdict, one row per claim."""
    table = Table(title="claims")
    for column in ("id", "claim", "source", "role", "expected", "simulated", "verdict"):
        table.add_column(column, justify="right" if column == "simulated" else "left", overflow="fold")
    for r in results:
        table.add_row(r.claim.id, escape(r.claim.claim), r.claim.source, r.claim.role, r.claim.expect.describe(),
                      _simulated(r), _verdict(r))
    return table


def claims_list(results: list[ClaimResult]) -> Group:
    """The claims for a narrow terminal: per claim, its id and verdict, then the claim and the numbers."""
    blocks = []
    for r in results:
        blocks.append(Text.from_markup(f"[bold]{escape(r.claim.id)}[/]  {_verdict(r)}", overflow="fold"))
        blocks.append(Padding(Text(f"{r.claim.claim} ({r.claim.source}, {r.claim.role}): expected "
                                   f"{r.claim.expect.describe()}, simulated {_simulated(r)}"), (0, 0, 0, 2)))
    return Group(*blocks)


def _simulated(r: ClaimResult) -> str:
    return "-" if r.simulated != r.simulated else f"{r.simulated:.4g}"


def _verdict(r: ClaimResult) -> str:
    return f"[{VERDICT_COLOURS[r.verdict]}]{r.verdict}[/]"


def claim_counts(results: list[ClaimResult]) -> str:
    """``36 claims: 21 pass, 15 known discrepancy, 0 fail`` (fail counts regressions and errors too)."""
    passed = sum(r.verdict == "pass" for r in results)
    known = sum(r.verdict == "known discrepancy" for r in results)
    return f"{len(results)} claims: {passed} pass, {known} known discrepancy, {len(results) - passed - known} fail"


def print_claims(results: list[ClaimResult]) -> None:
    """The claims table, or a list of them on a terminal narrower than CLAIMS_TABLE_MIN_WIDTH."""
    console = table_console()
    if console.width >= CLAIMS_TABLE_MIN_WIDTH:
        print_table(claims_table(results), console)
    else:
        console.print(claims_list(results))


def print_sweep(table: pd.DataFrame, axes: list[str], limit: int = 40) -> None:
    """The sweep over seeds: a line per combination of the other axes and schedule, means with the
    half-width of their 95 % t interval (its bounds where clipped to the statistic's range, so never an
    impossible value) and the count of seeds with a value where some have none."""
    from simulator.analysis.aggregate import summarise
    from simulator.config.sweep_axes import axis_columns, seed_axes

    summary = summarise(table, axes)
    varied = axis_columns(a for a in axes if a not in seed_axes(axes))  # a paired axis: a column per key
    out = Table(title=escape("sweep (mean over seeds ± 95 % t half-width, or [low, high] where clipped to the "
                             "statistic's range; n=k: only k seeds have a value)"))
    for column in (*varied, "schedule", "seeds", "mean ms", "p95 ms", "top-1 %", "energy J", "chosen"):
        out.add_column(column, justify="left" if column in ("schedule", *varied) else "right")

    def cell(row: dict, key: str, spec: str) -> str:
        return with_interval(row.get(key), row.get(f"{key}_ci_low"), row.get(f"{key}_ci_high"), spec,
                             n=row.get(f"{key}_n", row["n"]), of=row["n"])

    for row in summary.head(limit).to_dict("records"):
        out.add_row(*(str(row[a]) for a in varied), str(row["schedule"]), str(row["n"]),
                    cell(row, "mean_ms", ",.1f"), cell(row, "p95_ms", ",.1f"), cell(row, "mean_accuracy", ".2f"),
                    cell(row, "mean_energy_j", ".3f"), _number(row.get("parameter"), ".3g"))
    console = table_console()
    print_table(out, console, key=len(varied) + 1)  # too wide: sections, each naming the configuration
    if len(summary) > limit:
        console.print(f"... {len(summary) - limit} more rows (sweep-summary.csv)")


def with_interval(mean: float | None, low: float | None, high: float | None, spec: str, *, n: int = 0,
                  of: int = 0) -> str:
    """``mean ± half-width``, or ``mean [low, high]`` where the interval was clipped to the statistic's range
    (so never an impossible value), with ``(n=k)`` when only k of the ``of`` seeds have a value."""
    text = _number(mean, spec)
    if text != "-" and low is not None and low == low and high is not None and high == high:
        assert mean is not None
        symmetric = math.isclose(high - mean, mean - low, rel_tol=1e-9, abs_tol=1e-12 * abs(mean))
        text += f" ± {format((high - low) / 2, spec)}" if symmetric else f" [{format(low, spec)}, {format(high, spec)}]"
    if text != "-" and n < of:
        text += f" (n={n})"
    return text


def _number(value: float | None, spec: str) -> str:
    return "-" if value is None or value != value else format(value, spec)


def _energy(entry: dict[str, Any]) -> str:
    """A schedule's mean energy; "unknown" (not "-" nor 0) when its profile does not state the power."""
    return "unknown" if entry.get("energy_unknown") else _number(entry["mean_energy_j"], ".3f")
