"""Atomic output: write beside the target, then rename, so nothing is ever left half-written."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


def _readable_mode(fd: int) -> None:
    """Give a temporary file the mode a plain ``open()`` would (mkstemp creates it 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        _readable_mode(fd)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) in one rename."""
    atomic_write_bytes(path, text.encode("utf-8"))


@contextmanager
def atomic_directory(target: Path, *, keep_existing: bool = False) -> Iterator[Path]:
    """Yield a fresh staging folder; on success it replaces ``target`` whole, on failure it vanishes.

    By default the folder afterwards holds exactly what this write produced (no stale file from an earlier
    run can describe another run). ``keep_existing`` carries over files of ``target`` the write does not
    produce, for folders a user may share with other files (an import destination). An exception leaves
    ``target`` exactly as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".staging", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes 0700; the result should look like any new folder
    try:
        yield staging
        if target.exists():
            if keep_existing:
                for item in target.iterdir():
                    if not (staging / item.name).exists():
                        copy = shutil.copytree if item.is_dir() else shutil.copy2
                        copy(item, staging / item.name)
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            retired.rmdir()
            os.replace(target, retired)
            os.replace(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


@contextmanager
def atomic_text_writer(path: Path) -> Iterator[TextIO]:
    """Stream text into a temporary file beside ``path`` and rename it into place only on success.

    For outputs too large to build in memory first (importing a 100 MB trace).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        _readable_mode(fd)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
