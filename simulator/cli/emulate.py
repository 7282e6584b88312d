"""The ``emulate`` and ``validate`` commands; ``simulator.cli.app`` registers them (heavy imports stay inside)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from simulator.cli.plugins import PLUGIN_OPTION, command_plugins
from simulator.errors import InputError

if TYPE_CHECKING:
    from simulator.config.scenario import Scenario


def _root_or_exit(command: str) -> None:
    """Root and the emulate extra (pyroute2, torch, timm), or one line and exit code 2 before anything is
    created."""
    import os

    from simulator.cli.extras import require_extra

    if os.geteuid() != 0:
        typer.echo("error: emulation needs root (network namespaces and qdiscs); run it with sudo", err=True)
        raise typer.Exit(2)
    require_extra(command, "emulate")


@contextmanager
def _testbed_failure() -> Iterator[None]:
    """A failed testbed (a worker died or stayed silent) is one line and exit code 1, after the cleanup; an
    interrupted one (Ctrl-C, SIGTERM, SIGHUP) says so and exits as every command does (128 + the signal)."""
    from simulator.emulation.testbed import EmulationError
    from simulator.endings import Stopped, exit_code

    try:
        yield
    except EmulationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt as exc:
        raise Stopped("interrupted: the testbed (namespaces, qdiscs, workers) was removed", exit_code(exc)) from None


def _progress(quiet: bool):  # noqa: ANN202 (a callable or None)
    return None if quiet else (lambda label, f: typer.echo(f"  {label}: {'started' if f == 0 else 'done'}",
                                                          err=True))


def one_seed(loaded: Scenario, command: str) -> Scenario:
    """The testbed replays one run: a scenario replicated over seeds is refused with one line."""
    if len(loaded.workload.seeds) > 1:
        raise InputError(loaded.path, f"{command} replays one run on the testbed; give one seed (a list of "
                         f"{len(loaded.workload.seeds)} replicates only simulated runs)", "workload.seed")
    return loaded


def emulate(
    scenario: str = typer.Argument(..., help="Scenario YAML file"),
    output: str | None = typer.Option(None, "-o", "--output",
                                      help="Output folder (default reports/<name>-emulated/)"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
    report: bool = typer.Option(True, "--report/--no-report", help="Also write report.html (default: yes)"),
    plugin: list[str] | None = PLUGIN_OPTION,
) -> None:
    """Execute SCENARIO's schedules on the emulated testbed (root); write records like 'run' does."""
    import json
    from pathlib import Path

    from simulator.cli.command_line import command_line
    from simulator.config.scenario import load_scenario
    from simulator.schedules.plugins import with_plugin_files

    loaded = one_seed(with_plugin_files(load_scenario(scenario), command_plugins(plugin)), "emulate")
    _root_or_exit("emulate")
    from simulator.cli.console import print_summary
    from simulator.emulation.testbed import emulate_scenario, facts_text
    from simulator.results.outputs import guard_run_folder, write_run

    out_dir = Path(output) if output else Path("reports") / f"{loaded.name}-emulated"
    guard_run_folder(out_dir, [loaded.path] if loaded.path else [])  # before minutes of emulation, not after
    with _testbed_failure():
        result = emulate_scenario(loaded, progress=_progress(quiet))
    write_run(result.run, out_dir, command=command_line(), report=report,
              extra={"emulation.json": json.dumps(result.facts, indent=2) + "\n"})
    for warning in result.run.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if not quiet:
        print_summary(result.run)
        for line in facts_text(result.facts):
            typer.echo(line)
        typer.echo(f"wrote {out_dir}/")


def validate(
    scenario: str = typer.Argument(..., help="Scenario YAML file"),
    output: str | None = typer.Option(None, "-o", "--output",
                                      help="Output folder (default reports/<name>-validation/)"),
    fresh: bool = typer.Option(False, "--fresh", help="Re-measure this host's profile right before the emulation"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
    plugin: list[str] | None = PLUGIN_OPTION,
) -> None:
    """Simulate and emulate SCENARIO (same seed); write comparison.csv and validation.html (root)."""
    from pathlib import Path

    from simulator.config.scenario import load_scenario
    from simulator.schedules.plugins import with_plugin_files

    loaded = one_seed(with_plugin_files(load_scenario(scenario), command_plugins(plugin)), "validate")
    _root_or_exit("validate")
    from simulator.cli.command_line import command_line
    from simulator.emulation.validate import print_comparison, run_validation

    out_dir = Path(output) if output else Path("reports") / f"{loaded.name}-validation"
    with _testbed_failure():
        validation = run_validation(loaded, out_dir, fresh=fresh, progress=_progress(quiet), command=command_line())
    if not quiet:
        print_comparison(validation.table, typer.echo, validation.speed, validation.drift_removed,
                         validation.other_compute, validation.other_variability)
        typer.echo(f"wrote {out_dir}/")
