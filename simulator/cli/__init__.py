"""Every command of ``mercury-sim`` and the console tables.

* ``app``: the command line itself (``main``, the pyproject entry point) and the commands that drive the
  layers below: ``run``, ``check``, ``sweep``, ``report``, ``schema``, ``accuracy``, ``train-reconstruction``;
* one module per command kept apart so start-up stays short: ``compare``, ``profile``, ``emulate``
  (``emulate`` and ``validate``), ``traces`` (the ``traces`` group);
* ``console``: the summary, sweep and claims tables and the progress bar; ``command_line``: the command as
  typed, for what a command writes; ``extras``: the optional extras a command needs, checked first.

How a command ends on a closed pipe or a signal is :mod:`simulator.endings` (a sweep needs it too).

May import: every layer below it, including :mod:`simulator.ml` and :mod:`simulator.emulation` (inside the
commands that use them, so torch loads only when they run). Nothing below imports this package.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """``simulator.cli.main`` (the entry point of installs made before the app moved to ``simulator.cli.app``),
    imported only when asked for."""
    if name == "main":
        from simulator.cli.app import main

        return main
    raise AttributeError(name)
