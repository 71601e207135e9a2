"""Athena (Trino) SQL to DuckDB SQL through sqlglot, with the fixes its translation needs here.

Statements are parsed with sqlglot's ``athena`` dialect (which routes DML to
its Trino grammar, Athena engine 3's DML engine), typed with sqlglot's
optimizer (qualify + annotate_types, against the catalog's columns), rewritten
by the small set of transforms below, and generated with sqlglot's ``duckdb``
dialect. Each fix is an expression transform on the parsed tree, never string
replacement, and each is tested in ``tests/catalog/test_dialect.py`` and the
query corpus:

* ``approx_distinct(x)`` becomes ``count(DISTINCT x)``: Trino's HyperLogLog is
  sparse, hence exact, for the few thousand values a study holds, while
  DuckDB's ``approx_count_distinct`` is off even at 555 values (it says 553).
* ``approx_percentile(x, p)`` becomes ``quantile_disc(x, p)``, a value of the
  input at the nearest rank (``ceil(p * n)``), as Trino's digests return for
  small inputs; DuckDB's ``approx_quantile`` interpolates. Weighted and
  accuracy forms are refused.
* ``date_diff(unit, a, b)`` becomes DuckDB's ``date_sub``: Trino counts whole
  units elapsed (23:00 to 01:00 next day is 0 days); DuckDB's ``date_diff``
  counts boundaries crossed (1 day).
* ``regexp_extract`` is NULL when the pattern does not match (DuckDB gives '').
* ``max_by`` / ``min_by`` keep a NULL ``x`` of the winning row
  (``arg_max_null``); DuckDB's ``arg_max`` skips rows whose ``x`` is NULL.
* ``contains(array, x)`` is NULL, not false, when ``x`` is NULL or when it is
  not found in an array that holds a NULL (Trino's three-valued ``=``).
* Date arithmetic stays a date: ``date_add('day', 1, d)``, ``d + INTERVAL '1'
  DAY`` and ``date_trunc('month', d)`` on a DATE return a DATE in Trino, a
  TIMESTAMP in DuckDB.
* ``json_extract_scalar`` is NULL when the path selects an object or an array
  (DuckDB's ``->>`` returns their JSON text).
* ``cardinality`` of a map uses DuckDB's ``cardinality`` (``array_length``
  rejects maps).
* Integer division truncates (``5 / 2`` is 2): sqlglot does this once the
  operands are typed, which is why every statement is typed first.

Unnamed result columns are called ``_col0``, ``_col1``... as in Trino.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.athena import Athena
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import ErrorLevel, OptimizeError, ParseError, TokenError, UnsupportedError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from zfish.exceptions import AthenaQueryError

CATALOG = "awsdatacatalog"
PSEUDO_PATH = "$path"
PSEUDO_SIZE = "$file_size"
PSEUDO_MTIME = "$file_modified_time"
PSEUDO_COLUMNS = (PSEUDO_PATH, PSEUDO_SIZE, PSEUDO_MTIME)

_DATE_UNITS = {"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}


class ZfishAthena(Athena):
    """Athena as sqlglot models it, plus the pseudo-columns of Hive tables."""

    PSEUDOCOLUMNS = set(PSEUDO_COLUMNS)  # noqa: RUF012 (sqlglot's own attribute)


@dataclass(frozen=True)
class Position:
    line: int
    col: int

    def __str__(self) -> str:
        return f"line {self.line}:{self.col}"


def position_of(sql: str, offset: int) -> Position:
    """Line and column (both 1-based, as Trino reports them) of a character offset."""
    line = sql.count("\n", 0, offset) + 1
    col = offset - (sql.rfind("\n", 0, offset) + 1) + 1
    return Position(line, col)


def node_position(sql: str, node: exp.Expr) -> Position:
    """Where a node starts in the user's SQL: its first token (``"db"."t"`` starts at ``"db"``)."""
    starts = [
        int(n.meta["start"])
        for n in node.walk()
        if isinstance(n, exp.Expr) and n.meta.get("start") is not None
    ]
    return position_of(sql, min(starts) if starts else 0)


def fail(code: str, where: Position | None, message: str) -> AthenaQueryError:
    return AthenaQueryError(
        code, where.line if where else None, where.col if where else None, message
    )


def parse(sql: str) -> list[exp.Expr]:
    """The statements of ``sql`` as Athena parses them; SYNTAX_ERROR with a position if not."""
    try:
        statements = sqlglot.parse(sql, read=ZfishAthena)
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        line, col = first.get("line"), first.get("col")
        highlight = str(first.get("highlight") or "")
        where = None
        if isinstance(line, int) and isinstance(col, int):
            where = Position(line, max(1, col - len(highlight) + 1))
        detail = str(first.get("description") or exc).split(". Line ")[0]
        raise fail("SYNTAX_ERROR", where, f"{detail}") from None
    except TokenError as exc:
        raise fail("SYNTAX_ERROR", None, str(exc)) from None
    return [s for s in statements if s is not None]


def schema_for(databases: dict[str, dict[str, dict[str, str]]]) -> MappingSchema:
    """A sqlglot schema of the catalog: ``awsdatacatalog.<db>.<table>`` -> column -> DuckDB type."""
    return MappingSchema({CATALOG: databases}, dialect="duckdb", normalize=False)


def typed(tree: exp.Expr, schema: MappingSchema, database: str) -> exp.Expr:
    """The statement qualified and typed; only literal types when the columns cannot be resolved."""
    try:
        qualified = qualify(
            tree.copy(),
            dialect=ZfishAthena,
            catalog=CATALOG,
            db=database,
            schema=schema,
            expand_stars=False,
            validate_qualify_columns=True,
            quote_identifiers=True,
            identify=False,
        )
        return annotate_types(qualified, schema=schema, dialect=ZfishAthena)
    except (OptimizeError, KeyError, ValueError, AttributeError, TypeError):
        # sqlglot cannot resolve every scope (lambdas over UNNEST aliases, say); DuckDB
        # binds the statement anyway and reports unknown columns itself.
        return annotate_types(tree.copy(), schema=schema, dialect=ZfishAthena)


def mark_named_outputs(tree: exp.Expr) -> None:
    """Remember which result columns the user named (an alias, a column, a field, a star)."""
    select = _outer_select(tree)
    if select is not None:
        select.meta["zfish_named"] = [
            i
            for i, p in enumerate(select.expressions)
            if isinstance(p, (exp.Alias, exp.Column, exp.Dot, exp.Star))
        ]


def _outer_select(tree: exp.Expr) -> exp.Select | None:
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    return select if isinstance(select, exp.Select) else None


def name_outputs(tree: exp.Expr) -> None:
    """Trino's names for unnamed result columns: ``_col<position>``."""
    select = _outer_select(tree)
    if select is None:
        return
    named = select.meta.get("zfish_named", [])
    renamed: dict[str, str] = {}
    for i, projection in enumerate(select.expressions):
        if i in named:
            continue
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        if isinstance(projection, exp.Alias):
            renamed[projection.alias] = f"_col{i}"
        projection.replace(exp.alias_(inner.copy(), f"_col{i}"))
    # ORDER BY 1 became a reference to qualify's alias: follow the new name.
    order = select.args.get("order")
    for column in order.find_all(exp.Column) if order is not None else []:
        if not column.table and column.name in renamed:
            column.set("this", exp.to_identifier(renamed[column.name]))


def _is_date(node: exp.Expr) -> bool:
    return node.type is not None and node.is_type(exp.DType.DATE)


def _unit(node: exp.Expr) -> str:
    unit = node.args.get("unit")
    return unit.name.upper() if unit is not None else ""


def _as_date(node: exp.Expr) -> exp.Expr:
    cast = exp.cast(node, exp.DType.DATE)
    cast.meta["zfish_fixed"] = True
    return cast


def _fix(node: exp.Expr) -> exp.Expr:
    if node.meta.get("zfish_fixed"):
        return node
    if isinstance(node, exp.ApproxDistinct):
        return exp.Count(this=exp.Distinct(expressions=[node.this]))
    if isinstance(node, exp.ApproxQuantile):
        if node.args.get("weight") is not None or node.args.get("accuracy") is not None:
            raise UnsupportedError("approx_percentile with a weight or an accuracy")
        return exp.Anonymous(this="QUANTILE_DISC", expressions=[node.this, node.args["quantile"]])
    if isinstance(node, (exp.ArgMax, exp.ArgMin)) and node.args.get("count") is None:
        name = "ARG_MAX_NULL" if isinstance(node, exp.ArgMax) else "ARG_MIN_NULL"
        return exp.Anonymous(this=name, expressions=[node.this, node.expression])
    if isinstance(node, exp.DateDiff):
        unit = exp.Literal.string((_unit(node) or "DAY").lower())
        return exp.Anonymous(this="DATE_SUB", expressions=[unit, node.expression, node.this])
    if isinstance(node, exp.RegexpExtract) and not node.args.get("null_if_no_match"):
        node.set("null_if_no_match", True)
        return node
    if isinstance(node, exp.ArrayContains) and not node.meta.get("zfish_fixed"):
        array, value = node.this, node.expression
        found = exp.ArrayContains(this=array.copy(), expression=value.copy())
        found.meta["zfish_fixed"] = True
        has_null = exp.NEQ(
            this=exp.Anonymous(this="LEN", expressions=[array.copy()]),
            expression=exp.Anonymous(this="LIST_COUNT", expressions=[array.copy()]),
        )
        return (
            exp.case()
            .when(exp.or_(value.copy().is_(exp.null()), array.copy().is_(exp.null())), exp.null())
            .when(found, exp.true())
            .when(has_null, exp.null())
            .else_(exp.false())
        )
    if isinstance(node, exp.JSONExtractScalar) and not node.meta.get("zfish_fixed"):
        # Trino: NULL when the path selects an object or an array, not their JSON text.
        node.meta["zfish_fixed"] = True
        selected = exp.JSONExtract(this=node.this.copy(), expression=node.expression.copy())
        kind = exp.Anonymous(this="JSON_TYPE", expressions=[selected])
        nested = exp.In(
            this=kind, expressions=[exp.Literal.string("OBJECT"), exp.Literal.string("ARRAY")]
        )
        return exp.case().when(nested, exp.null()).else_(node)
    if isinstance(node, exp.ArraySize) and node.this.type is not None:
        if node.this.is_type(exp.DType.MAP):
            return exp.Anonymous(this="CARDINALITY", expressions=[node.this])
        return node
    date_functions = (exp.DateAdd, exp.DateSub, exp.TimestampTrunc, exp.DateTrunc)
    if isinstance(node, date_functions) and _is_date(node.this) and _unit(node) in _DATE_UNITS:
        node.meta["zfish_fixed"] = True
        return _as_date(node)
    if isinstance(node, (exp.Add, exp.Sub)):
        left, right = node.this, node.expression
        interval = right if isinstance(right, exp.Interval) else left
        other = left if interval is right else right
        if isinstance(interval, exp.Interval) and _is_date(other):
            interval_unit = interval.args.get("unit")
            if interval_unit is not None and interval_unit.name.upper() in _DATE_UNITS:
                node.meta["zfish_fixed"] = True
                return _as_date(node)
    return node


def translate(tree: exp.Expr) -> str:
    """DuckDB SQL for a typed Athena statement; UnsupportedError if sqlglot cannot say it."""
    fixed = tree.copy()
    # Children before parents, so a fix sees (and keeps) its already fixed arguments.
    for node in reversed(list(fixed.walk(bfs=False))):
        new = _fix(node)
        if new is not node:
            node.replace(new)
    name_outputs(fixed)
    return fixed.sql(dialect=DuckDB, unsupported_level=ErrorLevel.RAISE)


def translate_expression(sql: str) -> str:
    """One Athena scalar expression (e.g. a FOR TIMESTAMP AS OF value) as DuckDB SQL."""
    tree = sqlglot.parse_one(f"SELECT {sql}", read=ZfishAthena)
    return translate(annotate_types(tree, dialect=ZfishAthena))
