"""The command as the user typed it, recorded by ``main`` before parsing, for what a command writes (manifests,
a table's provenance); a module without imports of its own, so every command module may use it. Layers below
the CLI are handed the command line instead (``simulator.ml.commands.accuracy(command=...)``).
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
