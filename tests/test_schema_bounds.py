"""`mercury-sim schema` and the scenario validation agree on every numeric bound.

The test walks the generated JSON Schema: every number or integer with a minimum or maximum (a pydantic Field
bound, or a model-dependent one from the schema's if/then rules) is set on a minimal scenario at the bound and
one step either side (1 for integers, the next float for numbers), and the loader must accept exactly what
the JSON Schema accepts. An out-of-bound value is refused in one line naming the key and the bound.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest

from simulator.config.scenario import json_schema, scenario_from_dict
from simulator.errors import InputError
from simulator.files.validation import dotted

jsonschema = pytest.importorskip("jsonschema")  # the dev extra

DROP = object()
BASE: dict[str, Any] = {
    "name": "bounds",
    "network": {"trace": "lte-all"},
    "workload": {"fps": 1, "n_requests": 2},
    "servers": {"edge": {"profile": "rtx-4090", "link": {"mbps": 10}}},
    "server_links": [{"between": ["cloud", "edge"], "mbps": 10}],
    "schedules": [{"kind": "mobile-only"}],
}
# The least each shipped kind needs to load (a plug-in's keys are its own model's, outside the scenario schema).
ENTRIES: dict[str, dict[str, Any]] = {
    "mobile-only": {}, "cloud-only": {}, "otas": {"split_after": 3}, "janus": {"split_after": 3},
    "mercury": {"split_after": 3}, "mercury-adaptive": {"latency_budget_ms": 500}, "oracle": {}}
# Keys that only apply beside others: (definition, key) -> sibling keys to set (DROP: remove).
COMPANIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("Workload", "duration_s"): {"n_requests": DROP},
    ("Workload", "rate_per_s"): {"arrival": "poisson", "fps": DROP},
    ("Network", "mean_mbps"): {"mode": "mean"},
    ("AdaptiveMercury", "split_candidates"): {"split_after": "auto"},
}
BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")

SCHEMA = json_schema()
VALIDATOR = jsonschema.validators.validator_for(SCHEMA)(SCHEMA)

Path_ = tuple[Any, ...]


class Case(NamedTuple):
    at: Path_  # where the value goes
    extra: dict[Path_, Any]  # what else to set first
    leaf: dict[str, Any]  # the number's schema
    label: str
    in_list: bool = False  # the bound is on a list's items: the value goes in as [value]


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """The definition a node refers to: by ``$ref``, or by a one-member ``allOf`` (older pydantic releases
    write a reference that carries a default or a description that way)."""
    while "$ref" in node or len(node.get("allOf", [])) == 1 and "$ref" in node["allOf"][0]:
        ref = node["$ref"] if "$ref" in node else node["allOf"][0]["$ref"]
        node = SCHEMA["$defs"][ref.rsplit("/", 1)[-1]]
    return node


def branches(node: dict[str, Any]) -> list[dict[str, Any]]:
    """What a property may hold: itself, or each member of its anyOf (refs resolved)."""
    node = resolve(node)
    return [resolve(b) for b in node["anyOf"]] if "anyOf" in node else [node]


def bounded(node: dict[str, Any]) -> bool:
    return node.get("type") in ("number", "integer") and any(b in node for b in BOUNDS)


def leaves(definition: dict[str, Any], where: Path_, extra: dict[Path_, Any]) -> Iterator[Case]:
    """Every bounded number under ``definition``, an object at ``where`` in the instance."""
    name = definition.get("title", "")
    for key, prop in definition["properties"].items():
        at = (*where, key)
        more = {**extra, **{(*where, k): v for k, v in COMPANIONS.get((name, key), {}).items()}}
        for branch in branches(prop):
            items = resolve(branch.get("items") or {})
            values = resolve(branch.get("additionalProperties") or {})
            if bounded(branch):
                yield Case(at, more, branch, f"{name}.{key}")
            elif bounded(items):
                yield Case(at, more, items, f"{name}.{key}[]", in_list=True)
            elif "properties" in branch:
                yield from leaves(branch, at, more)
            elif "properties" in items:  # a list of objects: its first entry
                yield from leaves(items, (*at, 0), more)
            elif "properties" in values:  # a mapping of objects: the base scenario's first one
                yield from leaves(values, (*at, next(iter(instance_at(BASE, at)))), more)


def instance_at(data: Any, at: Path_) -> Any:
    for part in at:
        data = data[part]
    return data


def schedule_definitions() -> dict[str, dict[str, Any]]:
    """Each shipped kind's definition (the plug-in entry has no constant kind)."""
    found = (resolve(ref) for ref in SCHEMA["properties"]["schedules"]["items"]["oneOf"])
    return {d["properties"]["kind"]["const"]: d for d in found if "const" in d["properties"]["kind"]}


def field_cases() -> Iterator[Case]:
    """The pydantic Field bounds, every schedule kind in turn as schedules[0]."""
    root = {"title": "Scenario", "properties": {k: v for k, v in SCHEMA["properties"].items() if k != "schedules"}}
    yield from leaves(root, (), {})
    for kind, definition in schedule_definitions().items():
        yield from leaves(definition, ("schedules", 0), {("schedules", 0): {"kind": kind, **ENTRIES[kind]}})


def rule_cases() -> Iterator[Case]:
    """The model-dependent bounds of the schema's top-level if/then rules, for every value their ifs name."""
    for rule in SCHEMA.get("allOf", []):
        models = rule["if"]["properties"]["model"]["enum"]
        for model in [models[0]] + ([None] if "required" not in rule["if"] else []):  # None: left out
            for item_rule in rule["then"]["properties"]["schedules"]["items"]["allOf"]:
                yield from item_rule_cases(item_rule, {("model",): DROP if model is None else model}, model)


def item_rule_cases(item_rule: dict[str, Any], extra_model: dict[Path_, Any], model: str | None) -> Iterator[Case]:
    condition = item_rule.get("if", {}).get("properties", {})
    bounds = (item_rule.get("then") or item_rule)["properties"]
    definitions = schedule_definitions()
    kinds = [condition["kind"]["const"]] if "kind" in condition else list(definitions)
    for kind in kinds:
        definition = definitions[kind]
        for key, leaf in bounds.items():
            if key not in definition["properties"]:
                continue
            for window in condition.get("window", {}).get("enum", [None]):
                entry = {"kind": kind, **ENTRIES[kind], **({"window": window} if window is not None else {})}
                companions = COMPANIONS.get((definition["title"], key), {})
                extra = {**extra_model, ("schedules", 0): entry,
                         **{("schedules", 0, k): v for k, v in companions.items()}}
                yield Case(("schedules", 0, key), extra, {"type": "number", **leaf.get("items", leaf)},
                           f"{model}/{kind}/window {window}/{key}", in_list="items" in leaf)


def build(case: Case, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    for path, v in [*sorted(case.extra.items(), key=lambda kv: len(kv[0])),
                    (case.at, [value] if case.in_list else value)]:
        node: Any = data
        for part in path[:-1]:  # an optional section (cloud, energy) is created
            node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
        if v is DROP:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = copy.deepcopy(v)
    return data


def around(bound: float, integer: bool) -> list[float]:
    if integer:
        return [bound - 1, bound, bound + 1]
    return [math.nextafter(bound, -math.inf), bound, math.nextafter(bound, math.inf)]


def outside(value: float, leaf: dict[str, Any], bound_key: str) -> bool:
    bound = leaf[bound_key]
    return {"minimum": value < bound, "exclusiveMinimum": value <= bound,
            "maximum": value > bound, "exclusiveMaximum": value >= bound}[bound_key]


def test_the_base_scenario_is_valid_for_every_kind() -> None:
    """Also: a shipped kind matches its own definition only, not the plug-in's too (the schema's oneOf)."""
    for kind, entry in ENTRIES.items():
        data = build(Case(("schedules", 0), {}, {}, kind), {"kind": kind, **entry})
        assert VALIDATOR.is_valid(data), [e.message for e in VALIDATOR.iter_errors(data)]
        scenario_from_dict(data)


def test_validation_accepts_exactly_what_the_schema_accepts() -> None:
    seen: dict[str, set[bool]] = {}
    for case in [*field_cases(), *rule_cases()]:
        leaf, label = case.leaf, case.label
        integer = leaf.get("type") == "integer"
        for bound_key in (b for b in BOUNDS if b in leaf):
            for value in around(leaf[bound_key], integer):
                value = int(value) if integer else value
                data = build(case, value)
                schema_ok = VALIDATOR.is_valid(data)
                try:
                    scenario_from_dict(data)
                    loaded, message = True, ""
                except InputError as exc:
                    loaded, message = False, exc.one_line()
                assert loaded == schema_ok, f"{label} = {value!r}: schema says {schema_ok}, load says {message!r}"
                seen.setdefault(label.rsplit("/", 1)[-1] if "/" in label else label, set()).add(loaded)
                if not loaded and outside(value, leaf, bound_key):
                    key = dotted((*case.at, 0) if case.in_list else case.at)
                    assert message.count("\n") == 0 and f"{key}: " in message, (label, message)
                    assert f"{leaf[bound_key]:g}" in message, (label, message)
    straddled = {label for label, outcomes in seen.items() if outcomes == {True, False}}
    assert straddled == set(seen), f"never both accepted and refused: {set(seen) - straddled}"
    # the walk reaches every bounded key of every definition, and the model-dependent ones
    everywhere = {f"{d['title']}.{key}" for d in SCHEMA["$defs"].values() for key, prop in d["properties"].items()
                  if any(bounded(b) for b in branches(prop))}
    assert everywhere <= set(seen) and len(everywhere) > 40
    assert {"Network.start_offset_s[]", "AdaptiveMercury.split_candidates[]", "reduction", "split_after",
            "split_candidates"} <= set(seen)


def test_reduction_above_the_anchor_limit_names_key_and_bound() -> None:
    """One anchor per 2x2 window keeps 7 x 7 = 49 of DeiT-B's 14 x 14 patches: at most 147/196 = 0.75 pruned;
    3x3 windows keep 4 x 4 = 16: at most 180/196. The tiny example model (8 x 8 patches) keeps 16 of 64 with
    2x2 windows: 48/64 = 0.75, and has 6 blocks."""
    def message(entry: dict[str, Any], model: str | None = None) -> str:
        data = build(Case(("schedules", 0), {("model",): model} if model else {}, {}, ""), entry)
        with pytest.raises(InputError) as exc:
            scenario_from_dict(data)
        return exc.value.one_line()

    assert "schedules[0].reduction: must be <= 0.75 (got 0.76)" in message(
        {"kind": "mercury", "split_after": 3, "reduction": 0.76})
    assert f"schedules[0].reduction: must be <= {180 / 196:g} (got 0.92)" in message(
        {"kind": "mercury", "split_after": 3, "reduction": 0.92, "window": 3})
    scenario_from_dict(build(Case(("schedules", 0), {}, {}, ""), {"kind": "mercury", "split_after": 3,
                                                                 "reduction": 0.9, "window": 3}))
    assert "schedules[0].split_after: must be in 1..6" in message(
        {"kind": "mercury", "split_after": 7, "reduction": 0.5}, "example_vit_tiny_shapes")
