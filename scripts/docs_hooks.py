"""MkDocs hook: the site's generated parts, made at build time from the code, never copied by hand.

A page holds a marker comment where a generated part goes: ``<!-- generated: scenario-keys -->`` (every
scenario key from the JSON Schema ``mercury-sim schema`` prints) and ``<!-- generated: coverage -->`` (the
shipped models' data, ``simulator.inputs.catalog.coverage_markdown``). The command reference is
mkdocs-click's, on ``simulator.cli.click_command``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

MARKER = re.compile(r"<!-- generated: ([a-z-]+) -->")


def _scenario_keys() -> str:
    from simulator.config.key_reference import scenario_keys_markdown
    from simulator.config.scenario import json_schema
    from simulator.schedules.plugins import plugin_schema

    return scenario_keys_markdown(plugin_schema(json_schema()))


def _coverage() -> str:
    from simulator.inputs.catalog import coverage_markdown

    return coverage_markdown()


GENERATORS: dict[str, Callable[[], str]] = {"scenario-keys": _scenario_keys, "coverage": _coverage}


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """Replace each marker by its generated Markdown; an unknown marker stops the build."""
    def generate(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise ValueError(f"{page.file.src_path}: unknown generated part {name!r} (known: {sorted(GENERATORS)})")
        return GENERATORS[name]()

    return MARKER.sub(generate, markdown)
