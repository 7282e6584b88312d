"""Turning pydantic validation errors and YAML problems into one-line InputErrors."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from simulator.errors import InputError


def dotted(loc: tuple[Any, ...]) -> str:
    """``('schedules', 2, 'r')`` -> ``schedules[2].r``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def first_error(source: str | Path, exc: ValidationError, model: type[BaseModel] | None = None) -> InputError:
    """The first pydantic error as an InputError naming the key (and the key meant, for a misspelt one)."""
    errors = exc.errors(include_url=False)
    # A misspelt key also makes the meant key "missing": name the misspelling, which says more.
    err = next((e for e in errors if e.get("type") == "extra_forbidden"), None) or _bound_error(errors)
    loc = _strip_members(tuple(err["loc"])) if err.get("type") != "extra_forbidden" else tuple(err["loc"])
    kind = err.get("type", "")
    message = err.get("msg", "invalid value")
    if kind == "extra_forbidden":
        message = "unknown key"
        if model is not None and loc and isinstance(loc[-1], str):
            close = difflib.get_close_matches(loc[-1], _keys_at(model, loc[:-1]), n=1, cutoff=0.6)
            if close:
                message += f"; did you mean {close[0]!r}?"
    elif kind == "missing":
        message = "required key is missing"
    elif "input" in err and kind not in ("model_type", "dict_type"):
        shown = repr(err["input"])
        if len(shown) <= 60:
            message = f"{message} (got {shown})"
    message = message.removeprefix("Value error, ")
    cause = (err.get("ctx") or {}).get("error")
    key = getattr(cause, "key", None)
    where = key if key else dotted(_strip_tags(loc))
    return InputError(source, message, where)


_BOUNDS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_SCALARS = {"int", "float", "str", "bool"}


def _strip_members(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union-member labels (``constrained-float``, ``literal['auto']``, ``list[int]``) that
    follow a key, so ``alpha: -1`` is reported at ``alpha``, not ``alpha.constrained-float``."""
    return tuple(part for i, part in enumerate(loc)
                 if not (i > 0 and isinstance(part, str) and isinstance(loc[i - 1], str)
                         and (part in _SCALARS or not part.isidentifier())))


def _bound_error(errors: list[Any]) -> Any:
    """The first error; but where a value of a union (``0.9 | 'auto'``) failed every member, the member whose
    type it had and whose bound it broke says the most (``greater than or equal to 0``, not ``'auto'``)."""
    key = _strip_members(tuple(errors[0]["loc"]))
    return next((e for e in errors if e.get("type") in _BOUNDS
                 and _strip_members(tuple(e["loc"]))[:len(key)] == key), errors[0])


def _strip_tags(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union-member tags (e.g. 'mercury') that follow a list index."""
    out: list[Any] = []
    for i, part in enumerate(loc):
        if i > 0 and isinstance(loc[i - 1], int) and isinstance(part, str) and part in _TAGS:
            continue
        out.append(part)
    return tuple(out)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation may hold (through Optional, list, Annotated and unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _kinds(model: type[BaseModel]) -> tuple[Any, ...]:
    field = model.model_fields.get("kind")
    return get_args(field.annotation) if field is not None else ()


def _keys_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at ``loc`` (list indices skipped; a union tag such as 'mercury' picks its member)."""
    candidates = [model]
    for part in loc:
        if isinstance(part, int):
            continue
        tagged = [m for m in candidates if part in _kinds(m)]
        candidates = tagged or [m for c in candidates if part in c.model_fields
                                for m in _models_in(c.model_fields[part].annotation)]
    return sorted({key for m in candidates for key in m.model_fields})


_TAGS: set[str] = set()


def register_tags(tags: set[str]) -> None:
    """Discriminated-union tags to hide from key paths (schedule kinds)."""
    _TAGS.update(tags)


def load_yaml_mapping(path: Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping; problems become one-line InputErrors with a line number."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read file ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(path, f"malformed YAML: {problem}", where) from None
    if not isinstance(data, dict):
        raise InputError(path, f"expected a YAML mapping at the top level, got {type(data).__name__}")
    return data


def check_provenance(value: dict[str, Any]) -> dict[str, Any]:
    """A data file's provenance must say what kind of number it holds."""
    if value.get("kind") not in ("measured", "published", "fitted"):
        raise ValueError("provenance.kind must be measured, published or fitted")
    return value


def parse_model(model: type[BaseModel], data: Any, source: str | Path) -> Any:
    """Validate ``data`` against ``model``; the first error becomes a one-line InputError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise first_error(source, exc, model) from None
