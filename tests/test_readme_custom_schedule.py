"""The plugin tutorial's custom-schedule example (docs/tutorials/plugin-schedule.md) runs as written, from a folder
outside the checkout, and with the module paths it had before the layers; its schedule really adapts; its
schedule is the example plugin's module."""

from __future__ import annotations

import os
import re
import sys
import types
from pathlib import Path

import pytest

# The module paths the example used before simulator/ was built in layers: a copy made then still runs.
FLAT_LAYOUT = {"simulator.config.scenario": "simulator.scenario", "simulator.plans.plan": "simulator.plan"}


PAGE = ("docs", "tutorials", "plugin-schedule.md")
NOTEBOOK_IMPORT = "import mercury_threshold  # noqa: F401 - registers the kind 'mercury-threshold'\n"


def example_blocks(repo: Path) -> tuple[str, str]:
    """The page's module (the block saved as mercury_threshold.py) and the notebook lines that use it."""
    text = repo.joinpath(*PAGE).read_text(encoding="utf-8")
    block = re.search(r"<!-- custom-schedule:start -->\n```python title=\"mercury_threshold.py\"\n(.*?)```\n(.*?)"
                      r"```python\n(.*?)```\n<!-- custom-schedule:end -->", text, re.S)
    assert block is not None, "the plugin tutorial lost its custom-schedule example"
    return block.group(1), block.group(3)


def readme_example(repo: Path) -> str:
    """The module and the notebook lines as one program, as a notebook cell holding both would run."""
    module, notebook = example_blocks(repo)
    assert notebook.startswith(NOTEBOOK_IMPORT)
    return module + "\n# In a notebook\n" + notebook.removeprefix(NOTEBOOK_IMPORT)


def test_readme_schedule_is_the_example_plugin(repo: Path) -> None:
    module = (repo / "examples" / "threshold-plugin" / "mercury_threshold.py").read_text(encoding="utf-8")
    assert example_blocks(repo)[0] == module
    assert readme_example(repo).startswith(module + "\n# In a notebook")


@pytest.mark.parametrize("paths", ["as written", "flat layout"])
def test_readme_custom_schedule_runs(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     paths: str) -> None:
    code = readme_example(repo)
    if paths == "flat layout":
        for new, old in FLAT_LAYOUT.items():
            assert f"from {new} import" in code
            code = code.replace(f"from {new} import", f"from {old} import")
    monkeypatch.chdir(tmp_path)  # not the checkout: the shipped scenario is found by its name
    module = types.ModuleType("readme_example")  # dataclasses look their module up in sys.modules
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(code, "plugin-schedule.md", "exec"), module.__dict__)  # noqa: S102 - the page's own code
    records = module.__dict__["records"]
    chosen = records[records.schedule == "mercury-threshold"].parameter  # type: ignore[attr-defined]
    assert set(chosen) == {0.0, 0.5}  # both plans were used: it follows the uploads' throughput
    assert os.getcwd() == str(tmp_path)
