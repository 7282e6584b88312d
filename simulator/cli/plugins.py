"""``--plugin FILE`` (repeatable) of the commands that build schedules: each file is loaded at once (a broken
one is one line before anything runs), then added to the scenarios the command runs, so it travels with them
to worker processes and is hashed with their inputs (simulator/schedules/plugins.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from simulator.errors import InputError

PLUGIN_HELP = ("Python file registering schedule kinds of your own (repeatable); as the scenario key plugins, "
               "but relative to the working directory")


# The option of run, sweep, check, emulate and validate (schema and compare word their help their own way).
PLUGIN_OPTION: Any = typer.Option(None, "--plugin", metavar="FILE", help=PLUGIN_HELP)


def command_plugins(files: list[str] | None) -> list[Path]:
    """Load every ``--plugin`` file; their absolute paths, for the scenarios the command runs."""
    from simulator.schedules.plugins import load_plugin_file, plugin_path

    paths = []
    for value in files or []:
        path = plugin_path(value, None)
        if not path.is_file():
            raise InputError(value, "plugin file not found", "--plugin")
        load_plugin_file(path)
        paths.append(path)
    return paths
