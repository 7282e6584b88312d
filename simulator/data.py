"""Where the shipped data (profiles, traces, accuracy tables, scenarios) lives.

In a source checkout the folders sit beside the package; an installed wheel carries copies under
``simulator/_data``. Both are searched, so a shipped name resolves the same way either way.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_roots() -> list[Path]:
    """Folders that may hold the shipped data, most specific first."""
    roots = [_PACKAGE / "_data", _PACKAGE.parent]
    return [r for r in roots if r.is_dir()]


def shipped_dir(kind: str) -> Path | None:
    """The first existing shipped folder of ``kind`` ('profiles', 'accuracy', ...)."""
    for root in data_roots():
        candidate = root / kind
        if candidate.is_dir():
            return candidate
    return None


def resolve_path(value: str | Path, base_dir: Path | None) -> Path | None:
    """Resolve a user path: relative to ``base_dir`` (the scenario's folder), the cwd, then shipped data."""
    path = Path(value).expanduser()
    if path.is_absolute():
        return path if path.exists() else None
    candidates = []
    if base_dir is not None:
        candidates.append(base_dir / path)
    candidates.append(Path.cwd() / path)
    candidates.extend(root / path for root in data_roots())
    for candidate in candidates:
        if candidate.exists():
            return candidate.resolve()
    return None
