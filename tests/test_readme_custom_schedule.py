"""The README's custom-schedule example runs as written and its schedule really adapts."""

from __future__ import annotations

import os
import re
import sys
import types
from pathlib import Path

import pytest


def test_readme_custom_schedule_runs(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (repo / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- custom-schedule:start -->\n```python\n(.*?)```\n<!-- custom-schedule:end -->", text,
                      re.S)
    assert block is not None, "the README lost its custom-schedule example"
    monkeypatch.chdir(repo)
    module = types.ModuleType("readme_example")  # dataclasses look their module up in sys.modules
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(block.group(1), "README.md", "exec"), module.__dict__)  # noqa: S102 - the README's own code
    records = module.__dict__["records"]
    chosen = records[records.schedule == "mercury-threshold"].parameter  # type: ignore[attr-defined]
    assert set(chosen) == {0.0, 0.5}  # both plans were used: it follows the uploads' throughput
    assert os.getcwd() == str(repo)
