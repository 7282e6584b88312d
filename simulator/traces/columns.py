"""Column-mapped CSV import: pick a time column and a rate column out of any measurement log.

Most public cellular logs are one CSV per drive with a header of many named columns, wall-clock
timestamps at about one second (with repeated and skipped seconds), throughput in some unit and a marker
such as ``-`` for missing values. :class:`ColumnMapping` says how to read one; :func:`read_columns`
turns a file into a piecewise-constant series under stated rules (traces/README.md, "Column-mapped CSV"):

* a row whose time is before the last kept row's is dropped (and counted: ``rows_dropped_backwards``), as
  loggers whose clock steps back write a row or two out of order; when more than ``MAX_BACKWARDS_SHARE`` of
  the rows go backwards the file is not in time order and is refused, naming the first such line;
* rows sharing a timestamp are merged by ``repeated``: ``mean`` (default), ``last`` or ``sum``;
* a row whose rate is a missing-value marker is left out; the sample before it is held (bridged) when
  at most ``max_gap`` samples are missing, otherwise the time is an outage (0 Mbit/s) or, with
  ``gap="bridge"``, still bridged;
* ``rate_at="start"``: a value holds from its row's time until the next row (the project's own rule);
  ``"end"``: it is the rate over the interval that ends at its row (a logger that reports bytes since
  the previous row).

Every error names the file, the line and the column. Rows are streamed; only the kept samples are held.
"""

from __future__ import annotations

import csv
import math
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np

from simulator.errors import InputError
from simulator.traces.csv_format import open_text

TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "epoch": 1.0}
RATE_UNITS = {"bps": 1e-6, "kbps": 1e-3, "Mbps": 1.0, "Bps": 8e-6, "kBps": 8e-3, "MBps": 8.0}
DEFAULT_MISSING = ("", "-", "--", "NA", "N/A", "NaN", "nan", "null", "None")
Repeated = Literal["mean", "last", "sum"]
GapRule = Literal["outage", "bridge"]
RateAt = Literal["start", "end"]
DELIMITERS = ",;\t"
MAX_BACKWARDS_SHARE = 0.1  # above it, rows going backwards are a file out of order, not a clock that stepped back


@dataclass(frozen=True)
class RowFilter:
    """``COLUMN == VALUE`` or ``COLUMN != VALUE``, compared as text with surrounding spaces removed."""

    column: str
    value: str
    equal: bool = True

    @classmethod
    def parse(cls, text: str) -> RowFilter:
        for op, equal in (("==", True), ("!=", False)):
            if op in text:
                column, value = (part.strip() for part in text.split(op, 1))
                value = value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"" else value
                if column:
                    return cls(column, value, equal)
        raise InputError(None, f"expected 'COLUMN == VALUE' or 'COLUMN != VALUE', got {text!r}", "--where")

    def __str__(self) -> str:
        return f"{self.column} {'==' if self.equal else '!='} {self.value}"


@dataclass(frozen=True)
class ColumnMapping:
    """How to read one measurement log (see the module docstring for the rules)."""

    time_col: str
    rate_col: str
    time_format: str | None = None
    time_unit: str = "s"
    rate_unit: str = "Mbps"
    where: tuple[RowFilter, ...] = ()
    missing: tuple[str, ...] = DEFAULT_MISSING
    repeated: Repeated = "mean"
    max_gap: int = 3
    gap: GapRule = "outage"
    rate_at: RateAt = "start"
    resample_s: float | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def checked(self) -> ColumnMapping:
        """This mapping, or an :class:`InputError` naming the option that is wrong."""
        if self.time_format is not None and self.time_unit != "s":
            raise InputError(None, "give either --time-format or --time-unit, not both", "--time-format")
        if self.time_unit not in TIME_UNITS:
            raise InputError(None, f"unknown time unit {self.time_unit!r}; expected one of: "
                             f"{', '.join(TIME_UNITS)}", "--time-unit")
        if self.rate_unit not in RATE_UNITS:
            raise InputError(None, f"unknown rate unit {self.rate_unit!r}; expected one of: "
                             f"{', '.join(RATE_UNITS)}", "--rate-unit")
        for name, value, allowed in (("--repeated", self.repeated, ("mean", "last", "sum")),
                                     ("--gap", self.gap, ("outage", "bridge")),
                                     ("--rate-at", self.rate_at, ("start", "end"))):
            if value not in allowed:
                raise InputError(None, f"expected one of {', '.join(allowed)}, got {value!r}", name)
        if self.max_gap < 0:
            raise InputError(None, f"must be >= 0 samples, got {self.max_gap}", "--max-gap")
        if self.resample_s is not None and not (math.isfinite(self.resample_s) and self.resample_s > 0):
            raise InputError(None, f"must be a positive number of seconds, got {self.resample_s}", "--resample")
        return self

    def with_filters(self, *filters: RowFilter) -> ColumnMapping:
        return replace(self, where=self.where + filters)

    def describe(self) -> dict:
        """The mapping as provenance: source columns, units and the rules applied."""
        out: dict = {"time_column": self.time_col, "rate_column": self.rate_col}
        out["time"] = f"strftime {self.time_format} (read as UTC)" if self.time_format else self.time_unit
        out["rate_unit_in"] = self.rate_unit
        if self.where:
            out["where"] = [str(f) for f in self.where]
        out["missing_markers"] = list(self.missing)
        out["repeated_timestamps"] = self.repeated
        out["gaps"] = f"up to {self.max_gap} missing samples bridged; longer: {self.gap}"
        out["rate_refers_to"] = ("interval starting at its row" if self.rate_at == "start"
                                 else "interval ending at its row")
        if self.resample_s is not None:
            out["resampled_s"] = self.resample_s
        return out


@dataclass(frozen=True)
class Series:
    """A converted log: segment start times (s, from 0), rates (Mbit/s) and the sample period."""

    times_s: np.ndarray
    mbps: np.ndarray
    period_s: float
    rows_read: int
    samples: int
    repeated_rows: int
    gaps_bridged: int
    outages: int
    rows_dropped: int = 0  # rows whose time was before the last kept row's

    def summary(self) -> dict:
        return {"rows_read": self.rows_read, "samples": self.samples, "sample_period_s": self.period_s,
                "repeated_timestamp_rows": self.repeated_rows, "gaps_bridged": self.gaps_bridged,
                "gaps_as_outage": self.outages, "rows_dropped_backwards": self.rows_dropped}


class _Columns:
    """Where the mapped columns sit in a header (by name, or by 1-based number)."""

    def __init__(self, path: Path, header: list[str] | None, mapping: ColumnMapping, line: int) -> None:
        self.path, self.header_line = path, line
        self.names = [h.strip().lstrip("\ufeff") for h in header] if header is not None else None
        self.time = self.index(mapping.time_col)
        self.rate = self.index(mapping.rate_col)
        self.filters = [(self.index(f.column), f) for f in mapping.where]
        self.needed = max([self.time, self.rate, *(i for i, _ in self.filters)]) + 1

    def index(self, column: str) -> int:
        if self.names is not None and column in self.names:
            return self.names.index(column)
        if column.isdigit() and int(column) >= 1:
            return int(column) - 1
        if self.names is None:
            raise InputError(self.path, f"column {column!r} is named but the file has no header; "
                             "give a 1-based column number", f"line {self.header_line}")
        raise InputError(self.path, f"no column {column!r} in the header; it has: "
                         f"{', '.join(self.names)}", f"line {self.header_line}")


def _delimiter(line: str) -> str:
    """The field separator of a log: the first of comma, semicolon, tab that the line contains."""
    return next((d for d in DELIMITERS if d in line), ",")


def _fields(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter))


class _TimeReader:
    def __init__(self, path: Path, mapping: ColumnMapping) -> None:
        self.path, self.format = path, mapping.time_format
        self.scale = TIME_UNITS[mapping.time_unit]
        self.column = mapping.time_col

    def seconds(self, text: str, line: int) -> float:
        text = text.strip()
        try:
            if self.format:
                moment = datetime.strptime(text, self.format)
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=UTC)
                return moment.timestamp()
            value = float(text) * self.scale
        except ValueError:
            expected = f"a time like strftime {self.format!r}" if self.format else "a number"
            raise InputError(self.path, f"cannot read {text[:40]!r} as time (expected {expected})",
                             f"line {line}, column {self.column}") from None
        if not math.isfinite(value):
            raise InputError(self.path, f"time must be finite, got {text!r}", f"line {line}, column {self.column}")
        return value


def _rows(path: Path, mapping: ColumnMapping) -> Iterator[tuple[int, float, float | None]]:
    """Yield ``(line, time_s, mbps or None)`` for every row passing the filters, in file order."""
    clock = _TimeReader(path, mapping)
    scale = RATE_UNITS[mapping.rate_unit]
    missing = set(mapping.missing)
    named = not (mapping.time_col.isdigit() and mapping.rate_col.isdigit())
    columns: _Columns | None = None
    delimiter = ","
    with open_text(path) as handle:
        try:
            for number, raw in enumerate(handle, start=1):
                line = raw.rstrip("\r\n")
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                if columns is None:
                    delimiter = _delimiter(line)
                    fields = _fields(line, delimiter)
                    if named or _is_header(fields, mapping, clock):
                        columns = _Columns(path, fields, mapping, number)
                        continue
                    columns = _Columns(path, None, mapping, number)
                else:
                    fields = _fields(line, delimiter)
                if len(fields) < columns.needed:
                    raise InputError(path, f"expected at least {columns.needed} fields, got {len(fields)}",
                                     f"line {number}")
                if not all((fields[i].strip() == f.value) == f.equal for i, f in columns.filters):
                    continue
                t = clock.seconds(fields[columns.time], number)
                yield number, t, _rate(path, fields[columns.rate].strip(), missing, scale, number,
                                       mapping.rate_col)
        except UnicodeDecodeError as exc:
            raise InputError(path, f"not a UTF-8 text file ({exc.reason})") from None
    if columns is None:
        raise InputError(path, "no header or rows found (empty file?)")


def _is_header(fields: list[str], mapping: ColumnMapping, clock: _TimeReader) -> bool:
    """With numbered columns, a first line whose time field is not a time is a header."""
    index = int(mapping.time_col) - 1
    if index >= len(fields):
        return True
    try:
        clock.seconds(fields[index], 0)
    except InputError:
        return True
    return False


def _rate(path: Path, text: str, missing: set[str], scale: float, line: int, column: str) -> float | None:
    if text in missing:
        return None
    try:
        value = float(text) * scale
    except ValueError:
        raise InputError(path, f"cannot read {text[:40]!r} as a number (missing-value markers: "
                         f"{', '.join(repr(m) for m in sorted(missing))})", f"line {line}, column {column}") from None
    if not math.isfinite(value) or value < 0:
        raise InputError(path, f"rate must be finite and >= 0, got {text!r}", f"line {line}, column {column}")
    return value


def read_columns(path: str | Path, mapping: ColumnMapping) -> Series:
    """Convert one log into a series under the rules of ``mapping`` (errors name file, line, column)."""
    path = Path(path)
    mapping = mapping.checked()
    times, rates, row_steps = array("d"), array("d"), array("d")
    rows = repeated = 0
    last_t, last_line = -math.inf, 0
    group: list[float] = []
    first_line = 0
    first_back: tuple[int, float, float, int] | None = None  # line, time, last kept time, its line
    dropped = 0
    for number, t, rate in _rows(path, mapping):
        rows += 1
        if rows == 1:
            first_line = number
        if t < last_t:
            dropped += 1
            first_back = first_back or (number, t, last_t, last_line)
            continue
        if t == last_t:
            repeated += 1
        else:
            if rows > 1:
                row_steps.append(t - last_t)
            if group:
                times.append(last_t)
                rates.append(_merge(group, mapping.repeated))
                group = []
        if rate is not None:
            group.append(rate)
        last_t, last_line = t, number
    if group:
        times.append(last_t)
        rates.append(_merge(group, mapping.repeated))
    if rows == 0:
        where = f" matching {' and '.join(str(f) for f in mapping.where)}" if mapping.where else ""
        raise InputError(path, f"no data rows{where}", f"column {mapping.time_col}")
    if first_back is not None and dropped > MAX_BACKWARDS_SHARE * rows:
        line, t_back, t_kept, kept_line = first_back
        raise InputError(path, f"time goes backwards on {dropped} of {rows} rows ({dropped / rows:.0%}; first "
                         f"{_fmt(t_back)} after {_fmt(t_kept)} on line {kept_line}); more than "
                         f"{MAX_BACKWARDS_SHARE:.0%} means the rows are not in time order: sort them by time",
                         f"line {line}, column {mapping.time_col}")
    if not times:
        raise InputError(path, f"every value is missing (markers: {', '.join(repr(m) for m in mapping.missing)})",
                         f"lines {first_line}-{last_line}, column {mapping.rate_col}")
    if len(times) < 2:
        raise InputError(path, "only one sample with a value; at least two are needed to know the sample "
                         "period", f"line {last_line}, column {mapping.rate_col}")
    t = np.frombuffer(times, dtype=np.float64)
    r = np.frombuffer(rates, dtype=np.float64)
    period = float(np.median(np.frombuffer(row_steps, dtype=np.float64)))
    return _series(t, r, period, mapping, rows, repeated, dropped)


def _fmt(t: float) -> str:
    return f"{t:.6g}" if abs(t) < 1e6 else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _merge(values: list[float], rule: Repeated) -> float:
    if rule == "last":
        return values[-1]
    if rule == "sum":
        return math.fsum(values)
    return math.fsum(values) / len(values)


def _series(t: np.ndarray, r: np.ndarray, period: float, mapping: ColumnMapping, rows: int,
            repeated: int, dropped: int) -> Series:
    """Segments from samples: gaps bridged or turned into outages, then shifted to start at 0.

    ``period`` is the median step between consecutive distinct row times (rows with a missing value
    included), so that missing values show up as missing samples.
    """
    steps = np.diff(t)
    missing_samples = np.floor(steps / period + 0.5) - 1
    long_gap = missing_samples > mapping.max_gap
    outage = long_gap if mapping.gap == "outage" else np.zeros_like(long_gap)
    zeros_at = t[:-1][outage]  # an outage starts where the sample before the gap ends its hold
    if mapping.rate_at == "start":
        starts = t.copy()
        zeros_at = zeros_at + period
    else:
        starts = np.concatenate(([t[0] - period], t[:-1]))
        starts[1:][outage] = t[1:][outage] - period  # after a long gap a value covers one period only
        if starts[-1] < t[-1] - period:  # the last row lasts one period (the trace format's rule)
            starts, r = np.append(starts, t[-1] - period), np.append(r, r[-1])
    starts = np.concatenate((starts, zeros_at))
    values = np.concatenate((r, np.zeros(zeros_at.size)))
    order = np.argsort(starts, kind="stable")
    starts, values = starts[order], values[order]
    times_s = starts - starts[0]
    mbps = values
    if mapping.resample_s is not None:
        end = t[-1] + period if mapping.rate_at == "start" else t[-1]
        times_s, mbps = resample(times_s, mbps, end - starts[0], mapping.resample_s)
    return Series(times_s, mbps, mapping.resample_s or period, rows, int(t.size), repeated,
                  int(np.count_nonzero((missing_samples > 0) & ~outage)), int(np.count_nonzero(outage)), dropped)


def resample(times_s: np.ndarray, mbps: np.ndarray, duration_s: float, step_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Time-weighted averages over bins of ``step_s`` (exact: the cumulative bit count is piecewise linear).

    A last bin shorter than ``step_s`` averages over the time it covers.
    """
    bounds = np.append(times_s, duration_s)
    cum = np.concatenate(([0.0], np.cumsum(mbps * np.diff(bounds))))
    count = math.ceil(duration_s / step_s - 1e-9)
    edges = np.minimum(np.arange(count + 1) * step_s, duration_s)
    bits = np.diff(np.interp(edges, bounds, cum))
    return edges[:-1], bits / np.diff(edges)
