"""Where a trace command may write: never over a file that mercury-sim did not write.

A destination that is an existing folder receives the output inside it; an existing file is replaced
only when it is recognisably ours (a trace CSV whose comment block carries ``kind``, a table with our
exact header, a models YAML with our provenance). Anything else -- a folder, a link, an input -- is refused
with one line, before any output is written (:func:`simulator.files.output_guard.guard_file`).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from pathlib import Path

import yaml

from simulator.errors import InputError
from simulator.files.output_guard import guard_file
from simulator.traces.csv_format import HEADER, parse_meta

OUR_KINDS = ("imported", "synthetic")
OUR_TABLE_HEADERS: set[str] = set()


def register_table_header(header: str) -> str:
    """Declare a CSV header line that only mercury-sim writes (so the file may be replaced later)."""
    OUR_TABLE_HEADERS.add(header)
    return header


def is_our_table(path: Path) -> bool:
    """Whether ``path`` is one of the tables this tool writes beside traces (``stats.csv``, ...)."""
    try:
        with path.open("r", encoding="utf-8") as handle:
            return handle.readline().rstrip("\n") in OUR_TABLE_HEADERS
    except (OSError, UnicodeDecodeError):
        return False


def written_by_us(path: Path) -> bool:
    """Whether ``path`` is a file this tool wrote (and may therefore replace)."""
    try:
        with path.open("r", encoding="utf-8") as handle:
            head = [line.rstrip("\n") for line in islice(handle, 400)]
    except (OSError, UnicodeDecodeError):
        return False
    if head and head[0] in OUR_TABLE_HEADERS:
        return True
    comments = [line[1:].removeprefix(" ") for line in head if line.startswith("#")]
    body = [line for line in head if line.strip() and not line.startswith("#")]
    if body and body[0].replace(" ", "").lower() == HEADER and parse_meta(comments).get("kind") in OUR_KINDS:
        return True
    if path.suffix in (".yaml", ".yml"):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return False
        return isinstance(doc, dict) and isinstance(doc.get("provenance"), dict) and \
            doc["provenance"].get("kind") == "fitted model"
    return False


def check_replaceable(paths: Iterable[Path], inputs: Iterable[Path] = ()) -> None:
    """Refuse (before anything is written) if one of ``paths`` exists and is not ours to replace."""
    inputs = list(inputs)
    for path in paths:
        guard_file(path, inputs=inputs, ours=written_by_us)


def output_file(dest: Path, name_in_folder: str, inputs: Iterable[Path] = ()) -> Path:
    """The file to write for ``dest``: inside it when it is an existing folder; checked to be replaceable."""
    target = dest / name_in_folder if dest.is_dir() and not dest.is_symlink() else dest
    check_replaceable([target], inputs)
    return target


def output_folder(dest: Path) -> Path:
    """A folder to write files into (created when missing); an existing file there is refused."""
    if dest.exists() and not dest.is_dir():
        raise InputError(dest, "exists and is not a folder; a folder import writes several files into a folder")
    return dest
