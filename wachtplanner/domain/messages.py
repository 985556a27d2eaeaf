"""Turn pydantic's error details into the coordinator's language.

Locations name list items by their ``id`` where they have one (``doctors[an-peeters]``), so a
message points at the same words the coordinator typed.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from wachtplanner.exceptions import Issue

_MAX_LISTED = 8


def one_of(values: Sequence[str]) -> str:
    """Return ``a, b, c`` (shortened when long) for an 'expected one of' clause."""
    shown = list(values[:_MAX_LISTED])
    more = "" if len(values) <= _MAX_LISTED else f" (and {len(values) - _MAX_LISTED} more)"
    return ", ".join(shown) + more if shown else "(none defined)"


def unknown_ref(kind: str, value: object, known: Sequence[str]) -> str:
    """Return 'X is not a KIND of this scenario; did you mean/expected one of …' text."""
    close = difflib.get_close_matches(str(value), list(known), n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"expected one of {one_of(known)}."
    return f"{kind} '{value}' is not defined in this scenario; {hint}"


def child(node: Any, key: str | int) -> Any:
    """Step into raw data (mappings, sequences or models); None when the step does not exist."""
    if isinstance(key, int):
        if isinstance(node, Sequence) and not isinstance(node, str) and 0 <= key < len(node):
            return node[key]
        return None
    if isinstance(node, Mapping):
        return node.get(key)
    if isinstance(node, BaseModel):
        return getattr(node, key, None)
    return None


def item_label(item: Any, index: int) -> str:
    """Return ``[id]`` for an item with an id, else ``[index]``."""
    ident = child(item, "id")
    return f"[{ident}]" if isinstance(ident, str) and ident else f"[{index}]"


def _is_union_label(key: str, node: Any) -> bool:
    return key[:1].isupper() or "[" in key or "-" in key or key == child(node, "type")


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin is not None or isinstance(annotation, types.UnionType):
        for arg in typing.get_args(annotation):
            found.extend(_models_in(arg))
    return found


def locate(root_model: type[BaseModel], data: Any, loc: tuple[str | int, ...]) -> tuple[str, Any]:
    """Return the readable path of a pydantic ``loc`` and the model class found at its parent.

    Returns
    -------
    tuple
        The dotted path (``doctors[an-peeters].exemptions[0].to``) and the model class that owns
        the last key (used to list the expected keys of an unknown key), or None.
    """
    path = ""
    node: Any = data
    model: type[BaseModel] | None = root_model
    owner: type[BaseModel] | None = root_model
    for key in loc:
        if isinstance(key, int):
            path += item_label(child(node, key), key)
            node = child(node, key)
            continue
        unknown = model is None or key not in _field_names(model)
        if unknown and _is_union_label(key, node):
            continue
        path += f".{key}" if path else key
        owner = model
        model = _field_model(model, key, child(node, key)) if model is not None else None
        node = child(node, key)
    return path, owner


def _field_names(model: type[BaseModel]) -> set[str]:
    names = set(model.model_fields)
    names.update(f.alias for f in model.model_fields.values() if f.alias)
    return names


def _field_model(model: type[BaseModel], key: str, node: Any) -> type[BaseModel] | None:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            candidates = _models_in(field.annotation)
            return _match(candidates, node)
    return None


def _match(candidates: list[type[BaseModel]], node: Any) -> type[BaseModel] | None:
    if not candidates:
        return None
    tag = child(node, "type")
    for candidate in candidates:
        field = candidate.model_fields.get("type")
        if field is not None and tag in typing.get_args(field.annotation):
            return candidate
    return candidates[0]


def expected_keys(model: type[BaseModel] | None) -> list[str]:
    """Return the keys a model accepts, as written in a scenario file."""
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


def describe(error: ErrorDetails, owner: type[BaseModel] | None) -> str:
    """Return a one-sentence message for one pydantic error: the bad value and what was expected."""
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    shown = repr(value) if not isinstance(value, Mapping | list | tuple) else type(value).__name__
    if kind == "missing":
        return "required key is missing."
    if kind == "extra_forbidden":
        key = error["loc"][-1]
        keys = expected_keys(owner)
        close = difflib.get_close_matches(str(key), keys, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"expected one of {one_of(keys)}."
        return f"unknown key '{key}'; {hint}"
    if kind == "literal_error":
        return f"{shown} is not allowed; expected one of {ctx.get('expected', '')}."
    if kind in {"date_parsing", "date_from_datetime_parsing", "date_type"}:
        return f"{shown} is not a date; expected YYYY-MM-DD."
    if kind in {"time_parsing", "time_type"}:
        return f"{shown} is not a clock time; expected HH:MM."
    if kind == "string_pattern_mismatch":
        return (
            f"{shown} is not a valid id; expected letters, digits, '-', '_' or '.', "
            "without spaces or slashes."
        )
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        words = {
            "greater_than": "greater than",
            "greater_than_equal": "at least",
            "less_than": "less than",
            "less_than_equal": "at most",
        }[kind]
        limit = next(iter(ctx.values()), "")
        return f"{shown} is out of range; expected a number {words} {limit}."
    if kind in {"float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"}:
        what = "a whole number" if kind.startswith("int") else "a number"
        return f"{shown} is not {what}."
    if kind == "finite_number":
        return f"{shown} is not a finite number; expected an ordinary number such as 0.8."
    if kind == "string_too_long":
        return (
            f"a text of {len(str(value))} characters is too long; expected at most "
            f"{ctx.get('max_length')}."
        )
    if kind in {"bool_parsing", "bool_type"}:
        return f"{shown} is not true or false."
    if kind in {"tuple_type", "list_type"}:
        return f"{shown} is not a list; expected a list in [ ] or one '- item' per line."
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"{shown} is not a mapping; expected 'key: value' pairs."
    if kind == "too_long":
        return (
            f"a list of {ctx.get('actual_length')} items is too long; expected at most "
            f"{ctx.get('max_length')}."
        )
    if kind == "too_short":
        return "the list is empty; expected at least one item."
    if kind == "union_tag_invalid":
        return f"type {ctx.get('tag')!r} is not known; expected one of {ctx.get('expected_tags')}."
    if kind == "union_tag_not_found":
        return "the key 'type' is missing; expected one of the event types."
    if kind == "value_error":
        text = str(error["msg"]).removeprefix("Value error, ")
        return text if text.endswith(".") else text + "."
    text = str(error["msg"])
    return f"{text} (got {shown})."


def issues_from_errors(
    root_model: type[BaseModel], data: Any, errors: Sequence[ErrorDetails]
) -> list[Issue]:
    """Convert pydantic errors into located, readable issues (union duplicates dropped)."""
    issues: list[Issue] = []
    seen: set[tuple[str, str]] = set()
    item_failures = {
        tuple(e["loc"][:i])
        for e in errors
        for i, key in enumerate(e["loc"])
        if isinstance(key, int)
    }
    for error in errors:
        if error["type"] == "too_short" and tuple(error["loc"]) in item_failures:
            continue  # pydantic counts failed items as missing; the item errors say more
        path, owner = locate(root_model, data, tuple(error["loc"]))
        message = describe(error, owner)
        if (path, message) not in seen:
            seen.add((path, message))
            issues.append(Issue(path, message))
    return issues
