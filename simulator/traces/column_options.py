"""From ``traces import csv|PRESET`` options to a :class:`ColumnMapping` and its provenance block."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from simulator.errors import InputError
from simulator.traces.columns import ColumnMapping, RowFilter
from simulator.traces.presets import PRESETS

COLUMN_ONLY = ("--time-col", "--rate-col", "--time-format", "--time-unit", "--rate-unit")
PRESET_ONLY = ("--link", "--network")
RULES = {"--missing": "missing", "--repeated": "repeated", "--max-gap": "max_gap", "--gap": "gap",
         "--rate-at": "rate_at", "--resample": "resample_s"}


def column_mapping(name: str, given: dict[str, Any]) -> tuple[ColumnMapping, dict]:
    """The mapping for format ``csv`` (column options required) or a preset (its layout, plus the rules
    given); options that do not apply to ``name`` are refused."""
    if name in PRESETS:
        for option in COLUMN_ONLY:
            if option in given:
                raise InputError(None, f"not used with preset {name} (it fixes the columns and units; "
                                 "use --link / --network, or format csv)", option)
        preset = PRESETS[name]
        mapping = preset.resolve(given.get("--link"), given.get("--network"))
        provenance = preset.provenance(given.get("--link"), given.get("--network"))
    else:
        for option in PRESET_ONLY:
            if option in given:
                raise InputError(None, "only used with a preset (format csv names its columns itself)", option)
        for option in ("--time-col", "--rate-col"):
            if option not in given:
                raise InputError(None, "a column-mapped csv import needs both --time-col and --rate-col", option)
        mapping = ColumnMapping(time_col=given["--time-col"], rate_col=given["--rate-col"],
                                time_format=given.get("--time-format"), time_unit=given.get("--time-unit", "s"),
                                rate_unit=given.get("--rate-unit", "Mbps"))
        provenance = {}
    filters = tuple(RowFilter.parse(text) for text in given.get("--where", []))
    rules = {field: given[option] for option, field in RULES.items() if option in given}
    if "missing" in rules:
        rules["missing"] = tuple(rules["missing"])
    return replace(mapping, **rules).with_filters(*filters).checked(), provenance


def option_words(given: dict[str, Any]) -> list[str]:
    """The options as typed, for the provenance ``command`` (repeatable ones once per value)."""
    words: list[str] = []
    for option, value in given.items():
        for item in value if isinstance(value, list) else [value]:
            words.extend((option, str(item)))
    return words
