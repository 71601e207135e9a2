"""JSON schema inference and the type-widening rules of the crawler, in one place.

Types are DuckDB type names (the catalog's query engine). A value's type is
inferred as a Glue crawler's JSON classifier does (``{"A": 1}`` is ``A:int``
in Glue's own example): integers are ``INTEGER`` while they fit 32 bits, then
``BIGINT``; decimals are ``DOUBLE``; ``null`` alone says nothing. Types seen
in different records, files or partitions are unified by :func:`unify`:

* numbers widen along ``INTEGER -> BIGINT -> DOUBLE``;
* scalars that disagree otherwise (a string and a number, a boolean and a
  number) become ``VARCHAR``: every JSON scalar reads as a string, nothing is lost;
* objects merge field by field (a field seen anywhere is part of the schema,
  in first-seen order) and arrays unify their element types;
* an object or an array against anything else is a :class:`Clash`: there is
  no type that reads both (Glue would fall back to a string and silently turn
  ``genetic_markers.gene_a`` queries into errors), so the type seen first is
  kept and the clash is reported, with where it came from, by the crawler.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NULL = "NULL"
BOOLEAN = "BOOLEAN"
INTEGER = "INTEGER"
BIGINT = "BIGINT"
DOUBLE = "DOUBLE"
VARCHAR = "VARCHAR"

_NUMBERS = (INTEGER, BIGINT, DOUBLE)  # narrowest first
_SCALARS = frozenset({BOOLEAN, VARCHAR, *_NUMBERS})
_INT32 = 2**31
_INT64 = 2**63


class Struct(dict[str, Any]):
    """Field name -> inferred type (str or a nested Struct / List), in first-seen order."""


class List:
    def __init__(self, item: Any) -> None:
        self.item = item

    def __eq__(self, other: object) -> bool:
        return isinstance(other, List) and other.item == self.item

    def __hash__(self) -> int:  # pragma: no cover - not used as a key
        return hash(("list", str(self.item)))

    def __repr__(self) -> str:
        return f"List({self.item!r})"


@dataclass(frozen=True)
class Clash:
    """Two types no type can hold both of, at ``path`` (``genetic_markers.gene_a``, ``tags[]``)."""

    path: str
    kept: Any
    refused: Any


@dataclass(frozen=True)
class Change:
    """How one column or nested field differs between two schemas."""

    path: str
    kind: str  # ADDED, REMOVED, WIDENED or CHANGED
    old: Any = None
    new: Any = None


ADDED = "added"
REMOVED = "removed"
WIDENED = "widened"
CHANGED = "changed"


def infer(value: Any, clashes: list[Clash] | None = None, path: str = "") -> Any:
    """The type of one JSON value; clashes inside it (mixed arrays) go to ``clashes``."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        if -_INT32 <= value < _INT32:
            return INTEGER
        return BIGINT if -_INT64 <= value < _INT64 else DOUBLE
    if isinstance(value, float):
        return DOUBLE
    if isinstance(value, str):
        return VARCHAR
    if isinstance(value, list):
        item: Any = NULL
        for element in value:
            item = unify(item, infer(element, clashes, f"{path}[]"), clashes, f"{path}[]")
        return List(item)
    struct = Struct()
    for key, inner in value.items():
        struct[key] = infer(inner, clashes, _join(path, key))
    return struct


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def unify(a: Any, b: Any, clashes: list[Clash] | None = None, path: str = "") -> Any:
    """The narrowest type that holds both ``a`` and ``b`` (see the module docstring).

    When there is none, ``a`` is kept and a :class:`Clash` is appended to ``clashes``.
    """
    if a == NULL:
        return b
    if b == NULL or a == b:
        return a
    if isinstance(a, Struct) and isinstance(b, Struct):
        out = Struct(a)
        for key, value in b.items():
            out[key] = unify(out[key], value, clashes, _join(path, key)) if key in out else value
        return out
    if isinstance(a, List) and isinstance(b, List):
        return List(unify(a.item, b.item, clashes, f"{path}[]"))
    if a in _NUMBERS and b in _NUMBERS:
        return _NUMBERS[max(_NUMBERS.index(a), _NUMBERS.index(b))]
    if isinstance(a, str) and isinstance(b, str) and a in _SCALARS and b in _SCALARS:
        return VARCHAR
    if clashes is not None:
        clashes.append(Clash(path, a, b))
    return a


def merge(a: Any, b: Any) -> Any:
    """:func:`unify`, for callers that do not report clashes."""
    return unify(a, b)


def changes(old: Any, new: Any, path: str = "") -> list[Change]:
    """What differs from ``old`` to ``new``, field by field inside structs."""
    if isinstance(old, Struct) and isinstance(new, Struct):
        found: list[Change] = []
        for key, value in new.items():
            if key not in old:
                found.append(Change(_join(path, key), ADDED, new=value))
            else:
                found.extend(changes(old[key], value, _join(path, key)))
        found += [Change(_join(path, k), REMOVED, old=v) for k, v in old.items() if k not in new]
        return found
    if isinstance(old, List) and isinstance(new, List):
        inner = changes(old.item, new.item, f"{path}[]")
        if all(c.kind == ADDED for c in inner):
            return inner
    if old == new:
        return []
    return [Change(path, WIDENED if unify(old, new) == new else CHANGED, old, new)]


def render(kind: Any) -> str:
    """The DuckDB spelling of an inferred type; unknown (all-null) columns become VARCHAR."""
    if isinstance(kind, Struct):
        inner = ", ".join(f"{_quote(name)} {render(value)}" for name, value in kind.items())
        return f"STRUCT({inner})"
    if isinstance(kind, List):
        return f"{render(kind.item)}[]"
    return VARCHAR if kind == NULL else str(kind)


def records_in(path: Path) -> Iterable[dict[str, Any]]:
    """The JSON objects of a file: one per line, arrays of objects unrolled (as readers do)."""
    for line in path.read_bytes().splitlines():
        if not line.strip():
            continue
        value = json.loads(line)
        for record in value if isinstance(value, list) else [value]:
            if isinstance(record, dict):
                yield record


def infer_file(path: Path, clashes: list[Clash] | None = None) -> Struct:
    """The unified type of every record of one file."""
    merged: Any = Struct()
    for record in records_in(path):
        merged = unify(merged, infer(record, clashes), clashes)
    return merged if isinstance(merged, Struct) else Struct()


def infer_files(paths: Iterable[Path], schema: Struct | None = None) -> Struct:
    """Merge the record types of every file into ``schema`` (a previous crawl's, or empty)."""
    merged: Any = schema if schema is not None else Struct()
    for path in paths:
        merged = unify(merged, infer_file(path))
    return merged if isinstance(merged, Struct) else Struct()


def parse(duck: str) -> Any:
    """The inverse of :func:`render`, for types stored in the catalog."""
    duck = duck.strip()
    if duck.endswith("[]"):
        return List(parse(duck[:-2]))
    if duck.startswith("STRUCT(") and duck.endswith(")"):
        struct = Struct()
        for part in _split_top_level(duck[len("STRUCT(") : -1]):
            name, inner = _unquote(part.strip())
            struct[name] = parse(inner)
        return struct
    return duck


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _unquote(part: str) -> tuple[str, str]:
    """A quoted field name (doubled quotes inside) and its type; a bare name ends at a space."""
    if not part.startswith('"'):
        name, _, rest = part.partition(" ")
        return name, rest
    i = 1
    while i < len(part):
        if part[i] == '"':
            if part[i + 1 : i + 2] == '"':
                i += 2
                continue
            break
        i += 1
    return part[1:i].replace('""', '"'), part[i + 1 :].strip()


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted  # a doubled quote toggles twice: still inside
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current))
    return parts
