"""What reaches the user from any layer: an error in the input, and a warning about a result.

The CLI turns an :class:`InputError` into a single line on stderr and exit code 2, so the message must
name the file, the key or line, and what was expected.

A :class:`RunWarning` says what makes a result doubtful, with a stable code (scripts may filter on it);
:mod:`simulator.model.diagnostics` says when each code is raised. summary.json stores warnings as
``{"code", "message"}`` objects; folders written before the codes existed hold plain strings, which
:func:`read_warning` reads with the code their prefix implies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class InputError(Exception):
    """Bad user input: a file, a key or line within it, and what was expected."""

    def __init__(self, source: str | Path | None, message: str, where: str | None = None) -> None:
        self.source = str(source) if source is not None else None
        self.where = where
        self.detail = message
        super().__init__(self.one_line())

    def __reduce__(self) -> tuple:
        """Rebuild from the three parts, so the error survives the trip back from a worker process."""
        return (type(self), (self.source, self.detail, self.where))

    def one_line(self) -> str:
        parts = [p for p in (self.source, self.where) if p]
        prefix = ": ".join(parts)
        text = f"{prefix}: {self.detail}" if prefix else self.detail
        return " ".join(text.split())


CODES = ("overload", "latency_growing", "accuracy_interpolated", "accuracy_unknown", "energy_unknown",
         "trace_too_slow", "seed_no_effect", "schedule", "not_emulated", "compute_constant")
# How a plain-string warning of an older summary.json began, and the code it stands for.
PREFIX_CODES = {"uplink overloaded:": "trace_too_slow", "energy unknown:": "energy_unknown",
                "seed has no effect:": "seed_no_effect", "seed changed nothing:": "seed_no_effect"}


@dataclass(frozen=True)
class RunWarning:
    """One reason to doubt a result: a stable ``code`` and a message that reads alone."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def read_warning(item: Any) -> RunWarning:
    """A stored warning: a ``{code, message}`` object, or an older folder's plain string (its code from its
    prefix, ``other`` when none matches)."""
    if isinstance(item, dict):
        return RunWarning(str(item.get("code") or "other"), str(item.get("message", "")))
    text = str(item)
    return RunWarning(next((code for prefix, code in PREFIX_CODES.items() if text.startswith(prefix)), "other"),
                      text)


def read_warnings(items: Any) -> list[RunWarning]:
    """Every warning of a stored list (None or a non-list: none)."""
    return [read_warning(item) for item in items] if isinstance(items, list) else []


def warnings_json(warnings: Iterable[RunWarning]) -> list[dict[str, str]]:
    return [w.as_json() for w in warnings]


def named(where: str, warning: RunWarning) -> RunWarning:
    """The warning with ``where`` (a run, a sweep point) in front of its message."""
    return RunWarning(warning.code, f"{where}: {warning.message}")
