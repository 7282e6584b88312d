"""Importer for the Ghoshal et al. 5G-MeMU 2022 uplink data set (the traces the Mercury paper replays).

A ``.list`` file holds runs separated by lines of ``#``; each run opens with ``Run k`` and has either
ONE line (uplink throughput in Mbit/s, one value per 0.1 s) or FOUR lines (5G NSA: NR timestamps, NR
throughput, LTE-anchor timestamps, LTE-anchor throughput). For 5G the usable capacity is the sum of both
legs (the NR leg alone is often 0 while driving), so by default both legs are binned onto one 0.1 s grid
and summed; ``legs="nr"`` keeps the NR samples alone, exactly as recorded.

Observed quirks handled here (and documented in traces/README.md): the LTE-leg timestamps sometimes step
back by a few seconds (the logger re-emits a stretch), so several samples can fall into one 0.1 s bin and
are averaged; the NR leg has gaps (up to 52 s), which count as 0 NR capacity on the grid. The summed trace
spans the NR leg's first to last timestamp, the window of the 5G measurement; LTE samples outside it
(before NR attached / after it was logged) are not part of the 5G run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from simulator.errors import InputError
from simulator.traces.csv_format import open_text

SAMPLE_S = 0.1
NETWORKS = ("lte", "5g")
MOBILITIES = ("static", "walking", "driving")
Legs = Literal["sum", "nr"]


@dataclass(frozen=True)
class Run:
    """One measurement run: its throughput lines as parsed, and where it came from."""

    source: Path
    label: str
    line: int
    values: tuple[np.ndarray, ...]  # 1 array (one-line run) or 4 (NR t, NR x, LTE t, LTE x)

    def samples(self, legs: Legs = "sum") -> np.ndarray:
        """Capacity in Mbit/s on a 0.1 s grid."""
        if len(self.values) == 1:
            return self.values[0]
        nr_t, nr_x, lte_t, lte_x = self.values
        if legs == "nr":
            return nr_x
        return sum_legs(nr_t, nr_x, lte_t, lte_x)


def _bin(t: np.ndarray, x: np.ndarray, origin: float, n_bins: int) -> np.ndarray:
    """Average the samples falling into each 0.1 s bin from ``origin``; empty bins are 0."""
    index = np.floor((t - origin) / SAMPLE_S + 1e-6).astype(np.int64)
    keep = (index >= 0) & (index < n_bins)
    total = np.bincount(index[keep], weights=x[keep], minlength=n_bins)
    count = np.bincount(index[keep], minlength=n_bins)
    return np.divide(total, count, out=np.zeros(n_bins), where=count > 0)


def sum_legs(nr_t: np.ndarray, nr_x: np.ndarray, lte_t: np.ndarray, lte_x: np.ndarray) -> np.ndarray:
    """NR + LTE capacity on the common 0.1 s grid spanning the NR leg."""
    origin = float(nr_t[0])
    n_bins = int(math.floor((float(nr_t[-1]) - origin) / SAMPLE_S + 1e-6)) + 1
    return _bin(nr_t, nr_x, origin, n_bins) + _bin(lte_t, lte_x, origin, n_bins)


def _numbers(path: Path, line: str, number: int) -> np.ndarray:
    fields = line.rstrip(",").split(",")
    try:
        values = np.array([float(f) for f in fields])
    except ValueError:
        bad = next(f for f in fields if not _is_float(f))
        raise InputError(path, f"expected comma-separated numbers, got {bad.strip()[:30]!r}",
                         f"line {number}") from None
    if not np.all(np.isfinite(values)):
        raise InputError(path, "values must be finite (found NaN or infinity)", f"line {number}")
    if np.any(values < 0):
        raise InputError(path, f"values must be >= 0, got {values[values < 0][0]}", f"line {number}")
    return values


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _finish(path: Path, label: str, start: int, lines: list[tuple[int, np.ndarray]]) -> Run:
    if len(lines) not in (1, 4):
        raise InputError(path, f"{label} has {len(lines)} value lines; expected 1 (throughput) or 4 "
                         "(NR timestamps, NR throughput, LTE timestamps, LTE throughput)", f"line {start}")
    if len(lines) == 4:
        for (t_line, t), (x_line, x) in ((lines[0], lines[1]), (lines[2], lines[3])):
            if t.size != x.size:
                raise InputError(path, f"{label}: {x.size} throughput values but {t.size} timestamps "
                                 f"(line {t_line})", f"line {x_line}")
        nr_line, nr_t = lines[0]
        steps = np.diff(nr_t)
        if np.any(steps <= 0):
            k = int(np.argmax(steps <= 0))
            raise InputError(path, f"{label}: NR timestamps must increase, got {nr_t[k + 1]} after {nr_t[k]}",
                             f"line {nr_line}")
    return Run(path, label, start, tuple(v for _, v in lines))


def read_list(path: str | Path) -> list[Run]:
    """Parse one ``.list`` file, streaming it line by line; errors name the file and line."""
    path = Path(path)
    runs: list[Run] = []
    label: str | None = None
    start = 0
    lines: list[tuple[int, np.ndarray]] = []
    with open_text(path) as handle:
        try:
            for number, raw in enumerate(handle, start=1):
                line = raw.strip()
                if not line:
                    continue
                if set(line) == {"#"}:
                    if label is not None:
                        runs.append(_finish(path, label, start, lines))
                    label, lines = None, []
                    continue
                if line.lower().startswith("run"):
                    if label is not None:
                        runs.append(_finish(path, label, start, lines))
                    label, start, lines = line, number, []
                    continue
                if label is None:
                    raise InputError(path, f"expected a 'Run k' header before values, got {line[:30]!r}",
                                     f"line {number}")
                lines.append((number, _numbers(path, line, number)))
        except UnicodeDecodeError as exc:
            raise InputError(path, f"not a UTF-8 text file ({exc.reason})") from None
    if label is not None:
        runs.append(_finish(path, label, start, lines))
    if not runs:
        raise InputError(path, "no runs found (expected '####' separators and 'Run k' headers)")
    return runs


def group_of(path: Path) -> tuple[str, str]:
    """(network, mobility) from the data set layout ``.../{mobility}/{network}/name.list``."""
    network = path.parent.name.lower()
    mobility = path.parent.parent.name.lower()
    if network not in NETWORKS or mobility not in MOBILITIES:
        return "unknown", "unknown"
    return network, mobility


def list_files(src: str | Path) -> list[Path]:
    """The throughput ``.list`` files under ``src`` (a file, the data set, or its throughput/ folder)."""
    src = Path(src)
    if src.is_file():
        return [src]
    if not src.is_dir():
        raise InputError(src, "no such file or folder")
    root = src / "throughput" if (src / "throughput").is_dir() else src
    files = sorted(p for p in root.rglob("*.list") if "ping" not in p.relative_to(root).parts)
    if not files:
        raise InputError(src, "no .list files found (expected throughput/{static,walking,driving}/{lte,5g}/)")
    return files


def iter_runs(src: str | Path) -> Iterator[tuple[str, str, Run]]:
    """Every run under ``src`` with its (network, mobility), in file then run order."""
    for path in list_files(src):
        network, mobility = group_of(path)
        for run in read_list(path):
            yield network, mobility, run


def every_number_in(files: list[Path]) -> np.ndarray:
    """All numbers in the value lines, timestamps included: reproduces how the Mercury paper's
    '126,216 s of 5G at 48.2 Mbps' arises (see traces/README.md)."""
    chunks = [v for path in files for run in read_list(path) for v in run.values]
    return np.concatenate(chunks)
