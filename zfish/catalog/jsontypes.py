"""Schema inference for JSON records, the way a Glue crawler's JSON classifier does it.

Types are DuckDB type names (the catalog's query engine), merged across records:
an integer and a double make a double, objects merge field by field (a field
seen in any record is part of the schema), and values that disagree otherwise
make a string. ``null`` alone says nothing about a type.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

NULL = "NULL"


class Struct(dict[str, Any]):
    """Field name -> inferred type (str or a nested Struct / List), in first-seen order."""


class List:
    def __init__(self, item: Any) -> None:
        self.item = item

    def __eq__(self, other: object) -> bool:
        return isinstance(other, List) and other.item == self.item

    def __hash__(self) -> int:  # pragma: no cover - not used as a key
        return hash(("list", str(self.item)))


def infer(value: Any) -> Any:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "BIGINT"
    if isinstance(value, float):
        return "DOUBLE"
    if isinstance(value, str):
        return "VARCHAR"
    if isinstance(value, list):
        item: Any = NULL
        for element in value:
            item = merge(item, infer(element))
        return List(item)
    struct = Struct()
    for key, inner in value.items():
        struct[key] = infer(inner)
    return struct


def merge(a: Any, b: Any) -> Any:
    if a == NULL:
        return b
    if b == NULL:
        return a
    if isinstance(a, Struct) and isinstance(b, Struct):
        out = Struct(a)
        for key, value in b.items():
            out[key] = merge(out[key], value) if key in out else value
        return out
    if isinstance(a, List) and isinstance(b, List):
        return List(merge(a.item, b.item))
    if a == b:
        return a
    if {a, b} == {"BIGINT", "DOUBLE"}:
        return "DOUBLE"
    return "VARCHAR"


def render(kind: Any) -> str:
    """The DuckDB spelling of an inferred type; unknown (all-null) columns become VARCHAR."""
    if isinstance(kind, Struct):
        inner = ", ".join(f'"{name}" {render(value)}' for name, value in kind.items())
        return f"STRUCT({inner})"
    if isinstance(kind, List):
        return f"{render(kind.item)}[]"
    return "VARCHAR" if kind == NULL else str(kind)


def records_in(path: Path) -> Iterable[dict[str, Any]]:
    """The JSON objects of a file: one per line, arrays of objects unrolled (as readers do)."""
    for line in path.read_bytes().splitlines():
        if not line.strip():
            continue
        value = json.loads(line)
        for record in value if isinstance(value, list) else [value]:
            if isinstance(record, dict):
                yield record


def infer_files(paths: Iterable[Path], schema: Struct | None = None) -> Struct:
    """Merge the record types of every file into ``schema`` (a previous crawl's, or empty)."""
    merged: Any = schema if schema is not None else Struct()
    for path in paths:
        for record in records_in(path):
            merged = merge(merged, infer(record))
    return merged if isinstance(merged, Struct) else Struct()


def parse(duck: str) -> Any:
    """The inverse of :func:`render`, for types stored in the catalog."""
    duck = duck.strip()
    if duck.endswith("[]"):
        return List(parse(duck[:-2]))
    if duck.startswith("STRUCT(") and duck.endswith(")"):
        struct = Struct()
        for part in _split_top_level(duck[len("STRUCT(") : -1]):
            name, _, inner = part.strip().partition(" ")
            struct[name.strip('"')] = parse(inner)
        return struct
    return duck


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current))
    return parts
