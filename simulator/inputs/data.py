"""Where the shipped data (profiles, traces, accuracy tables, scenarios, claims) lives.

In a source checkout the folders sit beside the package; an installed wheel carries copies under
``simulator/_data``. Both are searched, so a shipped name resolves the same way either way.
"""

from __future__ import annotations

from pathlib import Path

from simulator.errors import InputError

_PACKAGE = Path(__file__).resolve().parents[1]  # simulator/, two up from simulator/inputs/data.py


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


# Shipped files that scenarios and commands may name by their stem: kind -> (folder in a data root, suffix).
SHIPPED_KINDS = {"scenario": ("scenarios", ".yaml"), "trace": ("traces/synthetic", ".csv"),
                 "profile": ("profiles", ".yaml"), "diffusion-profile": ("profiles/diffusion", ".yaml"),
                 "claims": ("claims", ".yaml")}


def is_short_name(value: str | Path) -> bool:
    """``lte-all`` (a shipped name), as opposed to a path such as ``my/trace.csv`` or ``trace.csv``."""
    text = str(value)
    return bool(text) and "/" not in text and "\\" not in text and not Path(text).suffix


def shipped_names(kind: str) -> list[str]:
    """The short names of the shipped files of ``kind`` ('scenario', 'trace', 'profile', 'claims')."""
    folder, suffix = SHIPPED_KINDS[kind]
    found = shipped_dir(folder)
    return sorted(p.stem for p in found.glob(f"*{suffix}")) if found else []


def shipped_file(kind: str, name: str | Path) -> Path | None:
    """The shipped file called ``name`` (a short name), or None."""
    if not is_short_name(name):
        return None
    folder, suffix = SHIPPED_KINDS[kind]
    found = shipped_dir(folder)
    path = found / f"{name}{suffix}" if found else None
    return path if path is not None and path.is_file() else None


def file_or_shipped(kind: str, value: str | Path) -> Path:
    """A command's file argument: the file itself when it exists, else the shipped file of that short name.

    An unknown short name is one line listing the shipped names; any other missing path is returned as it
    is, for the reader to report.
    """
    path = Path(value)
    if path.exists() or not is_short_name(path):
        return path
    shipped = shipped_file(kind, path)
    if shipped is None:
        raise InputError(path, f"no such file or shipped {kind}{shipped_hint(kind, path)}")
    return shipped


def scenario_file(kind: str, value: str | Path, base_dir: Path | None, *, what: str, key: str,
                  scenario: Path | None) -> Path:
    """The file a scenario key names (a path relative to ``base_dir``, or a shipped short name of ``kind``),
    or one line naming the key, what was expected and the shipped names."""
    path = resolve_path(value, base_dir) or shipped_file(kind, value)
    if path is None or not path.is_file():
        raise InputError(scenario, f"{what} {str(value)!r} not found (a shipped name or a file path)"
                         f"{shipped_hint(kind, value)}", key)
    return path


def shipped_hint(kind: str, name: str | Path | None = None) -> str:
    """``; did you mean 'lte-all'? shipped traces: 5g-all, ...`` for an error about ``name``."""
    import difflib

    names = shipped_names(kind)
    if not names:
        return ""
    close = difflib.get_close_matches(str(name), names, n=1) if name is not None else []
    guess = f" did you mean {close[0]!r}?" if close else ""
    plural = kind if kind.endswith("s") else f"{kind}s"
    return f";{guess} shipped {plural}: {', '.join(names)}"
