"""The axes of a sweep's grid: a single key with its values, or keys paired (zipped) into one axis.

A paired axis names its keys joined by ``+`` and lists rows, one value per key, so values that only make
sense together (a trace and its radio model) move together instead of forming a Cartesian product::

    network.trace + energy.radio:
      - [../traces/synthetic/lte-all.csv, lte-huang2012]
      - [../traces/synthetic/5g-all.csv, 5g-nsa-mmwave-narayanan2021]

The tables keep one column per key; plots and the console show a paired axis as one, its values joined.
A seed axis (averaged over in the summary) is one whose every key ends in ``seed``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from simulator.errors import InputError

PAIR_SEPARATOR = "+"
LABEL_SEPARATOR = " + "


def axis_keys(axis: str) -> list[str]:
    """The scenario keys an axis sets: one, or several for a paired axis ``a + b``."""
    return [part.strip() for part in axis.split(PAIR_SEPARATOR)]


def axis_columns(axes: Iterable[str]) -> list[str]:
    """Every key of ``axes``, in order: the table's axis columns."""
    return [key for axis in axes for key in axis_keys(axis)]


def is_paired(axis: str) -> bool:
    return len(axis_keys(axis)) > 1


def seed_axes(axes: list[str]) -> list[str]:
    """The axes the summary averages over: every key of the axis ends in ``seed`` (``workload.seed``)."""
    return [axis for axis in axes if all(key.split(".")[-1] == "seed" for key in axis_keys(axis))]


def axis_rows(axis: str, values: list[Any], source: str | Path) -> list[dict[str, Any]]:
    """An axis's points as key -> value mappings; a malformed axis is an InputError naming ``grid.<axis>``."""
    where = f"grid.{axis}"
    keys = axis_keys(axis)
    if not values:
        raise InputError(source, "an axis needs at least one value", where)
    if not all(keys):
        raise InputError(source, f"a paired axis joins dotted keys with '{PAIR_SEPARATOR}'; one of them is empty",
                         where)
    if len(keys) == 1:
        return [{keys[0]: value} for value in values]
    rows = []
    for i, row in enumerate(values):
        if not isinstance(row, list) or len(row) != len(keys):
            got = f"{len(row)} values" if isinstance(row, list) else repr(row)
            raise InputError(source, f"row {i}: expected a list of {len(keys)} values, one per key "
                                     f"({', '.join(keys)}); got {got}", where)
        rows.append(dict(zip(keys, row, strict=True)))
    return rows


def grid_points(grid: dict[str, list[Any]], source: str | Path) -> list[dict[str, Any]]:
    """Every point of the grid (the product of its axes, a paired axis counting once), as key -> value."""
    seen: dict[str, str] = {}
    for axis in grid:
        for key in axis_keys(axis):
            if key in seen:
                raise InputError(source, f"key {key} is set by two axes: {seen[key]!r} and {axis!r}",
                                 f"grid.{axis}")
            seen[key] = axis
    rows = [axis_rows(axis, values, source) for axis, values in grid.items()]
    return [{key: value for row in combo for key, value in row.items()} for combo in itertools.product(*rows)]
