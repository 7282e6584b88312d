"""The optional extras (pyproject.toml) a command needs, checked before it does anything.

Without this a command whose extra is missing (``profile`` without torch) would fail deep inside with a
``ModuleNotFoundError`` traceback; instead it says in one line which extra to install, exit code 2.
Only ``importlib.util.find_spec`` is used, so the check imports nothing heavy.
"""

from __future__ import annotations

from importlib.util import find_spec

import typer

# extra -> (what to name in the message, the top-level modules it brings)
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ml": ("PyTorch and timm", ("torch", "timm")),
    "dask": ("Dask", ("dask", "distributed")),
    "emulate": ("pyroute2, PyTorch and timm", ("pyroute2", "torch", "timm")),
    "train": ("stable-baselines3, Gymnasium and PyTorch", ("stable_baselines3", "gymnasium", "torch")),
}


def _installed(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except ValueError:  # imported already, without a spec (a module made at run time): it is there
        return True


def missing_extra(extra: str) -> bool:
    """Whether any module of ``extra`` is absent."""
    return not all(_installed(m) for m in EXTRAS[extra][1])


def require_extra(command: str, extra: str) -> None:
    """One line on stderr and exit code 2 when ``mercury-sim COMMAND`` lacks the modules of ``extra``."""
    if missing_extra(extra):
        what = EXTRAS[extra][0]
        typer.echo(f'error: mercury-sim {command} needs {what}: pip install "mercury-sim[{extra}]"', err=True)
        raise typer.Exit(2)
