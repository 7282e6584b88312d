"""Output paths are sacred: mercury-sim replaces only what it recognisably wrote itself.

Every command that writes (``run``, ``check``, ``sweep``, ``compare``, ``report``, the ``traces`` commands,
``accuracy``, ``train-reconstruction``, ``profile``) asks here first. A refused path raises
:class:`InputError` (one line, exit 2) before anything is computed or written, so the user's files keep
every byte. Names in ``written`` may be shell patterns (:data:`PLOTLY_BUNDLE`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Iterable
from fnmatch import fnmatchcase
from pathlib import Path

from simulator.errors import InputError

MARKER_KEY = "mercury_sim_version"
# The plotly.js file a page loads unless self-contained (simulator.report.html.plotly_bundle_name).
PLOTLY_BUNDLE = "plotly-*.min.js"


def is_marker(path: Path) -> bool:
    """A JSON file mercury-sim wrote: an object carrying the ``mercury_sim_version`` key."""
    try:
        with path.open("rb") as handle:
            document = json.loads(handle.read(1 << 22))
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and MARKER_KEY in document


def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _refuse_special(path: Path, inputs: Iterable[Path]) -> None:
    """Refusals shared by folders and files: a link, the working directory, or a path holding an input."""
    if path.is_symlink():
        raise InputError(path, "is a symbolic link; give a path mercury-sim can own")
    target = _resolved(path)
    if target == _resolved(Path.cwd()):
        raise InputError(path, "is the current directory; give a folder of its own (e.g. reports/NAME)")
    for item in inputs:
        source = _resolved(Path(item))
        if target == source or target in source.parents:
            what = "is" if target == source else "holds"
            raise InputError(path, f"{what} the input {item}; choose another output path")


def _written(name: str, written: Collection[str]) -> bool:
    return name in written or any(fnmatchcase(name, pattern) for pattern in written)


def guard_folder(folder: Path, *, marker: str, written: Collection[str], inputs: Iterable[Path] = (),
                 subfolder: Callable[[Path], bool] | None = None, keeps_others: bool = False,
                 started: Callable[[Path], bool] | None = None) -> None:
    """Refuse to write ``folder`` unless it is new, empty, or an earlier output of the same kind.

    An earlier output carries ``marker`` (see :func:`is_marker`), or is one ``started`` recognises (a sweep
    interrupted before its marker was written). It must hold nothing but the names in ``written`` (and,
    when given, sub-folders that ``subfolder`` accepts) -- unless ``keeps_others``: a command that writes
    its files into the folder and keeps every other one (sweep, compare) accepts any further content.
    A file, an unmarked folder with content, the current directory, or a folder holding an input is refused.
    """
    folder = Path(folder)
    _refuse_special(folder, inputs)
    if not folder.exists():
        return
    if not folder.is_dir():
        raise InputError(folder, "exists and is not a folder; give a folder path for the results")
    entries = sorted(folder.iterdir())
    if not entries:
        return
    if not (is_marker(folder / marker) or (started is not None and started(folder))):
        raise InputError(folder, f"holds other files that mercury-sim did not write (no {marker} of "
                                 "ours); give a new or empty folder")
    if keeps_others:
        return
    for entry in entries:
        if entry.is_symlink():
            ours = False
        elif entry.is_dir():
            ours = subfolder is not None and subfolder(entry)
        else:
            ours = _written(entry.name, written)
        if not ours:
            raise InputError(folder, f"holds {entry.name}, which mercury-sim did not write there; "
                                     "move it or give another folder")


def guard_file(path: Path, *, inputs: Iterable[Path] = (), ours: Callable[[Path], bool] | None = None) -> None:
    """Refuse to write the file ``path`` over a folder, an input, or a file mercury-sim did not write.

    ``ours`` recognises an earlier output of this command (for example a trace CSV whose header names
    mercury-sim); without it an existing file is never replaced.
    """
    path = Path(path)
    _refuse_special(path, inputs)
    if path.is_dir():
        raise InputError(path, "is a folder; give a file path for this output")
    if path.exists() and not (ours is not None and ours(path)):
        raise InputError(path, "exists and was not written by mercury-sim; move it or give another path")


def names_mercury_sim(path: Path, limit: int = 1 << 14) -> bool:
    """A text output whose leading comment block names mercury-sim (trace CSV, models YAML)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(limit)
    except OSError:
        return False
    return b"mercury-sim" in head
