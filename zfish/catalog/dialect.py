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
* Lambdas DuckDB has no function for: ``map_filter``, ``transform_values`` and
  ``transform_keys`` over ``map_entries``; ``zip_with`` over the positions of
  the longer array; ``array_sort`` with a comparator by counting, for each
  element, the elements the comparator puts before it.
* UNNEST in FROM of several arrays (zipped, padded with NULL), of a map and of
  an array of rows (a column per field), with or without ORDINALITY, as a
  subquery of DuckDB ``unnest`` calls.
* Trino's types where DuckDB's differ: ``avg`` of a decimal, CASE mixing
  integers and decimals, VALUES columns (the common type of every row),
  ``'a' || NULL`` (an array), ``typeof`` of constructors.

Unnamed result columns are called ``_col0``, ``_col1``... as in Trino.
"""

from __future__ import annotations

import itertools
import re
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
        value = exp.Anonymous(this="QUANTILE_DISC", expressions=[node.this, node.args["quantile"]])
        if _is(node.this, *_WHOLE_TYPES):
            return _cast(value, "BIGINT")  # Trino's approx_percentile of an integer is a bigint
        return value
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
    for literal in list(fixed.find_all(exp.Literal)):
        if literal.is_string and _PATH_MODE.match(str(literal.this)):
            parent = literal.parent
            literal.replace(exp.Literal.string(_PATH_MODE.sub("", str(literal.this))))
            if isinstance(parent, exp.JSONExtract) and parent.parent is not None:
                # json_query (a path with a mode) answers varchar; json_extract answers json.
                parent.replace(_cast(parent.copy(), "VARCHAR"))
    # typeof() first: it names the type of its argument before that is rewritten.
    for typeof in list(fixed.find_all(exp.Typeof)):
        name = None if typeof.this.find(exp.AggFunc) else _trino_type_name(typeof.this)
        if name is not None:
            typeof.replace(exp.Literal.string(name))
    # Children before parents, so a fix sees (and keeps) its already fixed arguments.
    for node in reversed(list(fixed.walk(bfs=False))):
        new = _fix(node)
        if new is node:
            new = _fix_trino(node)
        if new is not node:
            node.replace(new)
    name_outputs(fixed)
    return fixed.sql(dialect=DuckDB, unsupported_level=ErrorLevel.RAISE)


def translate_expression(sql: str) -> str:
    """One Athena scalar expression (e.g. a FOR TIMESTAMP AS OF value) as DuckDB SQL."""
    tree = sqlglot.parse_one(f"SELECT {sql}", read=ZfishAthena)
    return translate(annotate_types(tree, dialect=ZfishAthena))


# --- Trino's types and semantics where DuckDB's differ (measured against Trino 476) ---------

_INT_TYPES = {exp.DType.TINYINT, exp.DType.SMALLINT, exp.DType.INT}
_WHOLE_TYPES = {*_INT_TYPES, exp.DType.BIGINT}
_FLOATING = {exp.DType.DOUBLE, exp.DType.FLOAT}


@dataclass(frozen=True)
class Numeric:
    """A numeric type as Trino types an expression: integer, bigint, double or decimal(p, s)."""

    kind: str  # "integer", "bigint", "double", "real", "decimal"
    precision: int = 0
    scale: int = 0

    @property
    def name(self) -> str:
        if self.kind == "decimal":
            return f"decimal({self.precision},{self.scale})"
        return self.kind

    def as_decimal(self) -> Numeric:
        if self.kind == "integer":
            return Numeric("decimal", 10, 0)
        if self.kind == "bigint":
            return Numeric("decimal", 19, 0)
        return self


def _declared(node: exp.Expr) -> Numeric | None:
    """The numeric type sqlglot annotated, trusted for columns and casts only."""
    kind = node.type
    if kind is None:
        return None
    if kind.this in _INT_TYPES:
        return Numeric("integer")
    if kind.this == exp.DType.BIGINT:
        return Numeric("bigint")
    if kind.this == exp.DType.DOUBLE:
        return Numeric("double")
    if kind.this == exp.DType.FLOAT:
        return Numeric("real")
    if kind.this == exp.DType.DECIMAL:
        params = [int(p.name) for p in kind.expressions if p.name.isdigit()]
        precision, scale = ([*params, 38, 0])[:2] if params else (38, 0)
        return Numeric("decimal", precision, scale)
    return None


def numeric(node: exp.Expr) -> Numeric | None:
    """Trino's type of a numeric expression built from literals, columns, casts and operators."""
    if isinstance(node, exp.Paren):
        return numeric(node.this)
    if isinstance(node, exp.Literal) and not node.is_string:
        text = str(node.this)
        if "e" in text.lower():
            return Numeric("double")
        if "." in text:
            whole, _, fraction = text.partition(".")
            digits = (whole.lstrip("0") + fraction) or "0"
            return Numeric("decimal", max(len(digits), len(fraction), 1), len(fraction))
        return Numeric("integer" if abs(int(text)) <= 2**31 - 1 else "bigint")
    if isinstance(node, exp.Neg):
        return numeric(node.this)
    if isinstance(node, exp.Column):
        rows = [v for v in _values_column(node) if not isinstance(v, exp.Null)]
        return (_supertype([numeric(v) for v in rows]) if rows else None) or _declared(node)
    if isinstance(node, (exp.Cast, exp.Count)):
        return _declared(node)
    if isinstance(node, (exp.Case, exp.If)):
        return _supertype([numeric(b) for b in _branches(node)])
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)):
        left, right = numeric(node.this), numeric(node.expression)
        if left is None or right is None:
            return None
        return _combine(node, left, right)
    return None


def _branches(node: exp.Case | exp.If) -> list[exp.Expr]:
    """The values a CASE (or IF) can take, its NULL branches left out (they take any type)."""
    ifs = [node] if isinstance(node, exp.If) else list(node.args.get("ifs") or [])
    values = [i.args.get("true") for i in ifs]
    values.append(node.args.get("false") if isinstance(node, exp.If) else node.args.get("default"))
    return [v for v in values if v is not None and not isinstance(v, exp.Null)]


def _without_decimals(kinds: set[str]) -> Numeric:
    """The common type of numeric kinds when a double or real wins, or no decimal takes part."""
    if "double" in kinds:
        return Numeric("double")
    if "real" in kinds:
        return Numeric("real")
    return Numeric("bigint" if "bigint" in kinds else "integer")


def _supertype(kinds: list[Numeric | None]) -> Numeric | None:
    """Trino's common type of numeric values (integer and decimal(2,1): decimal(11,1))."""
    if not kinds or any(k is None for k in kinds):
        return None
    known = [k for k in kinds if k is not None]
    names = {k.kind for k in known}
    if "decimal" not in names or names & {"double", "real"}:
        return _without_decimals(names)
    decimals = [k.as_decimal() for k in known]
    scale = max(d.scale for d in decimals)
    whole = max(d.precision - d.scale for d in decimals)
    return Numeric("decimal", min(38, whole + scale), scale)


def _values_column(column: exp.Column) -> list[exp.Expr]:
    """The values of a ``(VALUES ...) AS t(x)`` column, row by row ([] for any other column).

    sqlglot types a VALUES column from its first row only (and 1.5 as a double);
    Trino types it as the common type of every row's value.
    """
    select = column.find_ancestor(exp.Select)
    if select is None or not column.table:
        return []
    sources = [select.args.get("from_"), *(select.args.get("joins") or [])]
    for source in sources:
        values = source.this if source is not None else None
        if not isinstance(values, exp.Values) or values.alias != column.table:
            continue
        alias = values.args.get("alias")
        names = [c.name for c in alias.columns] if alias is not None else []
        if column.name not in names:
            return []
        at = names.index(column.name)
        rows = [r.expressions if isinstance(r, exp.Tuple) else [r] for r in values.expressions]
        return [r[at] for r in rows if at < len(r)]
    return []


def _combine(node: exp.Expr, left: Numeric, right: Numeric) -> Numeric:
    kinds = {left.kind, right.kind}
    if "decimal" not in kinds or kinds & {"double", "real"}:
        return _without_decimals(kinds)
    a, b = left.as_decimal(), right.as_decimal()
    p1, s1, p2, s2 = a.precision, a.scale, b.precision, b.scale
    if isinstance(node, (exp.Add, exp.Sub)):
        scale = max(s1, s2)
        precision = min(38, max(p1 - s1, p2 - s2) + scale + 1)
    elif isinstance(node, exp.Mul):
        precision, scale = min(38, p1 + p2), s1 + s2
    elif isinstance(node, exp.Div):
        precision, scale = min(38, p1 + s2 + max(0, s2 - s1)), max(s1, s2)
    else:
        scale = max(s1, s2)
        precision = min(38, min(p1 - s1, p2 - s2) + scale)
    return Numeric("decimal", precision, scale)


def _anon(name: str, *args: exp.Expr) -> exp.Anonymous:
    call = exp.Anonymous(this=name, expressions=list(args))
    call.meta["zfish_fixed"] = True
    return call


def _cast(node: exp.Expr, to: str) -> exp.Cast:
    cast = exp.Cast(this=node, to=exp.DataType.build(to, dialect="duckdb"))
    cast.meta["zfish_fixed"] = True
    return cast


def _is(node: exp.Expr, *types: exp.DType) -> bool:
    return node.type is not None and node.type.this in types


def _trino_type_name(node: exp.Expr) -> str | None:
    """``typeof(node)`` as Trino answers it, where the translation knows it."""
    if isinstance(node, exp.Literal) and node.is_string:
        return f"varchar({len(str(node.this))})"
    if isinstance(node, exp.Null):
        return "unknown"
    if isinstance(node, exp.Boolean):
        return "boolean"
    if isinstance(node, (exp.Array, exp.Map, exp.Struct)):
        return _constructor_type_name(node)
    kind = numeric(node)
    if kind is not None and not isinstance(node, exp.Column):
        return kind.name
    if isinstance(node, exp.Cast) and _is(node, exp.DType.TIMESTAMP):
        literal = node.this
        if isinstance(literal, exp.Literal) and literal.is_string:
            fraction = str(literal.this).partition(".")[2]
            return f"timestamp({len(fraction)})"
    if isinstance(node, (exp.CurrentTimestamp, exp.StrToTime)) or (
        isinstance(node, exp.Anonymous) and str(node.this).lower() == "from_iso8601_timestamp"
    ):
        return "timestamp(3) with time zone"
    if node.type is not None and node.type.this == exp.DType.UNKNOWN:
        return None
    if node.type is not None and not node.type.is_type(exp.DType.UNKNOWN):
        return _type_sql(node.type)
    return None


def _common_name(names: list[str | None]) -> str | None:
    """The one type of a constructor's elements (varchar(n)s: the longest), None if unsure."""
    if not names or any(n is None for n in names):
        return None
    widths = [re.fullmatch(r"varchar\((\d+)\)", n or "") for n in names]
    if all(widths):
        return f"varchar({max(int(w.group(1)) for w in widths if w)})"
    return names[0] if len(set(names)) == 1 else None


def _constructor_type_name(node: exp.Array | exp.Map | exp.Struct) -> str | None:
    """typeof of ARRAY[...], map(ARRAY[...], ARRAY[...]) and ROW(...) literals, as Trino names it."""
    if isinstance(node, exp.Array):
        element = _common_name([_trino_type_name(e) for e in node.expressions])
        return f"array({element})" if element else None
    if isinstance(node, exp.Map):
        keys, values = node.args.get("keys"), node.args.get("values")
        if not isinstance(keys, exp.Array) or not isinstance(values, exp.Array):
            return None
        key = _common_name([_trino_type_name(e) for e in keys.expressions])
        value = _common_name([_trino_type_name(e) for e in values.expressions])
        return f"map({key}, {value})" if key and value else None
    if any(isinstance(e, (exp.PropertyEQ, exp.Alias)) for e in node.expressions):
        return None
    fields = [_trino_type_name(e) for e in node.expressions]
    return f"row({', '.join(f for f in fields if f)})" if all(fields) else None


def _type_sql(kind: exp.DataType) -> str | None:
    simple = {
        exp.DType.INT: "integer",
        exp.DType.BIGINT: "bigint",
        exp.DType.SMALLINT: "smallint",
        exp.DType.TINYINT: "tinyint",
        exp.DType.DOUBLE: "double",
        exp.DType.FLOAT: "real",
        exp.DType.VARCHAR: "varchar",
        exp.DType.TEXT: "varchar",
        exp.DType.BOOLEAN: "boolean",
        exp.DType.DATE: "date",
        exp.DType.TIMESTAMPTZ: "timestamp(3) with time zone",
    }
    if kind.this in simple:
        return simple[kind.this]
    if kind.this == exp.DType.DECIMAL:
        params = [p.name for p in kind.expressions]
        return f"decimal({','.join(params)})" if len(params) == 2 else None
    inner = [_type_sql(k) for k in kind.expressions if isinstance(k, exp.DataType)]
    if any(i is None for i in inner):
        return None
    if kind.this == exp.DType.ARRAY and len(inner) == 1:
        return f"array({inner[0]})"
    if kind.this == exp.DType.MAP and len(inner) == 2:
        return f"map({inner[0]}, {inner[1]})"
    if kind.this == exp.DType.STRUCT:
        fields = []
        for field in kind.expressions:
            if isinstance(field, exp.ColumnDef) and field.args.get("kind") is not None:
                sub = _type_sql(field.args["kind"])
                if sub is None:
                    return None
                fields.append(f"{field.name} {sub}")
            else:
                return None
        return f"row({', '.join(fields)})"
    return None


_DOLLAR_GROUP = re.compile(r"\$(\d+|\{(\w+)\})|\\(.)")
_NAMED_GROUP = re.compile(r"\(\?<(\w+)>")


def _java_replacement(pattern: str, replacement: str) -> str:
    """A Java replacement (``$1``, ``${name}``, ``\\$``) as RE2's (``\\1``)."""
    names = _NAMED_GROUP.findall(pattern)

    def one(match: re.Match[str]) -> str:
        if match.group(3) is not None:
            return match.group(3).replace("\\", "\\\\")
        if match.group(2) is not None:
            return f"\\{names.index(match.group(2)) + 1}" if match.group(2) in names else ""
        return f"\\{match.group(1)}"

    return _DOLLAR_GROUP.sub(one, replacement)


def _substitute(body: exp.Expr, name: str, value: exp.Expr) -> exp.Expr:
    """``body`` with every reference to lambda parameter ``name`` replaced by ``value``."""

    def swap(node: exp.Expr) -> exp.Expr:
        if (
            isinstance(node, (exp.Column, exp.Identifier))
            and node.name == name
            and (not isinstance(node, exp.Column) or not node.table)
        ) and not isinstance(node.parent, exp.Column):
            return value.copy()
        return node

    return body.copy().transform(swap)


_ANONYMOUS_MACROS = {
    "is_finite": "ZF_IS_FINITE",
    "is_infinite": "ZF_IS_INFINITE",
    "codepoint": "ZF_CODEPOINT",
    "from_base": "ZF_FROM_BASE",
    "current_timezone": "ZF_CURRENT_TIMEZONE",
    "millisecond": "ZF_MILLISECOND",
    "arrays_overlap": "ZF_ARRAYS_OVERLAP",
    "array_union": "ZF_ARRAY_UNION",
    "array_intersect": "ZF_ARRAY_INTERSECT",
    "array_except": "ZF_ARRAY_EXCEPT",
    "trim_array": "ZF_TRIM_ARRAY",
    "hamming_distance": "ZF_HAMMING_DISTANCE",
    "nan": "ZF_NAN",
    "bit_count": "ZF_BIT_COUNT",
    "map_agg": "ZF_MAP_AGG",
    "regexp_position": "ZF_REGEXP_POSITION",
    "infinity": "ZF_INFINITY",
    "to_base": "ZF_TO_BASE",
    "contains_sequence": "ZF_CONTAINS_SEQUENCE",
    "json_size": "ZF_JSON_SIZE",
    "json_exists": "ZF_JSON_EXISTS",
    "json_array_get": "ZF_JSON_ARRAY_GET",
}
# Trino functions sqlglot has no expression for and _fix_trino translates.
TRINO_FUNCTIONS = frozenset(
    {
        *_ANONYMOUS_MACROS,
        "any_match",
        "all_match",
        "none_match",
        "to_iso8601",
        "format_datetime",
        "map_filter",
        "transform_values",
        "transform_keys",
        "zip_with",
    }
)
# Trino functions taking one array and one lambda, as DuckDB list reductions.
_MATCHES = {"any_match": "LIST_BOOL_OR", "all_match": "LIST_BOOL_AND", "none_match": "LIST_BOOL_OR"}


# sqlglot expressions whose DuckDB translation differs from Trino's, as macros (arguments in order).
_CLASS_MACROS: dict[type[exp.Expr], str] = {
    exp.FromBase: "ZF_FROM_BASE",
    exp.CurrentTimezone: "ZF_CURRENT_TIMEZONE",
    exp.ArrayExcept: "ZF_ARRAY_EXCEPT",
    exp.ArrayIntersect: "ZF_ARRAY_INTERSECT",
    exp.WidthBucket: "ZF_WIDTH_BUCKET",
    exp.StrToMap: "ZF_SPLIT_TO_MAP",
    exp.JSONArrayContains: "ZF_JSON_ARRAY_CONTAINS",
}
# A JSON path's SQL/JSON mode (lax, strict): DuckDB's paths have none.
_PATH_MODE = re.compile(r"^(lax|strict)\s+(?=\$)")
_TRINO_UNITS = {
    "MILLISECOND",
    "SECOND",
    "MINUTE",
    "HOUR",
    "DAY",
    "WEEK",
    "MONTH",
    "QUARTER",
    "YEAR",
}


def _fix_trino(node: exp.Expr) -> exp.Expr:
    """Trino's answer where DuckDB's (as sqlglot translates to it) differs; the node otherwise."""
    if node.meta.get("zfish_fixed"):
        return node
    for kind_, macro in _CLASS_MACROS.items():
        if type(node) is kind_:
            args = [v for k in node.arg_types if isinstance(v := node.args.get(k), exp.Expr)]
            extra = node.args.get("expressions") or []
            return _anon(macro, *args, *extra)
    if isinstance(node, (exp.DateAdd, exp.DateSub, exp.DateDiff)) and node.args.get("unit"):
        unit = _unit(node)
        if unit and unit not in _TRINO_UNITS:
            raise AthenaQueryError(
                "INVALID_FUNCTION_ARGUMENT",
                None,
                None,
                f"'{unit.lower()}' is not a valid DATE field",
            )
    lambdas = _fix_lambdas(node)
    if lambdas is not node:
        return lambdas
    if isinstance(node, exp.Unnest) and isinstance(node.parent, (exp.From, exp.Join)):
        return _fix_unnest(node)
    if isinstance(node, exp.Cbrt):
        return _anon("ZF_CBRT", _cast(node.this, "DOUBLE"))  # Java's cbrt(27) is 3.0, libm's not
    if isinstance(node, exp.Upper):
        return _anon("ZF_UPPER", node.this)
    if isinstance(node, exp.FromISO8601Date):
        return _anon("ZF_FROM_ISO8601_DATE", node.this)
    if isinstance(node, exp.ParseDatetime):
        pattern = node.args.get("format")
        if isinstance(pattern, exp.Literal) and pattern.is_string:
            strftime = exp.Literal.string(_joda_to_strftime(str(pattern.this)))
            return _cast(_anon("STRPTIME", node.this, strftime), "TIMESTAMPTZ")
        return node
    if isinstance(node, exp.DPipe) and not node.args.get("safe"):
        sides = (node.this, node.expression)
        if any(isinstance(x, exp.Null) for x in sides) and not any(
            _is(x, exp.DType.ARRAY) or isinstance(x, exp.Array) for x in sides
        ):
            # Trino resolves x || NULL (an untyped NULL) to array concatenation: NULL, an array.
            return _cast(exp.null(), "VARCHAR[]")
    if isinstance(node, exp.EQ) and not node.meta.get("zfish_fixed"):
        return _fix_nan_equality(node)
    if isinstance(node, exp.Avg) and not isinstance(node.parent, exp.Window):
        averaged = numeric(node.this)
        if averaged is not None and averaged.kind == "decimal":
            mean = node.copy()
            mean.meta["zfish_fixed"] = True  # avg of a decimal(p,s) is a decimal(p,s) in Trino
            return _cast(mean, f"DECIMAL({averaged.precision}, {averaged.scale})")
        return node
    if isinstance(node, (exp.Case, exp.If)) and not node.meta.get("zfish_fixed"):
        common = numeric(node)
        if common is not None and common.kind == "decimal":
            branches = [numeric(b) for b in _branches(node)]
            if any(b is not None and b.kind != "decimal" for b in branches):
                mixed = node.copy()
                mixed.meta["zfish_fixed"] = True
                return _cast(mixed, f"DECIMAL({common.precision}, {common.scale})")
        return node
    if isinstance(node, exp.GenerateSeries):
        step = node.args.get("step")
        if isinstance(step, exp.Literal) and str(step.this) == "0":
            raise AthenaQueryError("INVALID_FUNCTION_ARGUMENT", None, None, "step must not be zero")
        start, end = node.args.get("start"), node.args.get("end")
        if start is not None and end is not None and step is None and _is(start, exp.DType.DATE):
            return _anon("ZF_DATE_SEQUENCE", start, end)
    if isinstance(node, exp.Split):
        if node.args.get("limit") is not None:
            return _anon("ZF_SPLIT_LIMIT", node.this, node.expression, node.args["limit"])
        return _anon("ZF_SPLIT", node.this, node.expression)
    if (
        isinstance(node, exp.Sub)
        and _is(node.this, exp.DType.DATE)
        and _is(node.expression, exp.DType.DATE)
    ):
        # date - date is an interval day to second in Trino (DuckDB: a number of days).
        days = exp.Sub(this=node.this, expression=node.expression)
        days.meta["zfish_fixed"] = True
        one_day = exp.Interval(this=exp.Literal.string("1"), unit=exp.var("DAY"))
        return exp.Mul(this=exp.Paren(this=days), expression=one_day)
    if isinstance(node, (exp.BitwiseAnd, exp.BitwiseOr, exp.BitwiseXor)):
        bits = node.copy()  # Trino's bitwise_and/or/xor take and return bigint
        bits.meta["zfish_fixed"] = True
        return _cast(exp.Paren(this=bits), "BIGINT")
    if isinstance(node, exp.Filter) and isinstance(node.this, (exp.Sum, exp.CountIf)):
        inner = node.this
        counted = numeric(inner.this) if isinstance(inner, exp.Sum) else Numeric("bigint")
        if counted is not None and counted.kind in ("integer", "bigint"):
            filtered = node.copy()
            filtered.meta["zfish_fixed"] = True
            return _cast(filtered, "BIGINT")
        return node
    if isinstance(node, exp.Div):
        left, right = numeric(node.this), numeric(node.expression)
        if left and right and {left.kind, right.kind} <= {"integer", "bigint"}:
            result = exp.IntDiv(this=node.this, expression=node.expression)
            return _cast(result, "INTEGER" if {left.kind, right.kind} == {"integer"} else "BIGINT")
        kinds = {left.kind, right.kind} if left and right else set()
        if left and right and "decimal" in kinds and not kinds & {"double", "real"}:
            result_type = _combine(node, left, right)
            # 1 // (b <> 0): DuckDB's own division error, which try() still catches.
            guard = exp.IntDiv(
                this=exp.Literal.number(1),
                expression=_cast(
                    exp.Paren(
                        this=exp.NEQ(this=node.expression.copy(), expression=exp.Literal.number(0))
                    ),
                    "INTEGER",
                ),
            )
            quotient = exp.Div(
                this=_cast(node.this, "DOUBLE"), expression=_cast(node.expression, "DOUBLE")
            )
            quotient.meta["zfish_fixed"] = True
            rounded = exp.Round(this=quotient, decimals=exp.Literal.number(result_type.scale))
            value = _cast(rounded, f"DECIMAL({result_type.precision}, {result_type.scale})")
            return exp.case().when(exp.EQ(this=guard, expression=exp.Literal.number(1)), value)
        return node
    if isinstance(node, (exp.Sum, exp.CountIf)) and not isinstance(
        node.parent, (exp.Window, exp.Filter)
    ):
        kind: Numeric | None = (
            numeric(node.this) if isinstance(node, exp.Sum) else Numeric("bigint")
        )
        if isinstance(node, exp.Sum) and kind is None and _is(node.this, *_WHOLE_TYPES):
            kind = Numeric("bigint")
        if kind is not None and kind.kind in ("integer", "bigint"):
            fixed = node.copy()
            fixed.meta["zfish_fixed"] = True
            return _cast(fixed, "BIGINT")
        return node
    if isinstance(node, exp.Window) and isinstance(node.this, (exp.Sum, exp.CountIf)):
        inner = node.this
        summed = numeric(inner.this) if isinstance(inner, exp.Sum) else Numeric("bigint")
        if isinstance(inner, exp.Sum) and isinstance(inner.this, (exp.Count, exp.CountIf)):
            summed = Numeric("bigint")
        if summed is not None and summed.kind in ("integer", "bigint"):
            window = node.copy()
            window.meta["zfish_fixed"] = True
            return _cast(window, "BIGINT")
        return node
    if isinstance(node, exp.Typeof):
        return _anon("ZF_TYPEOF", node.this)
    if isinstance(node, exp.Grouping):
        grouping = node.copy()
        grouping.meta["zfish_fixed"] = True
        return _cast(grouping, "INTEGER")
    if isinstance(node, exp.Cast):
        return _fix_cast(node)
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1:
        return _fix_bracket(node)
    if isinstance(node, exp.RegexpReplace):
        pattern, replacement = node.expression, node.args.get("replacement")
        if isinstance(pattern, exp.Literal) and pattern.is_string:
            text = str(pattern.this)
            if replacement is not None and isinstance(replacement, exp.Literal):
                node.set(
                    "replacement",
                    exp.Literal.string(_java_replacement(text, str(replacement.this))),
                )
            node.set("expression", exp.Literal.string(_NAMED_GROUP.sub(r"(?P<\1>", text)))
        node.meta["zfish_fixed"] = True
        return node
    if isinstance(node, exp.Substring):
        args = [node.this, node.args["start"]]
        if node.args.get("length") is not None:
            args.append(node.args["length"])
        return _anon("ZF_SUBSTR", *args)
    if isinstance(node, exp.SplitPart):
        return _anon("ZF_SPLIT_PART", node.this, node.args["delimiter"], node.args["part_index"])
    if isinstance(node, exp.StrPosition) and node.args.get("occurrence") is not None:
        return _anon("ZF_STRPOS", node.this, node.args["substr"], node.args["occurrence"])
    if isinstance(node, exp.ArraySlice) and node.args.get("end") is not None:
        return _anon("ZF_SLICE", node.this, node.args["start"], node.args["end"])
    simple = {
        exp.ArrayDistinct: "ZF_ARRAY_DISTINCT",
        exp.ArrayMax: "ZF_ARRAY_MAX",
        exp.ArrayMin: "ZF_ARRAY_MIN",
    }
    for kind_, name in simple.items():
        if type(node) is kind_:
            return _anon(name, node.this)
    if isinstance(node, exp.ArrayPosition):
        return _anon("ZF_ARRAY_POSITION", node.this, node.expression)
    if isinstance(node, exp.Format):
        return _anon("PRINTF", node.this, *node.expressions)
    if isinstance(node, exp.Repeat) and node.this.type is not None:
        return _anon("ZF_REPEAT", node.this, node.args["times"])
    if isinstance(node, exp.Extract) and node.this.name.upper() in ("DOW", "DAYOFWEEK"):
        return _cast(_anon("ISODOW", node.expression), "BIGINT")
    if isinstance(node, exp.Sign) and (
        _is(node.this, *_FLOATING) or (numeric(node.this) or Numeric("x")).kind == "double"
    ):
        sign = node.copy()
        sign.meta["zfish_fixed"] = True
        return _cast(sign, "DOUBLE")
    if isinstance(node, exp.DPipe) and (
        _is(node.this, exp.DType.ARRAY) or isinstance(node.this, exp.Array)
    ):
        other = node.expression
        if not (_is(other, exp.DType.ARRAY) or isinstance(other, exp.Array)):
            return _anon("LIST_APPEND", node.this, other)
        return node
    if isinstance(node, exp.Reduce) and node.args.get("finish") is not None:
        finish = node.args["finish"]
        node.set("finish", None)
        if isinstance(finish, exp.Lambda) and len(finish.expressions) == 1:
            return _substitute(finish.this, finish.expressions[0].name, node.copy())
        return node
    if isinstance(node, exp.Anonymous):
        name = str(node.this).lower()
        if name in _ANONYMOUS_MACROS:
            return _anon(_ANONYMOUS_MACROS[name], *node.expressions)
        if name in _MATCHES and len(node.expressions) == 2:
            array, function = node.expressions
            mapped = exp.Anonymous(this="LIST_TRANSFORM", expressions=[array, function])
            reduced = _anon(_MATCHES[name], mapped)
            return exp.Not(this=reduced) if name == "none_match" else reduced
        if name == "format_datetime" and len(node.expressions) == 2:
            value, pattern = node.expressions
            if isinstance(pattern, exp.Literal) and pattern.is_string:
                return _anon(
                    "STRFTIME", value, exp.Literal.string(_joda_to_strftime(str(pattern.this)))
                )
        if name == "to_iso8601" and len(node.expressions) == 1:
            arg = node.expressions[0]
            if _is(arg, exp.DType.DATE):
                return _anon("ZF_TO_ISO8601_DATE", arg)
            if _is(arg, exp.DType.TIMESTAMPTZ):
                return _anon("ZF_TO_ISO8601_TIMESTAMPTZ", arg)
            return _anon("ZF_TO_ISO8601_TIMESTAMP", arg)
    return node


# Joda-Time pattern letters (format_datetime) as strftime's, longest first.
_JODA = (
    ("yyyy", "%Y"),
    ("yy", "%y"),
    ("MMMM", "%B"),
    ("MMM", "%b"),
    ("MM", "%m"),
    ("dd", "%d"),
    ("HH", "%H"),
    ("hh", "%I"),
    ("mm", "%M"),
    ("ss", "%S"),
    ("SSS", "%g"),
    ("EEEE", "%A"),
    ("EEE", "%a"),
    ("a", "%p"),
    ("DDD", "%j"),
)


def _joda_to_strftime(pattern: str) -> str:
    """A Joda-Time pattern (``yyyy-MM-dd HH:mm``) as strftime's; quoted text kept as is."""
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "'":
            end = pattern.find("'", i + 1)
            end = len(pattern) if end < 0 else end
            out.append(pattern[i + 1 : end].replace("%", "%%") or "'")
            i = end + 1
            continue
        for joda, strf in _JODA:
            if pattern.startswith(joda, i):
                out.append(strf)
                i += len(joda)
                break
        else:
            out.append("%%" if pattern[i] == "%" else pattern[i])
            i += 1
    return "".join(out)


def _fix_bracket(node: exp.Bracket) -> exp.Expr:
    """Trino's subscripts: out of range, 0 or a missing map key are errors, not NULL."""
    target, index = node.this, node.expressions[0]
    if _is(target, exp.DType.MAP):
        return node if node.args.get("safe") else _anon("ZF_MAP_SUBSCRIPT", target, index)
    if not (_is(target, exp.DType.ARRAY) or isinstance(target, exp.Array)):
        return node
    # sqlglot keeps a subscript's index 0-based inside (element_at's as written, with offset 1).
    if node.args.get("offset"):
        position = index
    elif isinstance(index, exp.Literal) and not index.is_string:
        position = exp.Literal.number(int(str(index.this)) + 1)
    elif isinstance(index, exp.Sub) and isinstance(index.expression, exp.Literal):
        position = (
            index.this
            if str(index.expression.this) == "1"
            else exp.Add(this=index.copy(), expression=exp.Literal.number(1))
        )
    else:
        position = exp.Add(this=index.copy(), expression=exp.Literal.number(1))
    if not node.args.get("safe"):
        return _anon("ZF_SUBSCRIPT", target, position)
    if isinstance(position, exp.Literal) and str(position.this) == "0":
        return _anon("ZF_ELEMENT_AT", target, position)
    return node


def _fix_cast(node: exp.Cast) -> exp.Expr:
    """CAST and TRY_CAST as Trino casts: doubles as text, rounding, strict integer text."""
    source, target = node.this, node.args["to"]
    to = target.this
    text = _is(source, exp.DType.VARCHAR, exp.DType.TEXT) or (
        isinstance(source, exp.Literal) and source.is_string
    )
    if to == exp.DType.JSON and text:
        return _anon("TO_JSON", source)  # Trino: a JSON string of the text ('abc' is "abc")
    if to in (exp.DType.VARCHAR, exp.DType.TEXT) and _is(source, exp.DType.JSON):
        return _anon("ZF_JSON_VARCHAR", source)
    kind = numeric(source)
    floating = _is(source, *_FLOATING) or (kind is not None and kind.kind in ("double", "real"))
    if to in (exp.DType.VARCHAR, exp.DType.TEXT) and floating:
        real = _is(source, exp.DType.FLOAT) or (kind is not None and kind.kind == "real")
        return _anon("ZF_REAL_TEXT" if real else "ZF_DOUBLE_TEXT", source)
    if to in _WHOLE_TYPES and floating:
        node.set("this", exp.Round(this=source))
        node.meta["zfish_fixed"] = True
        return node
    if to in _WHOLE_TYPES and (
        _is(source, exp.DType.VARCHAR, exp.DType.TEXT)
        or (isinstance(source, exp.Literal) and source.is_string)
    ):
        # Trino takes only whole numbers ('12.7' fails); a prefix makes DuckDB's cast fail too.
        whole = exp.RegexpLike(
            this=source.copy(), expression=exp.Literal.string(r"^\s*[+-]?\d+\s*$")
        )
        checked = (
            exp.case()
            .when(whole, source.copy())
            .else_(
                exp.DPipe(
                    this=exp.Literal.string("not a number: "), expression=source.copy(), safe=True
                )
            )
        )
        node.set("this", checked)
        node.meta["zfish_fixed"] = True
        return node
    return node


# Lambda parameters the translations introduce: numbered, so nested ones never capture each other.
_LAMBDA_NAMES = itertools.count(1)


def _fresh(prefix: str) -> str:
    return f"zf_{prefix}{next(_LAMBDA_NAMES)}"


def _lambda(name: str, body: exp.Expr) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(name)])


def _apply(function: exp.Lambda, *values: exp.Expr) -> exp.Expr:
    """A lambda's body with its parameters bound to ``values`` (as DuckDB expressions)."""
    body: exp.Expr = function.this
    for param, value in zip(function.expressions, values, strict=False):
        body = _substitute(body, param.name, value)
    return body


def _field(struct: str, name: str) -> exp.Expr:
    return _anon("STRUCT_EXTRACT", exp.column(struct), exp.Literal.string(name))


def _fix_lambdas(node: exp.Expr) -> exp.Expr:
    """Trino's map lambdas, zip_with and a comparator array_sort as DuckDB list lambdas."""
    if isinstance(node, exp.ArraySort) and isinstance(node.expression, exp.Lambda):
        return _comparator_sort(node.this, node.expression)
    if not isinstance(node, exp.Anonymous):
        return node
    name, args = str(node.this).lower(), node.expressions
    if name in ("map_filter", "transform_values", "transform_keys") and len(args) == 2:
        mapping, function = args
        if not isinstance(function, exp.Lambda) or len(function.expressions) != 2:
            return node
        e = _fresh("e")
        body = _apply(function, _field(e, "key"), _field(e, "value"))
        entries = _anon("MAP_ENTRIES", mapping)
        if name == "map_filter":
            return _anon("MAP_FROM_ENTRIES", _anon("LIST_FILTER", entries, _lambda(e, body)))
        mapped = _anon("LIST_TRANSFORM", entries, _lambda(e, body))
        if name == "transform_values":
            return _anon("MAP", _anon("MAP_KEYS", mapping.copy()), mapped)
        # MAP() refuses duplicate keys as Trino's transform_keys does.
        return _anon("MAP", mapped, _anon("MAP_VALUES", mapping.copy()))
    if name == "zip_with" and len(args) == 3 and isinstance(args[2], exp.Lambda):
        left, right, function = args
        i = _fresh("i")
        at = exp.column(i)
        body = _apply(
            function, _anon("LIST_EXTRACT", left, at), _anon("LIST_EXTRACT", right, at.copy())
        )
        # The shorter array is padded with NULLs (list_extract past the end is NULL).
        longest = exp.Greatest(
            this=_anon("LEN", left.copy()), expressions=[_anon("LEN", right.copy())]
        )
        positions = _anon(
            "RANGE", exp.Literal.number(1), exp.Add(this=longest, expression=exp.Literal.number(1))
        )
        return _anon("LIST_TRANSFORM", positions, _lambda(i, body))
    return node


def _comparator_sort(array: exp.Expr, comparator: exp.Lambda) -> exp.Expr:
    """``array_sort(a, (x, y) -> c)``: each element placed by how many sort before it.

    An element's rank is the number of elements the comparator puts before it
    (ties by position, as Trino's sort is stable); the elements are then
    sorted by rank. Quadratic in the length, which arrays in a query keep small.
    """
    i, j, s = _fresh("i"), _fresh("j"), _fresh("s")
    n = _anon("LEN", array.copy())
    positions = _anon(
        "RANGE", exp.Literal.number(1), exp.Add(this=n, expression=exp.Literal.number(1))
    )
    at_i = _anon("LIST_EXTRACT", array.copy(), exp.column(i))
    at_j = _anon("LIST_EXTRACT", array.copy(), exp.column(j))
    order = exp.Paren(this=_apply(comparator, at_j, at_i))
    before = exp.or_(
        exp.LT(this=order, expression=exp.Literal.number(0)),
        exp.and_(
            exp.EQ(this=order.copy(), expression=exp.Literal.number(0)),
            exp.LT(this=exp.column(j), expression=exp.column(i)),
        ),
    )
    rank = _anon("LEN", _anon("LIST_FILTER", positions.copy(), _lambda(j, before)))
    ranked = exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier("r"), expression=rank),
            exp.PropertyEQ(this=exp.to_identifier("v"), expression=at_i.copy()),
        ]
    )
    by_rank = _anon("LIST_SORT", _anon("LIST_TRANSFORM", positions, _lambda(i, ranked)))
    return _anon("LIST_TRANSFORM", by_rank, _lambda(s, _field(s, "v")))


def _floating(node: exp.Expr) -> bool:
    if isinstance(node, exp.Anonymous) and str(node.this).upper() in ("ZF_NAN", "ZF_INFINITY"):
        return True
    kind = numeric(node)
    return _is(node, *_FLOATING) or (kind is not None and kind.kind in ("double", "real"))


def _fix_nan_equality(node: exp.EQ) -> exp.Expr:
    """``a = b`` on doubles: NaN equals nothing in Trino (itself included); DuckDB says NaN = NaN.

    ``a = b AND (NOT isnan(a) OR b IS NULL)`` keeps NULL where either side is
    NULL, and keeps ``a = b`` a conjunct a join can still hash on.
    """
    left, right = node.this, node.expression
    if not (_floating(left) or _floating(right)):
        return node
    nan_side, other = (left, right) if _floating(left) else (right, left)
    equal = node.copy()
    equal.meta["zfish_fixed"] = True
    not_nan = exp.or_(
        exp.Not(this=_anon("ISNAN", _cast(nan_side.copy(), "DOUBLE"))), other.copy().is_(exp.null())
    )
    return exp.Paren(this=exp.and_(equal, exp.Paren(this=not_nan)))


def _element_fields(node: exp.Expr) -> int:
    """How many fields the rows of an array of rows have (0: not known to be one)."""
    kind = node.type
    if kind is None or not kind.is_type(exp.DType.ARRAY) or not kind.expressions:
        return 0
    element = kind.expressions[0]
    if isinstance(element, exp.DataType) and element.is_type(exp.DType.STRUCT):
        return len(element.expressions)
    return 0


def _fix_unnest(node: exp.Unnest) -> exp.Expr:
    """Trino's UNNEST in FROM as a (lateral) subquery of DuckDB ``unnest`` calls, where DuckDB's differs.

    DuckDB's UNNEST in FROM takes one list. Trino's takes several (zipped, the
    shorter padded with NULL: several ``unnest`` calls in one SELECT list do
    exactly that), a map (its keys and values as two columns), an array of
    rows (each field a column) and WITH ORDINALITY over any of them.
    """
    alias = node.args.get("alias")
    names = [c.name for c in alias.columns] if alias is not None else []
    values = node.expressions
    maps = [_is(v, exp.DType.MAP) for v in values]
    rows = [_element_fields(v) for v in values]
    if len(values) == 1 and not maps[0] and not rows[0]:
        return node  # one array: DuckDB's own UNNEST (and WITH ORDINALITY) answers as Trino's
    wanted = sum(2 if m else max(r, 1) for m, r in zip(maps, rows, strict=True))
    if len(names) < wanted:
        return node
    columns: list[exp.Expr] = []
    lengths: list[exp.Expr] = []
    at = 0
    for value, is_map, fields in zip(values, maps, rows, strict=True):
        if is_map:
            parts: list[exp.Expr] = [
                _anon("MAP_KEYS", value.copy()),
                _anon("MAP_VALUES", value.copy()),
            ]
        elif fields:
            x = _fresh("x")
            parts = [
                _anon(
                    "LIST_TRANSFORM",
                    value.copy(),
                    _lambda(x, _anon("STRUCT_EXTRACT_AT", exp.column(x), exp.Literal.number(f))),
                )
                for f in range(1, fields + 1)
            ]
        else:
            parts = [value.copy()]
        lengths.append(_anon("LEN", parts[0].copy()))
        for part in parts:
            columns.append(exp.alias_(_anon("UNNEST", part), names[at], quoted=True))
            at += 1
    offset = node.args.get("offset")
    if isinstance(offset, exp.Expr):
        longest = (
            lengths[0]
            if len(lengths) == 1
            else exp.Greatest(this=lengths[0], expressions=lengths[1:])
        )
        ordinals = _anon(
            "RANGE",
            exp.Literal.number(1),
            exp.Add(this=longest, expression=exp.Literal.number(1)),
        )
        columns.append(exp.alias_(_anon("UNNEST", ordinals), offset.name, quoted=True))
    subquery = exp.Subquery(this=exp.select(*columns))
    outer = alias.copy() if alias is not None else exp.TableAlias()
    if isinstance(offset, exp.Expr):
        outer.set("columns", [*outer.columns, exp.to_identifier(offset.name)])
    subquery.set("alias", outer)
    return subquery
