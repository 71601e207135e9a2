"""Athena SQL over the catalog: ``zfish query 'SELECT * FROM "zebra_fish_demo"."outcomes";'``.

A statement is Athena (Trino) SQL: :mod:`zfish.catalog.statements` answers the
catalog statements (SHOW, DESCRIBE); everything else is parsed, checked and
translated to DuckDB by :mod:`zfish.catalog.dialect` and run in a fresh
in-memory DuckDB. Each table reference is replaced by what the catalog
registered (not what is in the lake now), so uploads stay invisible until a
crawl: the JSON tables read the objects of their registered partitions, and
``joined_fish_data`` is read through the ``hudi`` package (its latest commit,
the one ``--as-of`` names, or a ``FOR TIMESTAMP|VERSION AS OF`` clause, a
zfish extension: Athena time-travels Iceberg tables, not Hudi ones).

Athena's pseudo-columns ``"$path"`` (the object's ``s3://`` URI),
``"$file_size"`` and ``"$file_modified_time"`` exist on the JSON tables and
are computed only when a query names them.

Queries are read-only: one SELECT, WITH or VALUES statement per call; file
access confined to the dataset folder; the configuration locked before the
user's SQL runs. Errors read as Athena's (``TABLE_NOT_FOUND: line 1:15: ...``),
with positions in the SQL as typed.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp
from sqlglot.errors import UnsupportedError

from zfish.catalog import dialect, glue, macros
from zfish.catalog.dialect import CATALOG, PSEUDO_MTIME, PSEUDO_PATH, PSEUDO_SIZE, fail
from zfish.exceptions import AthenaQueryError, QueryError
from zfish.settings import DATABASE, TABLE_NAME, LakeLayout

_READ_ONLY = (
    "queries are read-only in zfish: the lake changes only through upload, crawl and the ETL"
)
_WRITES = {
    exp.Insert: "INSERT",
    exp.Create: "CREATE",
    exp.Drop: "DROP",
    exp.Delete: "DELETE",
    exp.Update: "UPDATE",
    exp.Merge: "MERGE",
    exp.Alter: "ALTER",
}
# Trino functions sqlglot has no expression for, mapped to the DuckDB function with the
# same semantics. Any other unknown function is FUNCTION_NOT_FOUND, as in Athena.
_PASSTHROUGH = {
    "every": "BOOL_AND",
    "map_values": "MAP_VALUES",
    "json_array_length": "JSON_ARRAY_LENGTH",
    "geometric_mean": "GEOMEAN",
    "histogram": "HISTOGRAM",
    "map_concat": "MAP_CONCAT",
}
_FILES_TABLE = "_zfish_files"
_TIME_TRAVEL_NOTE = (
    "FOR {kind} AS OF on {table} is a zfish extension: Athena supports time travel "
    "for Iceberg tables, not Hudi tables; in Athena this query fails"
)


@dataclass(frozen=True)
class QueryResult:
    table: pa.Table
    seconds: float
    as_of_instant: str | None = None
    notes: tuple[str, ...] = ()
    # The folders of the tables the statement read (Athena's DataScannedInBytes counts them).
    folders: tuple[Path, ...] = ()


@dataclass
class _Source:
    """One table reference of the statement, and what replaces it."""

    entry: glue.TableEntry
    alias: str
    instant: str | None = None


@dataclass
class _Plan:
    sources: list[_Source] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pseudo: bool = False


def run_query(
    layout: LakeLayout, sql: str, *, as_of: str | None = None, database: str = DATABASE
) -> QueryResult:
    """Run one read-only Athena statement against the catalog and return its rows.

    ``database`` is the one unqualified table names are looked up in (Athena's
    QueryExecutionContext); the study's tables are in ``zebra_fish_demo``.
    """
    from zfish.catalog import statements

    started = time.perf_counter()
    if statements.is_catalog_statement(sql):
        if as_of is not None:
            raise QueryError("--as-of applies to SELECT statements, not to SHOW or DESCRIBE")
        table = statements.run(layout, sql)
        return QueryResult(table=table, seconds=time.perf_counter() - started)
    trees = dialect.parse(sql)
    if len(trees) != 1:
        raise fail(
            "NOT_SUPPORTED",
            None,
            f"only one SQL statement is allowed, got {len(trees)}: run them one at a time",
        )
    tree = trees[0]
    _check_read_only(sql, tree)
    catalog = glue.load_catalog(layout)
    if not any(catalog.values()):
        raise QueryError(
            f"the catalog at {layout.catalog_db} is empty or missing: run `zfish crawl` first"
        )
    plan = _resolve_tables(sql, tree, catalog, database)
    dialect.mark_named_outputs(tree)
    _check_functions(sql, tree)
    refs_hudi = [s for s in plan.sources if s.entry.kind == glue.KIND_HUDI]
    if as_of is not None and not refs_hudi:
        raise QueryError(f"--as-of applies to {DATABASE}.{TABLE_NAME}; the query does not read it")
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        instants = _register_hudi(con, layout, plan, as_of)
        typed = dialect.typed(tree, dialect.schema_for(_schema(catalog)), database)
        _replace_pseudo_columns(sql, typed, plan, layout)
        if plan.pseudo:
            _register_files(con, layout, plan)
        _replace_sources(con, typed, plan, layout)
        try:
            translated = dialect.translate(typed)
        except UnsupportedError as exc:
            raise fail("NOT_SUPPORTED", None, f"zfish cannot emulate this: {exc}") from None
        macros.install(con, translated)
        allowed = [layout.dataset.resolve()] + [
            s.entry.path(layout).resolve() for s in plan.sources if s.entry.kind in glue.USER_KINDS
        ]
        listed = ", ".join(glue.literal(str(path)) for path in allowed)
        con.execute(f"SET allowed_directories = [{listed}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        try:
            relation = con.sql(translated)
            result = _json_typed(relation.to_arrow_table(), [str(t) for t in relation.types])
        except duckdb.Error as exc:
            raise _athena_error(sql, tree, exc, translated) from None
    finally:
        con.close()
    return QueryResult(
        table=result,
        seconds=time.perf_counter() - started,
        as_of_instant=", ".join(instants) if instants else None,
        notes=tuple(plan.notes),
        folders=tuple(dict.fromkeys(source.entry.path(layout) for source in plan.sources)),
    )


def _json_typed(table: pa.Table, types: list[str]) -> pa.Table:
    """Columns DuckDB types JSON as Arrow's JSON extension type (Trino's ``json``, not varchar)."""
    for i, kind in enumerate(types):
        if kind == "JSON" and pa.types.is_string(table.schema.field(i).type):
            values = pa.ExtensionArray.from_storage(pa.json_(), table.column(i).combine_chunks())
            table = table.set_column(i, pa.field(table.schema.field(i).name, pa.json_()), values)
    return table


def _check_read_only(sql: str, tree: exp.Expr) -> None:
    for kind, word in _WRITES.items():
        if isinstance(tree, kind):
            raise fail(
                "NOT_SUPPORTED", dialect.position_of(sql, 0), f"{word} is refused: {_READ_ONLY}"
            )
    if not isinstance(tree, (exp.Query, exp.Values)):
        word = sql.strip().split(None, 1)[0].upper() if sql.strip() else "empty"
        raise fail(
            "NOT_SUPPORTED",
            dialect.position_of(sql, len(sql) - len(sql.lstrip())),
            f"{word} statements are not supported: run one SELECT, WITH, VALUES, SHOW or "
            f"DESCRIBE statement ({_READ_ONLY})",
        )


def _cte_names(tree: exp.Expr) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def _resolve_tables(
    sql: str, tree: exp.Expr, catalog_tables: dict[str, dict[str, glue.TableEntry]], default: str
) -> _Plan:
    """Check every table reference against the catalog and note what replaces it."""
    plan = _Plan()
    ctes = _cte_names(tree)
    for table in list(tree.find_all(exp.Table)):
        where = dialect.node_position(sql, table)
        if not isinstance(table.this, exp.Identifier):
            name = table.this.sql_name() if isinstance(table.this, exp.Func) else table.name
            raise fail(
                "FUNCTION_NOT_FOUND", where, f"Table function '{name.lower()}' not registered"
            )
        catalog = (table.catalog or CATALOG).lower()
        database = (table.db or default).lower()
        name = table.name.lower()
        if not table.db and name in ctes:
            continue
        if catalog != CATALOG:
            raise fail("CATALOG_NOT_FOUND", where, f"Catalog '{catalog}' does not exist")
        if database not in catalog_tables:
            raise fail("SCHEMA_NOT_FOUND", where, f"Schema '{database}' does not exist")
        entry = catalog_tables[database].get(name)
        if entry is None:
            raise fail(
                "TABLE_NOT_FOUND", where, f"Table '{CATALOG}.{database}.{name}' does not exist"
            )
        version = table.args.get("version")
        source = _Source(entry=entry, alias=(table.alias or name))
        if version is not None:
            if entry.kind != glue.KIND_HUDI:
                raise fail(
                    "NOT_SUPPORTED",
                    where,
                    f"FOR {version.this} AS OF needs a table with history; {name} is a JSON table",
                )
            source.instant = _version_instant(sql, version)
            plan.notes.append(_TIME_TRAVEL_NOTE.format(kind=version.this, table=name))
            table.set("version", None)
        table.set("catalog", exp.to_identifier(CATALOG))
        table.set("db", exp.to_identifier(database))
        table.set("this", exp.to_identifier(name))
        table.meta["zfish_source"] = len(plan.sources)
        plan.sources.append(source)
    return plan


def _version_instant(sql: str, version: exp.Version) -> str:
    """The ``as_of`` text (instant or day) of a FOR VERSION / TIMESTAMP AS OF clause."""
    value = version.expression
    if str(version.this).upper() == "VERSION":
        if isinstance(value, exp.Literal):
            return str(value.this)
        raise fail(
            "INVALID_ARGUMENT",
            dialect.node_position(sql, value),
            "FOR VERSION AS OF takes a Hudi instant (yyyyMMddHHmmssSSS) or a day literal",
        )
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_external_access = false")
        stamp = con.execute(dialect.translate_expression(value.sql(dialect="trino"))).fetchone()
    except (duckdb.Error, UnsupportedError) as exc:
        raise fail(
            "INVALID_ARGUMENT",
            dialect.node_position(sql, value),
            f"FOR TIMESTAMP AS OF needs a timestamp: {exc}",
        ) from None
    finally:
        con.close()
    moment = stamp[0] if stamp else None
    if not isinstance(moment, datetime):
        raise fail("INVALID_ARGUMENT", dialect.node_position(sql, value), "the timestamp is NULL")
    # A timestamp without a zone is UTC, Athena's session zone.
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


def _check_functions(sql: str, tree: exp.Expr) -> None:
    """Unknown functions are FUNCTION_NOT_FOUND, as Athena reports them."""
    for func in tree.find_all(exp.Anonymous):
        name = str(func.this).lower()
        if name in _PASSTHROUGH:
            func.set("this", _PASSTHROUGH[name])
            continue
        if name in dialect.TRINO_FUNCTIONS:
            continue
        raise fail(
            "FUNCTION_NOT_FOUND",
            dialect.node_position(sql, func),
            f"Function '{name}' not registered",
        )


def _glue_duck_type(entry: glue.TableEntry, column: glue.Column) -> str:
    if entry.kind == glue.KIND_HUDI and column.type.startswith("TIMESTAMP"):
        return "TIMESTAMP"  # Glue says timestamp (no zone), as Hudi's sync registers it
    return column.type


def _schema(
    catalog_tables: dict[str, dict[str, glue.TableEntry]],
) -> dict[str, dict[str, dict[str, str]]]:
    """Database -> table -> column -> DuckDB type, for sqlglot's typing."""
    schema: dict[str, dict[str, dict[str, str]]] = {}
    for database, tables in catalog_tables.items():
        for name, entry in tables.items():
            columns = {c.name: _glue_duck_type(entry, c) for c in entry.columns}
            for i, key in enumerate(entry.partition_keys):
                columns.setdefault(key, entry.key_type(i))
            if entry.kind == glue.KIND_JSON:
                columns.update(
                    {PSEUDO_PATH: "VARCHAR", PSEUDO_SIZE: "BIGINT", PSEUDO_MTIME: "TIMESTAMPTZ"}
                )
            schema.setdefault(database, {})[name] = columns
    return schema


def _hudi_relation(index: int) -> str:
    return f"_zfish_hudi_{index}"


def _register_hudi(
    con: duckdb.DuckDBPyConnection, layout: LakeLayout, plan: _Plan, as_of: str | None
) -> list[str]:
    """Read each version of joined_fish_data the statement names; return the instants read."""
    from zfish import fishtable  # imports the Hudi stack only when needed

    read: dict[str | None, str] = {}
    instants: list[str] = []
    for source in plan.sources:
        if source.entry.kind != glue.KIND_HUDI:
            continue
        wanted = source.instant if source.instant is not None else as_of
        table_path = source.entry.path(layout)
        instant = fishtable.resolve_as_of(table_path, wanted) if wanted is not None else None
        if instant not in read:
            rows = _as_glue_types(fishtable.read(table_path, as_of=instant), source.entry)
            read[instant] = _hudi_relation(len(read))
            con.register(read[instant], rows)
            if instant is not None:
                instants.append(instant)
        source.instant = read[instant]  # from here on: the relation that holds it
    return instants


def _as_glue_types(rows: pa.Table, entry: glue.TableEntry) -> pa.Table:
    """Rows as Athena reads them: registered partitions only, timestamps without a zone."""
    key = entry.partition_keys[0] if entry.partition_keys else None
    if key and key in rows.column_names:
        # Typed like the column: a table registered before its first partition has none.
        registered = pa.array(list(entry.partitions), type=rows.schema.field(key).type)
        rows = rows.filter(pc.is_in(rows[key], value_set=registered))
    for i, f in enumerate(rows.schema):
        if pa.types.is_timestamp(f.type) and f.type.tz is not None:
            rows = rows.set_column(i, f.name, rows[f.name].cast(pa.timestamp(f.type.unit)))
    return rows


def _replace_pseudo_columns(sql: str, tree: exp.Expr, plan: _Plan, layout: LakeLayout) -> None:
    """``"$path"`` and friends as expressions over DuckDB's ``filename`` of each JSON row."""
    json_aliases = {s.alias.lower() for s in plan.sources if s.entry.kind == glue.KIND_JSON}
    prefix = str(layout.dataset.resolve()) + "/"
    for column in list(tree.find_all(exp.Column)):
        name = column.name
        if name not in dialect.PSEUDO_COLUMNS:
            continue
        qualifier = column.table.lower()
        if not qualifier:
            if len(json_aliases) != 1:
                raise fail(
                    "COLUMN_NOT_FOUND",
                    dialect.node_position(sql, column),
                    f"Column '{name}' cannot be resolved: name the table, e.g. o.\"{name}\"",
                )
            qualifier = next(iter(json_aliases))
        if qualifier not in json_aliases:
            raise fail(
                "COLUMN_NOT_FOUND",
                dialect.node_position(sql, column),
                f"Column '{name}' cannot be resolved: pseudo-columns exist on the JSON tables",
            )
        plan.pseudo = True
        filename = exp.column("filename", table=qualifier, quoted=True)
        value: exp.Expr
        if name == PSEUDO_PATH:
            value = exp.DPipe(
                this=exp.Literal.string(f"{layout.s3_uri}/"),
                expression=exp.Substring(this=filename, start=exp.Literal.number(len(prefix) + 1)),
                safe=True,
            )
        else:
            wanted = "size" if name == PSEUDO_SIZE else "modified"
            value = exp.Subquery(
                this=exp.select(exp.column(wanted, table="f"))
                .from_(exp.to_table(_FILES_TABLE).as_("f"))
                .where(exp.column("filename", table="f").eq(filename))
            )
        # Typed as Athena types them (a sum of "$file_size" is a bigint, not DuckDB's hugeint).
        value.type = exp.DataType.build(
            {PSEUDO_PATH: "VARCHAR", PSEUDO_SIZE: "BIGINT"}.get(name, "TIMESTAMPTZ")
        )
        value.meta["zfish_pseudo"] = qualifier
        if isinstance(column.parent, exp.Select):
            value = exp.alias_(value, name, quoted=True)
        column.replace(value)


def _register_files(con: duckdb.DuckDBPyConnection, layout: LakeLayout, plan: _Plan) -> None:
    """Size and modification time of every object the JSON sources read."""
    names: list[str] = []
    sizes: list[int] = []
    stamps: list[datetime] = []
    seen: set[str] = set()
    for source in plan.sources:
        if source.entry.kind != glue.KIND_JSON or source.entry.name in seen:
            continue
        seen.add(source.entry.name)
        for path in glue.json_files(layout, source.entry):
            stat = Path(path).stat()
            names.append(str(path))
            sizes.append(stat.st_size)
            stamps.append(datetime.fromtimestamp(stat.st_mtime, UTC).replace(microsecond=0))
    files = pa.table(
        {
            "filename": pa.array(names, pa.string()),
            "size": pa.array(sizes, pa.int64()),
            "modified": pa.array(stamps, pa.timestamp("ms", tz="UTC")),
        }
    )
    con.register(_FILES_TABLE, files)


def _replace_sources(
    con: duckdb.DuckDBPyConnection, tree: exp.Expr, plan: _Plan, layout: LakeLayout
) -> None:
    """Each catalog table reference becomes the relation that holds what the catalog registered.

    A JSON table read without pseudo-columns is a view on ``con`` (one per table,
    however often the statement names it): its SQL lists every object, which
    sqlglot need not parse, copy and print again.
    """
    import sqlglot

    by_index = dict(enumerate(plan.sources))
    views: dict[str, str | None] = {}
    for table in list(tree.find_all(exp.Table)):
        index = table.meta.get("zfish_source")
        if index is None:
            continue
        source = by_index[index]
        alias = table.alias or source.alias
        relation: exp.Expr
        if source.entry.kind == glue.KIND_HUDI:
            relation = exp.to_table(str(source.instant))
        elif source.entry.kind in glue.USER_KINDS:
            user_sql = glue.user_read_sql(layout, source.entry)
            relation = exp.Subquery(this=sqlglot.parse_one(user_sql, read="duckdb"))
        elif not plan.pseudo:
            relation = _json_view(con, views, layout, source.entry)
        else:
            read = glue.json_read_sql(layout, source.entry, with_filename=True)
            if read is not None:
                parsed = sqlglot.parse_one(f"SELECT * FROM {read}", read="duckdb")
                relation = parsed.args["from_"].this
            else:
                relation = exp.Subquery(
                    this=sqlglot.parse_one(glue.empty_json_sql(source.entry), read="duckdb")
                )
                _null_pseudo_columns(tree, alias)
        relation.set("alias", exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
        table.replace(relation)
    # A column qualified with the database ("zebra_fish_demo"."outcomes"."fish_id") keeps its table.
    for column in tree.find_all(exp.Column):
        if column.args.get("db") is not None:
            column.set("db", None)
            column.set("catalog", None)


def _json_view(
    con: duckdb.DuckDBPyConnection,
    views: dict[str, str | None],
    layout: LakeLayout,
    entry: glue.TableEntry,
) -> exp.Expr:
    """The view of a JSON table's objects on ``con`` (created at its first reference)."""
    import sqlglot

    if entry.location not in views:
        read = glue.json_read_sql(layout, entry)
        views[entry.location] = None if read is None else f"_zfish_json_{len(views)}"
        if read is not None:
            con.execute(f"CREATE TEMP VIEW {views[entry.location]} AS SELECT * FROM {read}")
    view = views[entry.location]
    if view is None:
        return exp.Subquery(this=sqlglot.parse_one(glue.empty_json_sql(entry), read="duckdb"))
    return exp.to_table(view)


def _null_pseudo_columns(tree: exp.Expr, alias: str) -> None:
    """A JSON table with no objects has no files: its pseudo-columns are NULL."""
    for node in list(tree.find_all(exp.DPipe, exp.Subquery)):
        if node.meta.get("zfish_pseudo") == alias.lower():
            node.replace(exp.null())


_COLUMN_RE = re.compile(r'Referenced column "([^"]+)" not found')
_FUNCTION_RE = re.compile(r"(?:Scalar|Aggregate|Table) Function with name (\w+) does not exist")
# A macro's Trino error (zfish.catalog.macros.zf_fail): '<ERROR_NAME>: <message>' as an integer.
_NAMED_RE = re.compile(r"Could not convert string '([A-Z][A-Z_]+): (.*)' to INT32")
# DuckDB's binder errors that name a mistake Trino names too.
_BINDER_ERRORS = {
    "must appear in the GROUP BY clause": "EXPRESSION_NOT_AGGREGATE",
    "Ambiguous reference to column": "AMBIGUOUS_NAME",
    "Could not choose a best candidate function": "TYPE_MISMATCH",
    "Cannot mix values of type": "TYPE_MISMATCH",
}
_ARGS_RE = re.compile(r"No function matches the given name and argument types '(\w+)\(([^']*)\)'")


def _athena_error(sql: str, tree: exp.Expr, exc: duckdb.Error, translated: str) -> AthenaQueryError:
    """DuckDB's error as the Athena error it stands for, positioned in the user's SQL."""
    text = str(exc).split("\n")[0]
    if (match := _COLUMN_RE.search(text)) is not None:
        name = match.group(1)
        return fail(
            "COLUMN_NOT_FOUND",
            _first_position(sql, tree, exp.Column, name),
            f"Column '{name}' cannot be resolved or requester is not authorized to access "
            "requested resources",
        )
    if (match := _FUNCTION_RE.search(text)) is not None:
        name = match.group(1).lower()
        return fail(
            "FUNCTION_NOT_FOUND",
            _first_position(sql, tree, exp.Func, name),
            f"Function '{name}' not registered",
        )
    if (match := _ARGS_RE.search(text)) is not None:
        name = match.group(1).lower()
        return fail(
            "FUNCTION_NOT_FOUND",
            _first_position(sql, tree, exp.Func, name),
            f"Unexpected parameters ({match.group(2).lower()}) for function {name}",
        )
    if isinstance(exc, duckdb.IOException) and ("No files found" in text or "No such file" in text):
        # Listed when the query was planned, gone when it read them (Athena: HIVE_FILE_NOT_FOUND).
        return fail(
            "HIVE_FILE_NOT_FOUND",
            None,
            f"{text.removeprefix('IO Error: ')}: a file of the table was deleted while the query "
            "read it; run the query again (crawl first if partitions were removed)",
        )
    if (match := _NAMED_RE.search(text)) is not None:
        return fail(match.group(1), None, match.group(2))
    if isinstance(exc, duckdb.OutOfRangeException) or (
        isinstance(exc, duckdb.ConversionException)
        and "out of range for the destination type" in text
    ):
        detail = text.removeprefix("Out of Range Error: ").removeprefix("Conversion Error: ")
        return fail("NUMERIC_VALUE_OUT_OF_RANGE", None, detail)
    if isinstance(exc, duckdb.ConversionException):
        return fail("INVALID_CAST_ARGUMENT", None, text.removeprefix("Conversion Error: "))
    if "Division by zero" in text:
        return fail("DIVISION_BY_ZERO", None, "Division by zero")
    for marker, code in _BINDER_ERRORS.items():
        if marker in text:
            return fail(code, None, text.removeprefix("Binder Error: "))
    if isinstance(exc, duckdb.InvalidInputException):
        # A function refused its arguments (a bad pattern group, duplicate map keys, a date
        # text its format does not match...): Trino's INVALID_FUNCTION_ARGUMENT.
        return fail("INVALID_FUNCTION_ARGUMENT", None, text.removeprefix("Invalid Input Error: "))
    return fail(
        "GENERIC_INTERNAL_ERROR",
        None,
        f"{text}\n  (the statement as zfish ran it on DuckDB: {_shorten(translated)})",
    )


def _shorten(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[:limit] + " ..."


def _first_position(sql: str, tree: exp.Expr, kind: Any, name: str) -> dialect.Position | None:
    for node in tree.find_all(kind):
        node_name = node.name if isinstance(node, exp.Column) else _func_name(node)
        if node_name.lower() == name.lower():
            return dialect.node_position(sql, node)
    return None


def _func_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this)
    return node.sql_name() if isinstance(node, exp.Func) else ""
