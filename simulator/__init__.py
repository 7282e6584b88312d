"""mercury-sim: discrete-event simulation of mobile-cloud collaborative Vision Transformer inference.

The notebook API: ``scenario = load_scenario(path)`` then ``records, summary = run(scenario)``.
Imports stay light: nothing here pulls in torch or timm (that lives in ``simulator.ml``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from simulator.runner import run
    from simulator.scenario import load_scenario

__all__ = ["__version__", "load_scenario", "run"]


def __getattr__(name: str) -> Any:
    if name == "load_scenario":
        from simulator.scenario import load_scenario

        return load_scenario
    if name == "run":
        from simulator.runner import run

        return run
    raise AttributeError(name)
