"""Schedules, trace formats and radio models from outside the package: Python files a scenario (``plugins:``)
or a command (``--plugin``) names, and installed packages that declare an entry point in one of the groups
``mercury_sim.schedules``, ``mercury_sim.trace_formats``, ``mercury_sim.radio_models``.

A plugin registers what it adds when it is imported (an entry point may instead name a function, called with no
arguments): schedule kinds with :func:`simulator.schedules.register_schedule`, trace formats with
:func:`simulator.traces.importers.register_trace_format`, radio models with
:func:`simulator.inputs.radio.register_radio_model`. Every group is loaded together, the first time something
unknown is named. Files load when a run resolves its inputs, in
whichever process runs it (a sweep's workers and Dask workers load them from the point's scenario, at the same
paths); entry points load the first time a scenario names a kind nobody registered. A file loads once per
process and content: edited, it runs again. What a plugin registers is recorded with the file it came from,
so that file is hashed with the run's other inputs (manifest, sweep point keys) and editing it recomputes
what it affects. A plugin that does not import, or registers nothing, is one :class:`InputError` naming it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import re
import sys
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from simulator.config.scenario import Plugin
from simulator.errors import InputError
from simulator.inputs.radio import registered_radio_models
from simulator.schedules.registry import registrations
from simulator.traces.importers import registered_trace_formats

if TYPE_CHECKING:
    from simulator.config.scenario import Scenario

ENTRY_POINT_GROUP = "mercury_sim.schedules"
ENTRY_POINT_GROUPS = (ENTRY_POINT_GROUP, "mercury_sim.trace_formats", "mercury_sim.radio_models")

_FILES: dict[Path, tuple[str, list[str]]] = {}  # a loaded file -> (its content's SHA-256, the kinds it registered)
_SOURCES: dict[str, tuple[Path, object]] = {}  # kind -> (the file that registered it, that registration)
_ENTRY_POINTS_LOADED: list[bool] = []


def _registered() -> dict[tuple[str, str], object]:
    """Everything registered now, keyed by (what, name): schedule kinds, trace formats, radio models."""
    return {**{("schedule", k): v for k, v in registrations().items()},
            **{("trace format", k): v for k, v in registered_trace_formats().items()},
            **{("radio model", k): v for k, v in registered_radio_models().items()}}


def _registering(run: Callable[[], object], source: Path, name: str) -> list[str]:
    """What ``run`` registers (registered again counts), as ``"schedule KIND"``, ``"trace format NAME"`` or
    ``"radio model NAME"``; schedule kinds are recorded as coming from ``source``."""
    before = _registered()
    run()  # raises the plugin's own error (a refused registration too) as one InputError naming it
    after = _registered()
    added = sorted(key for key, entry in after.items() if before.get(key) is not entry)
    if not added:
        raise InputError(name, "the plugin registered nothing: call simulator.schedules.register_schedule"
                               "(kind, builder, config_model), simulator.traces.importers.register_trace_format"
                               "(name, reader) or simulator.inputs.radio.register_radio_model(name, model) in it")
    registered = registrations()
    for what, kind in added:
        if what == "schedule":
            _SOURCES[kind] = (source, registered[kind])
    return [f"{what} {kind}" for what, kind in added]


def _failure(exc: BaseException, path: Path | None) -> str:
    """``SyntaxError: invalid syntax (line 3)``: the error and, where known, the plugin's line that raised it."""
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg} (line {exc.lineno})"
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__)
             if path is not None and Path(frame.filename) == path]
    where = f" (line {lines[-1]})" if lines else ""
    return f"{type(exc).__name__}: {exc}{where}"


def load_plugin_file(path: Path) -> list[str]:
    """Import the plugin file at ``path`` (absolute) unless this content already ran; the kinds it registered."""
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read the plugin ({exc.strerror or exc})") from None
    digest = hashlib.sha256(source).hexdigest()
    loaded = _FILES.get(path)
    if loaded is not None and loaded[0] == digest:
        return loaded[1]
    name = "mercury_sim_plugin_" + re.sub(r"\W", "_", path.stem) + "_" + digest[:12]
    module = ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module  # dataclasses and pydantic look their module up there

    def run() -> None:
        try:
            exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102 - the user's own plugin
        except Exception as exc:  # whatever the plugin raises is the user's to read, in one line
            sys.modules.pop(name, None)
            raise InputError(path, f"the plugin failed on import: {_failure(exc, path)}") from None

    kinds = _registering(run, path, str(path))
    _FILES[path] = (digest, kinds)
    return kinds


def plugin_path(value: str | Path, base_dir: Path | None) -> Path:
    """A plugin file named in a scenario (relative to its folder) or on the command line (to the cwd)."""
    path = Path(value).expanduser()
    return (path if path.is_absolute() else (base_dir or Path.cwd()) / path).resolve()


def load_plugins(scenario: Scenario) -> dict[str, Path]:
    """Load the scenario's plugin files; its input files by role: ``plugins[i]``, and ``schedules[i].kind``
    for the file that registered each other plugin kind it uses (an entry point's module, say)."""
    files: dict[str, Path] = {}
    for i, value in enumerate(scenario.plugins or []):
        path = plugin_path(value, scenario.base_dir)
        if not path.is_file():
            raise InputError(scenario.path, f"plugin file not found: {value}", f"plugins[{i}]")
        load_plugin_file(path)
        files[f"plugins[{i}]"] = path
    listed = set(files.values())
    for i, entry in enumerate(scenario.schedules):
        if not isinstance(entry, Plugin):  # a shipped kind: no entry point is looked at for it
            continue
        source = kind_source(entry.kind)
        if source is not None and source not in listed:
            files[f"schedules[{i}].kind"] = source
    return files


def with_plugin_files(scenario: Scenario, paths: Iterable[str | Path]) -> Scenario:
    """The scenario with command-line plugin files (by absolute path) added to its ``plugins``."""
    extra = [str(plugin_path(p, None)) for p in paths]
    if not extra:
        return scenario
    given = list(scenario.plugins or [])
    return scenario.model_copy(update={"plugins": given + [p for p in extra if p not in given]})


def kind_source(kind: str) -> Path | None:
    """The file whose import registered ``kind`` as it is registered now (None: shipped, or registered in
    this process by code of its own); an unknown kind first looks among the installed entry points."""
    registered = registrations()
    if kind not in registered:
        load_entry_points()
        registered = registrations()
    found = _SOURCES.get(kind)
    return found[0] if found is not None and registered.get(kind) is found[1] else None


def load_entry_points() -> None:
    """Load every installed plugin of the groups ``ENTRY_POINT_GROUPS`` (once per process)."""
    if _ENTRY_POINTS_LOADED:
        return
    for group in ENTRY_POINT_GROUPS:
        for point in sorted(importlib.metadata.entry_points(group=group), key=lambda p: p.name):
            _load_entry_point(point)
    _ENTRY_POINTS_LOADED.append(True)


def _load_entry_point(point: importlib.metadata.EntryPoint) -> None:
    dist = getattr(point, "dist", None)
    name = f"entry point {point.name} = {point.value}" + (f" ({dist.name} {dist.version})" if dist else "")
    file = _module_file(point.module)

    def run() -> None:
        try:
            loaded: Any = point.load()
            if callable(loaded) and not isinstance(loaded, ModuleType):
                loaded()
        except Exception as exc:  # the installed package's error, in one line
            where = f" in {file}" if file else ""
            raise InputError(name, f"the plugin failed{where}: {_failure(exc, file)}") from None

    _registering(run, file or Path(point.module), name)


def _module_file(module: str) -> Path | None:
    """The file of a module, without importing it (None: not found, or not a file)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    origin = spec.origin if spec is not None else None
    return Path(origin).resolve() if origin and Path(origin).is_file() else None


def plugin_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The scenario's JSON Schema with each registered plugin kind's own keys: a ``schedules`` item of that
    kind is checked by its config model's schema (``$defs/plugin-<kind>``); a kind registered without a
    model stays under the generic ``Plugin`` entry, whose keys nothing checks."""
    load_entry_points()
    defs = schema.setdefault("$defs", {})
    variants = schema["properties"]["schedules"]["items"]["oneOf"]
    described = []
    for kind, (model, _) in sorted(registrations().items()):
        if model is None:
            continue
        prefix = f"plugin-{kind}"
        sub = model.model_json_schema(ref_template=f"#/$defs/{prefix}-{{model}}")
        defs.update({f"{prefix}-{name}": value for name, value in sub.pop("$defs", {}).items()})
        sub.setdefault("properties", {})["kind"] = {"const": kind, "title": "Kind"}
        sub["required"] = sorted({*sub.get("required", []), "kind"})
        source = kind_source(kind)
        if source is not None:
            sub["description"] = f"{sub.get('description') or ''} (plugin: {source})".strip()
        defs[prefix] = sub
        variants.append({"$ref": f"#/$defs/{prefix}"})
        described.append(kind)
    generic = defs["Plugin"]["properties"]["kind"]["not"]
    generic["enum"] = sorted({*generic["enum"], *described})
    return schema
