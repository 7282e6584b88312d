"""mercury-sim: discrete-event simulation of mobile-cloud collaborative Vision Transformer inference.

The notebook API: ``scenario = load_scenario(path)`` then ``records, summary = run(scenario)``;
``run_scenario(scenario)`` returns the whole result (records, summary, warnings, the inputs it resolved), and
``register_schedule(kind, builder, config_model)`` adds a schedule of your own. Imports stay light: this module
loads none of them until one is used, and nothing outside ``simulator.ml``, ``simulator.rl`` and
``simulator.emulation`` imports torch or timm.

Layers, lowest first. A module imports only from its own layer or a lower one, and no modules import each
other in a circle (tests/test_layers.py reads this list and checks every import of every module, those inside
functions and under TYPE_CHECKING included):

1. ``errors``, ``endings``, ``version``: what reaches the user from any layer: an input error or a warning
   about a result, how a command ends when its pipe closes or a signal stops it, the version it writes.
2. ``files``: YAML read into checked models with one-line errors, atomic writes, which output folders a
   command may replace, file digests.
3. ``inputs``, ``traces``: the data a simulation reads: the ViT workload model, device profiles, accuracy
   tables, radio power models, diffusion profiles, where shipped data lives; uplink traces and their formats.
4. ``config``: what the user asks for: the scenario schema, overrides, sweep axes, whether a seed draws.
5. ``analysis``: statistics over seeds (t intervals, the seed aggregation, differences between runs), pure
   functions of tables, below the model because a replicated run summarises its seeds with them.
6. ``plans``: what a schedule hands the engine (a Plan or a stage graph) and its price on the profiles.
7. ``schedules``: one module per schedule, the registry that builds them from a scenario's entries, and the
   plugins (files, installed packages) that register more.
8. ``model``: the simulation: resources, engines, records, energy, offered load, diagnostics, and the runner
   that resolves a scenario's inputs, builds its schedules and simulates every seed.
9. ``report``: the HTML pages, drawn only from what a results folder stores.
10. ``results``: the output folders of a run (its page included) and of a comparison.
11. ``studies``: many runs with a purpose: sweeps and their executors, claims checks, calibration.
12. ``ml``, ``rl``: PyTorch and timm: token reduction, the split model, profiling, accuracy, reconstruction;
    learned schedules: the Gymnasium environment over the simulator, policy training and export.
13. ``emulation``: the emulated testbed, which runs the split model for real over a shaped link.
14. ``cli``: every ``mercury-sim`` command and the console tables.
15. ``simulator``, ``__main__``: the package's face (this module's API, ``python -m simulator``).

Module paths from before the layers (``simulator.plan``, ``simulator.scenario``, ``simulator.runner``, ...)
still import: :data:`MOVED` maps each to the module that took its place, loaded only when asked for.
"""

from __future__ import annotations

import importlib
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import TYPE_CHECKING, Any

from simulator.version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from simulator.config.scenario import load_scenario
    from simulator.model.runner import run, run_scenario
    from simulator.schedules import register_schedule

__all__ = ["__version__", "load_scenario", "register_schedule", "run", "run_scenario"]

# The public names, each loaded from its module on first use.
_API = {"load_scenario": "simulator.config.scenario", "run": "simulator.model.runner",
        "run_scenario": "simulator.model.runner", "register_schedule": "simulator.schedules"}


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(name)


# Where every module of the flat layout went: an old path imports the module at its new one. Of the modules
# split on the way, the old path names the part that kept the name; what left it lives elsewhere: the radio
# model file (was simulator.energy) in simulator.inputs.radio, reading and writing comparison folders (was
# simulator.compare) in simulator.results.comparison, the warning type's stored form (was simulator.diagnostics)
# in simulator.errors, chain_of (was simulator.graph) in simulator.plans.plan. Two old paths do not import:
# simulator.results (the runner's summary, now simulator.model.summary: the name is the results/ package's)
# and simulator.ml.profiler_cli (now simulator.cli.profile and simulator.ml.profiler).
MOVED = {f"simulator.{old}": f"simulator.{new}" for old, new in {
    "validation": "files.validation", "atomic": "files.atomic", "output_guard": "files.output_guard",
    "digest": "files.digest",
    "data": "inputs.data", "vit": "inputs.vit", "pruned_vit": "inputs.pruned_vit", "profiles": "inputs.profiles",
    "accuracy": "inputs.accuracy", "numeric": "inputs.numeric", "diffusion_profile": "inputs.diffusion_profile",
    "denoising": "inputs.denoising", "catalog": "inputs.catalog", "replay_window": "traces.replay_window",
    "scenario": "config.scenario", "overrides": "config.overrides", "sweep_axes": "config.sweep_axes",
    "seed_effect": "config.seed_effect",
    "intervals": "analysis.intervals", "aggregate": "analysis.aggregate", "compare": "analysis.compare",
    "plan": "plans.plan", "graph": "plans.graph",
    "topology": "model.topology", "uplink": "model.uplink", "cloud": "model.cloud", "framing": "model.framing",
    "engine": "model.engine", "graph_engine": "model.graph_engine", "fastpath": "model.fastpath",
    "records": "model.records", "energy": "model.energy", "offered_load": "model.offered_load",
    "after_idle": "model.after_idle", "uplink_load": "model.uplink_load", "diagnostics": "model.diagnostics",
    "replications": "model.replications", "runner": "model.runner",
    "outputs": "results.outputs",
    "sweep": "studies.sweep", "executors": "studies.executors", "claims": "studies.claims",
    "check": "studies.check", "calibration": "studies.calibration",
    "cli_support": "cli.command_line", "compare_cli": "cli.compare", "console": "cli.console",
    "extras": "cli.extras", "traces.cli": "cli.traces", "emulation.commands": "cli.emulate",
    "ml.cli": "ml.commands",
}.items()}


class _MovedModules:
    """Imports an old module path (:data:`MOVED`) as the module now at its new path: the same object, so a
    class or a patched function is the same whichever path names it."""

    def __init__(self) -> None:
        self.spec: ModuleSpec | None = None

    @classmethod
    def find_spec(cls, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        return ModuleSpec(fullname, cls()) if fullname in MOVED else None

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        module = importlib.import_module(MOVED[spec.name])
        self.spec = module.__spec__  # the import system is about to set the old name's spec on it
        return module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self.spec  # its own spec back; the module ran when its new path was imported


sys.meta_path.append(_MovedModules)
