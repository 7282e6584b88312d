"""What the command-line layer shares with the commands it drives, in one small module without imports of
its own, so that ``simulator.cli.app`` and ``simulator.ml.commands`` both use it and neither imports the other.
"""

from __future__ import annotations

from collections.abc import Sequence

_ARGS: list[str] = []


def record_command_line(args: Sequence[str]) -> None:
    """Remember the arguments of this invocation (``main`` calls it before parsing)."""
    _ARGS[:] = list(args)


def command_line() -> list[str]:
    """The command as the user typed it (also when ``main`` is called in-process with its own argv)."""
    return ["mercury-sim", *_ARGS]
