"""One statement on both engines, as Athena's client sees it: the rows, the ColumnInfo types, the error.

zfish's side is ``zfish.catalog.query.run_query`` with its Arrow types named
by ``zfish.aws.athena.athena_type`` (what the Athena API returns); Trino's is
the real Trino 476, its types named the same way. Values are compared
exactly, after only the conversions the two clients need to meet (a Trino
``row`` is a named tuple, an Arrow struct a dict; an Arrow map a list of
pairs, a Trino map a dict). A ``timestamp with time zone`` keeps its offset
in the comparison. Rows are compared in order when the statement orders them
at the top, as a multiset otherwise. Approximate aggregates (category
``approx``) compare within their documented standard error (2.3%).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import sqlglot
from sqlglot import exp

from zfish.aws.athena import athena_type
from zfish.catalog.query import run_query
from zfish.exceptions import AthenaQueryError, ZfishError
from zfish.settings import LakeLayout
from zfish.trino.engine import TrinoEngine, TrinoResult

APPROX_ERROR = 0.023  # approx_distinct's standard error, Trino's documentation


@dataclass(frozen=True)
class Outcome:
    """What a client sees: column types and rows, or an error name (and its message)."""

    types: tuple[str, ...] = ()
    rows: tuple[Any, ...] = ()
    error: str | None = None
    message: str = ""

    def show(self) -> str:
        if self.error is not None:
            return f"{self.error}: {self.message[:300]}"
        shown = repr(list(self.rows[:5]))[:600]
        more = f" (+{len(self.rows) - 5} rows)" if len(self.rows) > 5 else ""
        return f"{list(self.types)} {shown}{more}"


def _plain(value: Any, kind: pa.DataType | None = None) -> Any:
    """A value as plain, comparable Python (both clients' values meet here)."""
    if value is None:
        return None
    if kind is not None and pa.types.is_map(kind) and isinstance(value, list):
        return {_plain(k, kind.key_type): _plain(v, kind.item_type) for k, v in value}
    if kind is not None and pa.types.is_struct(kind) and isinstance(value, dict):
        if all(re.fullmatch(r"_\d+|v\d+", f.name) for f in kind):  # an unnamed row
            return [_plain(value[f.name], f.type) for f in kind]
        return {f.name: _plain(value[f.name], f.type) for f in kind}
    if kind is not None and pa.types.is_float32(kind) and isinstance(value, float):
        # Trino's client reads a real from its JSON text: the float32's shortest digits.
        return float(str(np.float32(value)))
    if kind is not None and pa.types.is_list(kind) and isinstance(value, list):
        return [_plain(v, kind.value_type) for v in value]
    if hasattr(value, "_names") and isinstance(value, tuple):  # Trino's NamedRowTuple
        if all(n is None for n in value._names):
            return [_plain(v) for v in value]
        return {n: _plain(v) for n, v in zip(value._names, value, strict=True)}
    if kind is not None and pa.types.is_interval(kind) and hasattr(value, "nanoseconds"):
        return timedelta(days=value.days, microseconds=value.nanoseconds // 1000)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, datetime) and value.tzinfo is not None:
        return ("tz", value.isoformat())
    return value


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted(((repr(k), _freeze(v)) for k, v in value.items()), key=repr))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def zfish_outcome(layout: LakeLayout, sql: str) -> Outcome:
    try:
        table = run_query(layout, sql).table
    except AthenaQueryError as exc:
        return Outcome(error=exc.code, message=exc.detail)
    except ZfishError as exc:
        return Outcome(error=f"zfish {type(exc).__name__}", message=str(exc))
    kinds = [f.type for f in table.schema]
    columns = [c.to_pylist() for c in table.columns]
    rows = tuple(
        tuple(_plain(v, k) for v, k in zip(row, kinds, strict=True))
        for row in zip(*columns, strict=True)
    )
    return Outcome(types=tuple(athena_type(k) for k in kinds), rows=rows)


def trino_outcome(engine: TrinoEngine, sql: str) -> Outcome:
    try:
        result: TrinoResult = engine.execute(sql)
    except AthenaQueryError as exc:
        return Outcome(error=exc.code, message=exc.detail)
    rows = tuple(tuple(_plain(v) for v in row) for row in result.rows)
    return Outcome(types=tuple(result.athena_types), rows=rows)


def ordered(sql: str) -> bool:
    """True when the statement orders its result at the top (then order is compared)."""
    try:
        tree = sqlglot.parse_one(sql, read="athena")
    except sqlglot.errors.ParseError:
        return True
    while isinstance(tree, exp.Subquery):
        tree = tree.this
    return tree.args.get("order") is not None


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float, Decimal)) and isinstance(b, (int, float, Decimal)):
        return abs(float(a) - float(b)) <= APPROX_ERROR * max(abs(float(a)), abs(float(b)))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        return all(_close(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def approximate(sql: str) -> bool:
    """True for a statement with an approximate aggregate (compared within its error)."""
    return "approx_" in sql.lower()


def same(zfish: Outcome, trino: Outcome, sql: str) -> bool:
    """Whether Athena's client would see the same thing from both engines."""
    approx = approximate(sql)
    if zfish.error is not None or trino.error is not None:
        return zfish.error == trino.error
    if zfish.types != trino.types or len(zfish.rows) != len(trino.rows):
        return False
    left, right = list(zfish.rows), list(trino.rows)
    if not ordered(sql):
        left = sorted(left, key=lambda r: repr(_freeze(list(r))))
        right = sorted(right, key=lambda r: repr(_freeze(list(r))))
    if approx:
        return all(_close(a, b) for a, b in zip(left, right, strict=True))
    return [_freeze(list(r)) for r in left] == [_freeze(list(r)) for r in right]


def run_all(
    statements: list[str],
    run: Callable[[str], Outcome],
    *,
    threads: int = 1,
) -> list[Outcome]:
    """Each statement's outcome, in order (a few at a time against a server)."""
    if threads <= 1:
        return [run(sql) for sql in statements]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, statements))
