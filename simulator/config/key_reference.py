"""Every scenario key as a row (dotted key, type, default, units, description), read from the JSON Schema that
``mercury-sim schema`` prints: the site's key reference is generated from it, so it cannot drift from what the
validation enforces."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Units are part of the key names (scenario.py's convention): the suffix says which.
UNITS = (("_ms", "ms"), ("_s", "s"), ("_mbps", "Mbit/s"), ("_bytes", "bytes"), ("_w", "W"), ("_j", "J"),
         ("fps", "frames/s"), ("rate_per_s", "1/s"), ("accuracy", "% top-1"), ("accuracy_floor", "% top-1"))


@dataclass(frozen=True)
class KeyRow:
    """One key of a scenario file (or of one schedule kind's entry)."""

    key: str
    type: str
    default: str
    units: str
    description: str


def units_of(key: str) -> str:
    """The unit a key's name states by its suffix, '' for a key without one."""
    name = key.rsplit(".", 1)[-1].split("]")[-1]
    found = ""
    for suffix, unit in UNITS:
        if name.endswith(suffix):
            found = unit
    return found


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """A node with its ``$ref`` followed (a ref's siblings, such as ``default``, kept)."""
    while "$ref" in node:
        target = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _non_null(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [option for option in node.get("anyOf", [node]) if option.get("type") != "null"]


def type_text(schema: dict[str, Any], node: dict[str, Any]) -> str:
    """A short type: ``number >= 0 | "random" | list of number``; enums list their values."""
    node = _resolve(schema, node)
    if "anyOf" in node:
        return " | ".join(type_text(schema, option) for option in node["anyOf"])
    if "const" in node:
        return json.dumps(node["const"])
    if "enum" in node:
        return " | ".join(json.dumps(value) for value in node["enum"])
    kind = node.get("type", "object" if "properties" in node else "any")
    if kind == "array":
        return f"list of {type_text(schema, node.get('items', {}))}"
    bounds = [f"{sign} {node[key]}" for key, sign in (("minimum", ">="), ("exclusiveMinimum", ">"),
                                                      ("maximum", "<="), ("exclusiveMaximum", "<"))
              if key in node]
    return " ".join([kind, *bounds]) if bounds else kind


def _object_of(schema: dict[str, Any], node: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """Where a key holds further keys: ('', model) for a nested model, ('.<name>', model) for a mapping of
    models (servers), ('[]', model) for a list of models (server_links); None for a plain value."""
    for option in _non_null(_resolve(schema, node)):
        option = _resolve(schema, option)
        if "properties" in option:
            return "", option
        extra = option.get("additionalProperties")
        if isinstance(extra, dict) and "properties" in _resolve(schema, extra):
            return ".<name>", _resolve(schema, extra)
        items = option.get("items")
        if option.get("type") == "array" and isinstance(items, dict) and "properties" in _resolve(schema, items):
            return "[]", _resolve(schema, items)
    return None


def key_rows(schema: dict[str, Any], model: dict[str, Any], prefix: str = "") -> list[KeyRow]:
    """The rows of a model's keys, nested models walked into (``network.rtt_ms``); schedules are left to
    :func:`schedule_kinds`."""
    rows: list[KeyRow] = []
    required = set(model.get("required", []))
    for name, raw in model.get("properties", {}).items():
        node = _resolve(schema, raw)
        key = f"{prefix}{name}"
        default = "required" if name in required else json.dumps(node["default"]) if "default" in node else "-"
        description = (node.get("description") or "").replace("\n", " ")
        nested = None if name == "schedules" and not prefix else _object_of(schema, node)
        if name == "schedules" and not prefix:
            rows.append(KeyRow(key, "list of schedule entries", default, "", "The schedules to compare; each "
                                                                             "kind's keys below"))
        elif nested is None:
            rows.append(KeyRow(key, type_text(schema, node), default, units_of(key), description))
        else:
            rows.append(KeyRow(key, "mapping" if nested[0] != "[]" else "list", default, "", description))
            rows.extend(key_rows(schema, nested[1], f"{key}{nested[0]}."))
    return rows


def schedule_kinds(schema: dict[str, Any]) -> dict[str, list[KeyRow]]:
    """Each schedule kind's keys, by kind (a model covering several kinds lists them joined)."""
    out: dict[str, list[KeyRow]] = {}
    for option in schema["properties"]["schedules"]["items"]["oneOf"]:
        model = _resolve(schema, option)
        kind = model.get("properties", {}).get("kind", {})
        names = [kind["const"]] if "const" in kind else kind.get("enum")
        if not names:  # the catch-all of kinds registered without a model of keys
            continue
        out[" / ".join(names)] = key_rows(schema, model)
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|") if text else "-"


def table(rows: list[KeyRow]) -> str:
    """A Markdown table of rows."""
    lines = ["| key | type | default | units | description |", "|---|---|---|---|---|"]
    lines += [f"| `{r.key}` | {_cell(r.type)} | {_cell(r.default)} | {_cell(r.units)} | {_cell(r.description)} |"
              for r in rows]
    return "\n".join(lines)


def scenario_keys_markdown(schema: dict[str, Any]) -> str:
    """The key reference page's body: the scenario's keys, then one table per schedule kind."""
    parts = ["## Scenario keys", "", table(key_rows(schema, schema)), "", "## Schedule kinds", ""]
    for kinds, rows in schedule_kinds(schema).items():
        parts += [f"### {kinds}", "", table(rows), ""]
    return "\n".join(parts)
