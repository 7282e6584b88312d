"""The ``mercury-sim`` command line.

Every command turns bad input into one line on stderr and exit code 2 (never a traceback); a failed
check exits 1. Command-line misuse (no command, an unknown command or option, a missing argument, a bad
value) prints the usage and one error line, exit 2, through the parser typer brings. The commands kept in
modules of their own (``compare``, ``catalog``, ``profile``, ``emulate``, the ``traces`` group mounted in
``_mount_subcommands``) sit beside this one in simulator/cli/; what a command drives loads when it runs, so
start-up stays short.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from simulator.cli import catalog as catalog_command
from simulator.cli import compare as compare_command
from simulator.cli import emulate as emulation_commands
from simulator.cli import profile as profile_command
from simulator.cli.command_line import command_line, record_command_line
from simulator.cli.plugins import PLUGIN_OPTION, command_plugins
from simulator.endings import Stopped, quiet_on_closed_pipes, silence_closed_pipes
from simulator.errors import InputError
from simulator.version import __version__

__all__ = ["app", "command_line", "main"]

app = typer.Typer(
    name="mercury-sim",
    help="Simulate mobile-cloud collaborative ViT inference over real-shaped 4G/5G uplink traces.",
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain usage errors: the usage, then one 'Error: ...' line
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"mercury-sim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Simulate mobile-cloud collaborative ViT inference over real-shaped 4G/5G uplink traces."""


_MOUNTED: list[bool] = []


def _mount_subcommands() -> None:
    """Mount the command groups, once per process; a new group is one more ``add_typer`` line here."""
    if _MOUNTED:
        return
    _MOUNTED.append(True)
    from simulator.cli.traces import app as traces_app

    app.add_typer(traces_app, name="traces", help="Import, export, synthesise and describe uplink traces.")
    from simulator.cli.policy import app as policy_app

    app.add_typer(policy_app, name="policy", help="Learned schedules: convert a trained model into a policy file.")


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the app, mapping input errors to one line and exit code 2.

    Usage errors are recognised by the interface every click copy gives them (``show`` and ``exit_code``),
    so the CLI does not depend on which click typer brings. Returns 0 on success (tests call it in-process).
    """
    args = list(argv) if argv is not None else sys.argv[1:]
    record_command_line(args)
    _mount_subcommands()
    with quiet_on_closed_pipes():  # '| head -1' ends the output, not the work: exit 0, not a word
        return _main(args)


def _main(args: list[str]) -> int:
    try:
        code = app(args=args, prog_name="mercury-sim", standalone_mode=False)
    except InputError as exc:
        _fail(exc.one_line())
    except Stopped as exc:  # interrupted: what was kept and how to go on
        typer.echo(str(exc), err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:  # an output folder on a read-only disk, a full disk, a vanished file ...
        if isinstance(exc, BrokenPipeError) and silence_closed_pipes():
            return 0
        where = f"{exc.filename}: " if exc.filename else ""
        _fail(f"{where}{exc.strerror or exc}")
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except Exception as exc:
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if show is None or not isinstance(exit_code, int):
            raise
        if getattr(exc, "ctx", False) is None:  # raised while parsing, before the command's usage was known
            words = " ".join(_command_words(args))
            typer.echo(f"Usage: mercury-sim {words} [OPTIONS] ...\nTry 'mercury-sim {words} --help' for help.\n"
                       .replace("  ", " "), err=True)
        show()
        sys.exit(exit_code)
    if isinstance(code, int) and code:
        if code == 130:  # the parser turns Ctrl-C into exit code 130
            typer.echo("interrupted", err=True)
        sys.exit(code)
    return 0


def _command_words(args: list[str]) -> list[str]:
    """The command path at the start of ``args`` (``traces synth``), for a usage line."""
    words: list[str] = []
    group = typer.main.get_command(app)
    for arg in args:
        commands = getattr(group, "commands", {})
        if arg not in commands:
            break
        words.append(arg)
        group = commands[arg]
    return words


def _fail(message: str) -> Any:
    typer.echo(f"error: {message}", err=True)
    sys.exit(2)


@app.command()
def run(
    scenario: str = typer.Argument(..., metavar="SCENARIO", help="Scenario YAML file (or a shipped name)"),
    output: str | None = typer.Option(None, "-o", "--output", help="Output folder (default reports/<name>/); "
                                      "new, empty or an earlier run's"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no table"),
    report: bool = typer.Option(True, "--report/--no-report", help="Also write report.html (default: yes)"),
    self_contained: bool = typer.Option(False, "--self-contained", help="Inline plotly.js in report.html"),
    seeds: str | None = typer.Option(None, "--seeds", help="Replicate over these seeds (1-10, 1,2,5 or 1-3,7) "
                                     "instead of workload.seed: the summary gives each statistic's mean over "
                                     "seeds with its 95 % interval"),
    plugin: list[str] | None = PLUGIN_OPTION,
) -> None:
    """Simulate every schedule of SCENARIO; write records, summary, manifest, trace window and report.html."""
    from pathlib import Path

    from simulator.cli.console import print_summary, progress_reporter
    from simulator.config.scenario import load_scenario
    from simulator.model.replications import parse_seeds, with_seeds
    from simulator.model.runner import run_scenario
    from simulator.results.outputs import guard_run_folder, write_run
    from simulator.schedules.plugins import with_plugin_files

    plugins = command_plugins(plugin)
    loaded = with_plugin_files(load_scenario(scenario), plugins)
    if seeds is not None:
        loaded = with_seeds(loaded, parse_seeds(seeds))
    out_dir = Path(output) if output else Path("reports") / loaded.name
    guard_run_folder(out_dir, [loaded.path] if loaded.path else [])  # refuse before simulating
    with progress_reporter(enabled=not quiet) as progress:
        result = run_scenario(loaded, progress=progress)
    for warning in result.warnings:  # first: what makes the numbers below doubtful
        typer.echo(f"warning: {warning}", err=True)
    write_run(result, out_dir, command=command_line(), report=report, self_contained=self_contained)
    if not quiet:
        print_summary(result)
        typer.echo(f"wrote {out_dir}/")


@app.command("report")
def report_command(
    results_dir: str = typer.Argument(..., metavar="RESULTS_DIR",
                                      help="A folder written by 'mercury-sim run', 'sweep' or 'compare'"),
    self_contained: bool = typer.Option(False, "--self-contained", help="Inline plotly.js in the page"),
) -> None:
    """Regenerate RESULTS_DIR/report.html (a run), sweep.html (a sweep) or compare.html from what it stores."""
    from pathlib import Path

    from simulator.files.output_guard import is_marker
    from simulator.report import write_report
    from simulator.results.outputs import MANIFEST

    folder = Path(results_dir)
    markers = (MANIFEST, "sweep.json", "compare.json")
    if folder.is_dir() and not any(is_marker(folder / name) for name in markers):  # missing: load_run says so
        raise InputError(folder, "not a folder written by 'mercury-sim run', 'sweep' or 'compare' "
                                 f"(no {', '.join(markers)} of ours)")
    typer.echo(f"wrote {write_report(folder, self_contained=self_contained)}")


@app.command()
def schema(
    plugin: list[str] | None = PLUGIN_OPTION,
) -> None:
    """Print the JSON Schema of a scenario file, with the keys of every registered schedule kind (the shipped
    plug-ins', the installed packages' and those of the --plugin files)."""
    import json

    from simulator.config.scenario import json_schema
    from simulator.schedules.plugins import plugin_schema

    command_plugins(plugin)
    typer.echo(json.dumps(plugin_schema(json_schema()), indent=2))


@app.command()
def check(
    claims: str = typer.Argument(..., metavar="CLAIMS", help="Claims YAML file (or a shipped name, "
                                 "such as paper)"),
    junit: str | None = typer.Option(None, "--junit", help="Write JUnit XML here"),
    output: str | None = typer.Option(None, "-o", "--output", help="Write each scenario's results and report, "
                                      "and claims.json, into this folder"),
    html: str | None = typer.Option(None, "--html", help="Write the claims page (HTML) here"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no table (the count stays)"),
    plugin: list[str] | None = PLUGIN_OPTION,
) -> None:
    """Run the scenarios a claims file needs and check every claim; exit 1 if any fails (a known
    discrepancy that still holds its pinned value passes). Writes only what -o, --html and --junit name."""
    from pathlib import Path

    from simulator.cli.console import claim_counts, print_claims, progress_reporter
    from simulator.inputs.data import file_or_shipped
    from simulator.studies.check import guard_check_outputs, run_check, write_check_outputs

    plugins = command_plugins(plugin)
    claims_path = file_or_shipped("claims", claims)
    guard_check_outputs(claims_path, junit=Path(junit) if junit else None,
                        output=Path(output) if output else None, html=Path(html) if html else None)
    with progress_reporter(enabled=not quiet) as progress:
        outcome = run_check(claims_path, progress=progress, plugins=plugins)
    write_check_outputs(outcome, claims_path, junit=Path(junit) if junit else None,
                        output=Path(output) if output else None, html=Path(html) if html else None,
                        command=command_line())
    if not quiet:
        print_claims(outcome.results)
    typer.echo(claim_counts(outcome.results))
    failed = outcome.failed
    if failed:
        typer.echo(f"{len(failed)} of {len(outcome.results)} claims failed: "
                   f"{', '.join(r.claim.id for r in failed)}", err=True)
        raise typer.Exit(1)


@app.command()
def sweep(
    sweep_file: str = typer.Argument(..., metavar="SWEEP",
                                     help="Sweep YAML file (a scenario and a grid of overrides)"),
    output: str | None = typer.Option(None, "-o", "--output", help="Output folder (default reports/<name>/); "
                                      "new, empty or an earlier sweep's"),
    workers: int | None = typer.Option(None, "--workers", "-j", min=1,
                                       help="Worker processes (default: this machine's CPUs)"),
    dask: str | None = typer.Option(None, "--dask", help="Run on the Dask scheduler at this address "
                                    "(tcp://host:8786), or 'local' for a local Dask cluster"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no table"),
    self_contained: bool = typer.Option(False, "--self-contained", help="Inline plotly.js in sweep.html"),
    plugin: list[str] | None = PLUGIN_OPTION,
) -> None:
    """Simulate every point of a parameter grid (resuming into an earlier run's folder); write the tables,
    sweep.json and sweep.html."""
    from pathlib import Path

    from simulator.cli.console import print_sweep, progress_reporter
    from simulator.cli.extras import require_extra
    from simulator.studies.executors import default_workers
    from simulator.studies.sweep import guard_sweep_folder, load_sweep, run_sweep, write_sweep

    if dask:
        require_extra("sweep --dask", "dask")
    loaded = load_sweep(sweep_file, command_plugins(plugin))
    out_dir = Path(output) if output else Path("reports") / loaded.spec.name
    guard_sweep_folder(loaded, out_dir)  # refuse before simulating
    for warning in loaded.warnings:
        typer.echo(f"warning: {warning}", err=True)
    n_workers = workers or default_workers()
    total, done = len(loaded.points), 0
    with progress_reporter(enabled=not quiet) as progress:
        def on_done() -> None:
            nonlocal done
            done += 1
            if progress:
                progress(f"{total} points", done / total)

        result = run_sweep(loaded, workers=n_workers, dask=dask, on_done=on_done, out_dir=out_dir)
    executor = f"dask {dask}" if dask else f"{n_workers} local process(es)"
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if len(result.table):
        write_sweep(loaded, result, out_dir, command=command_line(), executor=executor,
                    self_contained=self_contained)
        if not quiet:
            print_sweep(result.table, loaded.axes)
            typer.echo(f"wrote {out_dir}/ ({total} points: {result.computed} computed, {result.reused} reused; "
                       f"{executor})")
    failure = result.failure_error(loaded, out_dir if len(result.table) else None)
    if failure is not None:
        raise failure


@app.command()
def accuracy(
    model: str = typer.Option(..., "--model", help="timm model name (or example_vit_tiny_shapes)"),
    checkpoint: str = typer.Option(..., "--checkpoint", help=".safetensors or weights-only torch file"),
    data: str = typer.Option(..., "--data", help="ImageFolder root or CIFAR-100 'python' folder"),
    method: str = typer.Option("none", "--method", help="none | mercury | tome | janus | ats"),
    split_after: int = typer.Option(1, "--split-after", help="Blocks run on the mobile side"),
    grid: str = typer.Option("0", "--grid", help="Comma-separated parameters (rate, r or alpha)"),
    out: str = typer.Option("accuracy-measured.csv", "-o", "--out", help="Accuracy table to write"),
    reconstruction: str = typer.Option("none", "--reconstruction",
                                       help="none | learned | zero-pad | duplicate"),
    tokens: str | None = typer.Option(None, "--tokens", help="Learned tokens from train-reconstruction"),
    dataset_name: str | None = typer.Option(None, "--dataset-name", help="Dataset column (default: folder)"),
    split: str = typer.Option("test", "--split", help="Data split (CIFAR file or ImageFolder subfolder)"),
    batch_size: int = typer.Option(64, "--batch-size"),
    limit: int | None = typer.Option(None, "--limit", help="Evaluate only the first N images"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
    prune_point: str = typer.Option("after_block1", "--prune-point",
                                    help="Mercury: after_block1 | before_block1 (written as the rows' prune_point)"),
) -> None:
    """Measure top-1/top-5 of a token-reduction method on local data; write an accuracy table."""
    from pathlib import Path

    from simulator.cli.extras import require_extra

    require_extra("accuracy", "ml")
    from simulator.ml.commands import accuracy as run_accuracy

    run_accuracy(model, Path(checkpoint), Path(data), method, split_after, grid, Path(out), reconstruction,
                 Path(tokens) if tokens else None, dataset_name, split, batch_size, limit, quiet, prune_point,
                 tuple(command_line()))


@app.command("train-reconstruction")
def train_reconstruction(
    model: str = typer.Option(..., "--model"),
    checkpoint: str = typer.Option(..., "--checkpoint"),
    data: str = typer.Option(..., "--data", help="ImageFolder root or CIFAR-100 'python' folder"),
    split_after: int = typer.Option(1, "--split-after"),
    rates: str = typer.Option("0.75", "--rates", help="Comma-separated Mercury reduction rates"),
    out: str = typer.Option("reconstruction.safetensors", "-o", "--out"),
    steps: int = typer.Option(500, "--steps"),
    lr: float = typer.Option(3e-3, "--lr"),
    batch_size: int = typer.Option(64, "--batch-size"),
    split: str = typer.Option("train", "--split"),
    limit: int | None = typer.Option(None, "--limit"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Train Mercury's reconstruction tokens and heads (backbone frozen) per rate; save them (needs torch)."""
    from pathlib import Path

    from simulator.cli.extras import require_extra

    require_extra("train-reconstruction", "ml")
    from simulator.ml.commands import train_reconstruction as run_training

    run_training(model, Path(checkpoint), Path(data), split_after, rates, Path(out), steps, lr, batch_size,
                 split, limit, quiet)


# Measures on the host with torch/timm; those load only when the command runs.
app.command("profile")(profile_command.profile)
app.command("compare")(compare_command.compare)
app.command("catalog")(catalog_command.catalog)
app.command("emulate")(emulation_commands.emulate)
app.command("validate")(emulation_commands.validate)
