"""Dotted-key overrides on a parsed scenario mapping (``network.mode: trace``, ``schedules.mercury.reduction``).

Claims files and sweeps describe scenario variants this way. A part that meets a list selects an element
by index (``schedules.4``) or, for schedules, by label or kind (``schedules.mercury``), so a sweep can vary
one schedule's parameter without restating the list.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from simulator.errors import InputError


class OverrideError(ValueError):
    """A dotted key that does not lead anywhere in the mapping; ``key`` names the offending prefix."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _select(items: list[Any], part: str, prefix: str) -> Any:
    if part.lstrip("-").isdigit():
        index = int(part)
        if not -len(items) <= index < len(items):
            raise OverrideError(prefix, f"index {index} is outside the {len(items)} entries")
        return items[index]
    matches = [item for item in items if isinstance(item, dict) and item.get("label") == part]
    if not matches:
        matches = [item for item in items if isinstance(item, dict) and "label" not in item
                   and item.get("kind") == part]
    if len(matches) != 1:
        found = "no" if not matches else f"{len(matches)}"
        raise OverrideError(prefix, f"{found} entries labelled {part!r}; use a unique label, kind or an index")
    return matches[0]


def set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` (dot-separated) in ``data`` to a copy of ``value``; missing mappings are created."""
    node: Any = data
    parts = key.split(".")
    for depth, part in enumerate(parts[:-1]):
        prefix = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            node = _select(node, part, prefix)
            continue
        if not isinstance(node.get(part), (dict, list)):
            node[part] = {}
        node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        raise OverrideError(key, "a whole list entry cannot be replaced by a dotted key; set one of its keys")
    if not isinstance(node, dict):
        raise OverrideError(key, f"{'.'.join(parts[:-1])} is not a mapping")
    node[last] = copy.deepcopy(value)


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any], source: str | Path, section: str) -> None:
    """``set_dotted`` for every override; a bad key becomes an InputError naming ``source`` and ``section``."""
    for key, value in overrides.items():
        try:
            set_dotted(data, key, value)
        except OverrideError as exc:
            raise InputError(source, str(exc), f"{section}.{exc.key}") from None
