"""The whole command line as one click command, every group mounted: what tools that read click (the site's
generated command reference, mkdocs-click) need, since ``app`` alone lacks the groups ``main`` mounts."""

from __future__ import annotations

import click
import typer

from simulator.cli.app import _mount_subcommands, app

_mount_subcommands()

command: click.Command = typer.main.get_command(app)


def command_paths(group: click.Command = command, prefix: str = "mercury-sim") -> list[str]:
    """Every command's full name (``mercury-sim traces import``), groups included, in the CLI's order."""
    paths = [prefix]
    for name, sub in getattr(group, "commands", {}).items():
        if not sub.hidden:
            paths += command_paths(sub, f"{prefix} {name}")
    return paths
