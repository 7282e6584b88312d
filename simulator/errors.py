"""One exception type for every problem with user input.

The CLI turns an :class:`InputError` into a single line on stderr and exit code 2, so the message must
name the file, the key or line, and what was expected.
"""

from __future__ import annotations

from pathlib import Path


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
