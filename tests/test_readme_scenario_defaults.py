"""The annotated scenario of docs/reference/scenario-files.md (its first YAML block) shows each key at its schema
default, unless the line's comment marks the value as an example; an example that names its default
("default: X") names the real one."""

from __future__ import annotations

import re
import typing
from typing import Any

import yaml
from conftest import REPO
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from simulator.config import scenario as schema

DEFAULT_NAMED = re.compile(r"default: ([^\s;,)]+)")


def annotated_block() -> str:
    text = (REPO / "docs" / "reference" / "scenario-files.md").read_text(encoding="utf-8")
    return text.split("```yaml\n", 1)[1].split("\n```", 1)[0]


def schedule_models() -> dict[str, type[BaseModel]]:
    """Each shipped kind's config model, by its ``kind`` literal."""
    models = {}
    for value in vars(schema).values():
        if isinstance(value, type) and issubclass(value, BaseModel) and "kind" in value.model_fields:
            kinds = typing.get_args(value.model_fields["kind"].annotation)
            models.update({kind: value for kind in kinds if isinstance(kind, str)})
    return models


def compared_keys(block: str) -> list[tuple[str, Any, Any, str]]:
    """(dotted key, value shown, schema default, the line's comment) of every key that has a default."""
    lines = block.splitlines()
    loader = yaml.SafeLoader("")
    kinds = schedule_models()
    out: list[tuple[str, Any, Any, str]] = []

    def walk(node: yaml.Node, model: type[BaseModel], where: str) -> None:
        assert isinstance(node, yaml.MappingNode), where
        for key_node, value_node in node.value:
            key = key_node.value
            dotted = f"{where}{key}"
            assert key in model.model_fields, f"the page shows {dotted}, which {model.__name__} does not have"
            field = model.model_fields[key]
            if key == "schedules":
                for i, item in enumerate(value_node.value):
                    kind = next(v.value for k, v in item.value if k.value == "kind")
                    walk(item, kinds[kind], f"schedules[{i}].")
                continue
            if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                walk(value_node, field.annotation, f"{dotted}.")
                continue
            if field.default is PydanticUndefined:  # required: nothing to compare with
                continue
            line = lines[key_node.start_mark.line]
            comment = line.split("#", 1)[1] if "#" in line else ""
            out.append((dotted, loader.construct_object(value_node, deep=True), field.default, comment))

    walk(yaml.compose(block), schema.Scenario, "")
    return out


def test_the_annotated_scenario_shows_the_schema_defaults() -> None:
    keys = compared_keys(annotated_block())
    assert len(keys) > 30  # the walk reached the nested keys and the schedules
    wrong = [f"{key}: shows {shown!r}, default {default!r}" for key, shown, default, comment in keys
             if "example" not in comment and shown != default]
    assert wrong == []


def test_an_example_value_names_its_real_default() -> None:
    named = [(key, yaml.safe_load(match.group(1)), default) for key, _, default, comment in compared_keys(
        annotated_block()) if "example" in comment and (match := DEFAULT_NAMED.search(comment))]
    assert {"network.start_offset_s", "workload.seed"} <= {key for key, _, _ in named}
    assert [(key, said, default) for key, said, default in named if said != default] == []
