"""simulator/ is built in layers that only look down: no module imports a module of a higher layer, and no
modules import each other in a circle. The layers are those listed in simulator/__init__.py's docstring
(the one place they are written); every ``import`` and ``from ... import`` of every module counts, inside
functions and under TYPE_CHECKING too, read from the sources with ``ast``."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

PACKAGE = REPO / "simulator"
# safetensors itself is not: policy files' weights load with safetensors.numpy (simulator/schedules/policy_file.py)
TORCH = {"torch", "timm", "torchvision", "diffusers", "safetensors.torch", "stable_baselines3"}
TORCH_LAYERS = {"ml", "rl", "emulation"}  # the only layers that may import them


def module_files(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__.py``)."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The names ``name`` imports: simulator modules (``pkg.sub`` where ``from pkg import sub`` names a module,
    else ``pkg``) and the top-level names of other packages, wherever in the file the import stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            for alias in node.names:
                out.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {n if n.split(".")[0] == "simulator" or n in TORCH else n.split(".")[0] for n in out} - {name}


def layers(docstring: str) -> list[tuple[str, list[str]]]:
    """``1. ``errors``, ``endings``, ...: text`` lines of the package docstring, in order: (number, names)."""
    found = [(number, re.findall(r"``([\w.]+)``", names))
             for number, names in re.findall(r"^(\d+)\. (.*?):", docstring, re.M)]
    assert [int(n) for n, _ in found] == list(range(1, len(found) + 1)), "the layer list is numbered 1, 2, ..."
    return found


def layer_of(module: str, ranks: dict[str, int]) -> int | None:
    """The rank of the layer holding ``module``: the longest layer name that is the module or holds it
    (``simulator`` itself is the face's name)."""
    parts = module.removeprefix("simulator.").split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in ranks:
            return ranks[".".join(parts[:end])]
    return None


def layer_ranks(package: Path = PACKAGE) -> dict[str, int]:
    docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8"))) or ""
    return {name: int(number) for number, names in layers(docstring) for name in names}


def graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    modules = module_files(package)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def upward_imports(package: Path = PACKAGE) -> list[str]:
    """``a (layer i) imports b (layer j > i)`` for every import that looks up, and every module no layer holds."""
    ranks, edges, problems = layer_ranks(package), graph(package), []
    for module, targets in sorted(edges.items()):
        own = layer_of(module, ranks)
        if own is None:
            problems.append(f"{module} is in no layer of simulator/__init__.py's list")
            continue
        for target in sorted(t for t in targets if t.startswith("simulator")):
            theirs = layer_of(target, ranks)
            if theirs is not None and theirs > own:
                problems.append(f"{module} (layer {own}) imports {target} (layer {theirs})")
    return problems


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected set of two or more modules (Tarjan), each as a closed path through it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if target not in edges:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(_path_through(sorted(group), edges))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(edges)))
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _path_through(group: list[str], edges: dict[str, set[str]]) -> list[str]:
    """A circle inside ``group`` from its first module back to it (breadth first), for the message."""
    start, members = group[0], set(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(edges[node] & members):
                if target == start:
                    return [*paths[node], start]
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    return group


def test_every_module_sits_in_a_layer_and_imports_only_down() -> None:
    problems = upward_imports()
    assert not problems, "\n".join(problems)


def test_no_modules_import_each_other_in_a_circle() -> None:
    found = circles(graph())
    assert not found, "\n".join(" -> ".join(circle) for circle in found)


def test_every_imported_simulator_module_exists() -> None:
    """An import of a path that only the old-path finder knows (``simulator.plan``) is the flat layout creeping
    back: the package names its modules by where they live."""
    modules = module_files()
    missing = sorted(f"{module} imports {target}" for module, targets in graph().items() for target in targets
                     if target.startswith("simulator") and target not in modules)
    assert not missing, "\n".join(missing)


def test_only_ml_and_emulation_import_torch() -> None:
    ranks = layer_ranks()
    allowed = {ranks[name] for name in TORCH_LAYERS}
    offenders = sorted(f"{module} imports {', '.join(sorted(targets & TORCH))}" for module, targets in graph().items()
                       if targets & TORCH and layer_of(module, ranks) not in allowed)
    assert not offenders, "\n".join(offenders)


def test_the_check_finds_an_upward_import_and_a_circle(tmp_path: Path) -> None:
    """The checks themselves, on a two-layer package: a low module importing a high one is named, with both
    layers, and two modules importing each other are named as a circle."""
    package = tmp_path / "simulator"
    (package / "low").mkdir(parents=True)
    (package / "high").mkdir()
    (package / "__init__.py").write_text('"""Layers.\n\n1. ``low``: below.\n2. ``high``: above.\n'
                                         '3. ``simulator``: the face.\n"""\n')
    (package / "low" / "__init__.py").write_text("")
    (package / "high" / "__init__.py").write_text("")
    (package / "low" / "a.py").write_text("def f():\n    from simulator.high import b\n")
    (package / "high" / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                           "    from simulator.low.a import f\n")
    assert upward_imports(package) == ["simulator.low.a (layer 1) imports simulator.high.b (layer 2)"]
    assert circles(graph(package)) == [["simulator.high.b", "simulator.low.a", "simulator.high.b"]]


@pytest.mark.parametrize("old, new", [("simulator.plan", "simulator.plans.plan"),
                                      ("simulator.scenario", "simulator.config.scenario"),
                                      ("simulator.runner", "simulator.model.runner"),
                                      ("simulator.engine", "simulator.model.engine"),
                                      ("simulator.replay_window", "simulator.traces.replay_window")])
def test_old_module_paths_import_the_moved_module(old: str, new: str) -> None:
    """Code written against the flat layout keeps working: the old path gives the very module (so a class
    is one class and a patch reaches the code that runs), and the module keeps its own name."""
    import importlib

    moved = importlib.import_module(old)
    assert moved is importlib.import_module(new) and sys.modules[old] is moved
    assert moved.__name__ == new and moved.__spec__.name == new


def test_every_old_module_path_names_a_module() -> None:
    import simulator

    modules = module_files()
    assert not [new for new in simulator.MOVED.values() if new not in modules]
    assert not [old for old in simulator.MOVED if old in modules]  # an old path must not hide a module


def test_importing_the_package_loads_no_layer() -> None:
    """``import simulator`` stays light: the public names load their modules when first used."""
    code = ("import sys, simulator; print(sorted(m for m in sys.modules if m.startswith('simulator.')));"
            "simulator.run; print('simulator.model.runner' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.splitlines() == ["['simulator.version']", "True"]
