"""Comparing an answer with the one Partner Center documents: field names and JSON types, not values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), "null")


def shape_differences(documented: Any, answered: Any, *, path: str = "", not_answered: set[str] = frozenset()
                      ) -> list[str]:
    """Where `answered` lacks a field of `documented`, or holds it with another JSON type. A documented null
    says nothing about the type; the first item of a documented list stands for every item answered."""
    if documented is None or path in not_answered:
        return []
    if _kind(documented) != _kind(answered):
        # Partner Center prints some ids as strings where Partner Desk keeps them as given; none here.
        return [f"{path or '.'}: documented {_kind(documented)}, answered {_kind(answered)}"]
    differences: list[str] = []
    if isinstance(documented, dict):
        for key, value in documented.items():
            where = f"{path}.{key}" if path else key
            if where in not_answered:
                continue
            if key not in answered:
                differences.append(f"{where}: missing")
            else:
                differences += shape_differences(value, answered[key], path=where, not_answered=not_answered)
    elif isinstance(documented, list) and documented:
        for item in answered:
            differences += shape_differences(documented[0], item, path=f"{path}[]", not_answered=not_answered)
    return differences


def assert_documented_shape(name: str, answered: Any) -> None:
    example = fixture(name)
    differences = shape_differences(example["response"], answered, not_answered=set(example.get("not_answered", {})))
    assert not differences, f"{name}: the answer differs from Partner Center's documented one: {differences}"
