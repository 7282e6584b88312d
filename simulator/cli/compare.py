"""``mercury-sim compare RUN_A RUN_B [...]``: the console table and the comparison folder.

Kept apart from :mod:`simulator.cli.app` (which mounts it) so the command line starts without pandas or plotly.
"""

from __future__ import annotations

from typing import Annotated

import typer

from simulator.cli.plugins import PLUGIN_OPTION, command_plugins


def compare(
    runs: Annotated[list[str], typer.Argument(metavar="RUNS", help="Run folders ('mercury-sim run' outputs) or sweep "
                                              "folders; the first is the baseline")],
    output: str | None = typer.Option(None, "-o", "--output",
                                      help="Folder for compare.html, .csv, .json (default reports/compare-A-vs-B/, "
                                           "A and B the run folders' names); new, empty or an earlier "
                                           "comparison's"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No table"),
    self_contained: bool = typer.Option(False, "--self-contained", help="Inline plotly.js in compare.html"),
    plugin: list[str] | None = PLUGIN_OPTION,
) -> None:
    """Per schedule, each run's difference from the first in mean, p50, p95, deadline misses, accuracy and
    energy, with 95 % t intervals over seeds (paired by seed when both ran the same seeds; none for a run of
    one seed). A sweep folder counts as one run per configuration of its non-seed axes. A --plugin file is
    only loaded (compare builds no schedule), so a script may pass every command the same options."""
    from pathlib import Path

    from simulator.analysis.compare import one_seed_note
    from simulator.cli.command_line import command_line
    from simulator.results.comparison import compare_runs, guard_compare_folder, write_comparison

    command_plugins(plugin)
    loaded, table = compare_runs(runs)
    folders = [run.folder.resolve().name for run in loaded[:2]]  # names of existing folders: safe path parts
    default = "compare-" + "-vs-".join(folders) + ("-etc" if len(loaded) > 2 else "")
    out_dir = Path(output) if output else Path("reports") / default
    guard_compare_folder(out_dir, loaded)  # refuse before writing
    write_comparison(loaded, table, out_dir, command=command_line(), self_contained=self_contained)
    note = one_seed_note(loaded)
    if note:
        typer.echo(f"note: {note}", err=True)
    if not quiet:
        print_comparison(table)
        typer.echo(f"wrote {out_dir}/")


def print_comparison(table) -> None:  # noqa: ANN001 (a DataFrame; pandas stays out of start-up)
    """One table, a row per run, schedule and statistic; on a console too narrow for it, a table per run with
    its method in the title (where one method served every row) and a heading row per schedule."""
    from rich.table import Table

    from simulator.analysis.compare import METHOD_NOTE, STATISTICS
    from simulator.cli.console import print_table

    records = table.to_dict("records")
    out = Table(title="run − baseline", caption=METHOD_NOTE)
    for column in ("run", "schedule", "statistic", "baseline", "run value", "difference", "95 % interval",
                   "method"):
        out.add_column(column, justify="left" if column in ("run", "schedule", "statistic", "method") else "right")
    for row in records:
        out.add_row(row["run"], row["schedule"], STATISTICS[row["statistic"]], *_numbers(row), row["method"])
    runs = list(dict.fromkeys(row["run"] for row in records))
    narrow = [_run_table(run, [row for row in records if row["run"] == run]) for run in runs]
    if narrow:
        narrow[-1].caption = METHOD_NOTE
    print_table(out, narrow=narrow, key=1)


def _run_table(run: str, records: list[dict]):  # noqa: ANN202 (a rich Table; rich stays out of start-up)
    """One run's rows for a narrow console: the statistics under a heading row per schedule."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from simulator.analysis.compare import STATISTICS

    methods = {row["method"] for row in records}
    title = f"{run} − baseline" + (f", {next(iter(methods))}" if len(methods) == 1 else "")
    out = Table(title=escape(title), box=box.SIMPLE_HEAD)
    columns = ["statistic", "baseline", "run value", "difference", "95 % interval"]
    for column in columns + (["method"] if len(methods) > 1 else []):
        out.add_column(column, justify="left" if column in ("statistic", "method") else "right")
    for schedule in dict.fromkeys(row["schedule"] for row in records):
        out.add_row(f"[bold]{escape(schedule)}[/]")
        for row in records:
            if row["schedule"] == schedule:
                method = [row["method"]] if len(methods) > 1 else []
                out.add_row(f"  {STATISTICS[row['statistic']]}", *_numbers(row), *method)
    return out


def _numbers(row: dict) -> list[str]:
    """A row's baseline, run value, difference and interval as both tables show them."""
    spec = ".2%" if row["statistic"] == "deadline_miss_rate" else ",.4g"
    a, b, difference, low, high = (_shown(row[k], spec) for k in ("a", "b", "difference", "ci_low", "ci_high"))
    return [a, b, difference, f"[{low}, {high}]"]


def _shown(value: float, spec: str) -> str:
    return "-" if value != value else format(value, spec)
