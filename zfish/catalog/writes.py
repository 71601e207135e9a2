"""Athena's writing statements over the catalog: CREATE TABLE AS, UNLOAD and DROP TABLE, outside the study.

What Athena clients do by default must work (awswrangler's ``read_sql_query``
runs ``CREATE TABLE ... WITH (format = 'PARQUET', external_location = ...)
AS SELECT``, reads the files and deletes the table; ``unload_approach`` runs
``UNLOAD (...) TO 's3://...'``), while the study stays read-only: a write
into a crawled table, the Hudi table or their folders is refused with
Athena's error. The SELECT runs on zfish's own engine
(:func:`zfish.catalog.query.run_query`); its rows are written as Parquet (or
JSON lines) into the lake, each file renamed into place whole, and the new
table is registered in the same catalog the crawler writes (Glue's
CreateTable), so ``zfish query`` and the Glue API see it.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlglot import exp

from zfish.catalog import dialect, glue
from zfish.catalog.dialect import CATALOG, fail
from zfish.catalog.query import run_query
from zfish.exceptions import LakePathError, ValidationError
from zfish.settings import TABLE_NAME, LakeLayout

CTAS = "CTAS"
UNLOAD = "UNLOAD"
DROP = "DROP"
# Athena's CTAS and UNLOAD default to Parquet.
DEFAULT_FORMAT = "PARQUET"
FORMATS = {"PARQUET": glue.KIND_PARQUET, "JSON": glue.KIND_JSON_LINES}
# Table properties Athena accepts that change nothing in the files zfish writes.
IGNORED_PROPERTIES = {"write_compression", "compression", "parquet_compression", "field_delimiter"}
_READ_ONLY = "zfish keeps the study's tables read-only: use a table and location of your own"

Guard = Callable[[], AbstractContextManager[None]]


@dataclass(frozen=True)
class WriteResult:
    """What a writing statement did: the rows written and the files that hold them."""

    statement: str  # CTAS, UNLOAD or DROP
    rows: int
    files: tuple[Path, ...]
    table: str | None = None  # database.name of a table created or dropped


_UNLOAD_RE = re.compile(r"^\s*UNLOAD\s*\(", re.IGNORECASE)
_DROP_RE = re.compile(r"^\s*DROP\s+TABLE\b", re.IGNORECASE)
_CTAS_RE = re.compile(r"^\s*CREATE\s+TABLE\b.*?\bAS\b", re.IGNORECASE | re.DOTALL)


def statement_kind(sql: str) -> str | None:
    """CTAS, UNLOAD or DROP for a writing statement this module runs; None for anything else."""
    if _UNLOAD_RE.match(sql):
        return UNLOAD
    if _DROP_RE.match(sql):
        return DROP
    if _CTAS_RE.match(sql):
        return CTAS
    return None


def run(
    layout: LakeLayout,
    sql: str,
    *,
    database: str,
    default_location: str,
    read_guard: Guard = contextlib.nullcontext,
    write_guard: Guard = contextlib.nullcontext,
) -> WriteResult:
    """Run one CTAS, UNLOAD or DROP TABLE statement.

    ``default_location`` is where a CTAS without ``external_location`` puts its
    files (Athena: ``<output location>/tables/<query id>/``). The SELECT runs
    under ``read_guard``; the files and the catalog change under
    ``write_guard`` (the endpoint's catalog lock).
    """
    kind = statement_kind(sql)
    if kind == UNLOAD:
        return _unload(layout, sql, database, read_guard)
    trees = dialect.parse(sql)
    if len(trees) != 1:
        raise fail("NOT_SUPPORTED", None, "only one SQL statement is allowed at a time")
    tree = trees[0]
    if kind == DROP and isinstance(tree, exp.Drop):
        return _drop(layout, sql, tree, database, write_guard)
    if kind == CTAS and isinstance(tree, exp.Create) and tree.expression is not None:
        return _ctas(layout, sql, tree, database, default_location, read_guard, write_guard)
    raise fail("NOT_SUPPORTED", dialect.position_of(sql, 0), "this statement is not supported")


# -- CREATE TABLE AS ----------------------------------------------------------------------


def _ctas(
    layout: LakeLayout,
    sql: str,
    tree: exp.Create,
    default_db: str,
    default_location: str,
    read_guard: Guard,
    write_guard: Guard,
) -> WriteResult:
    target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    if not isinstance(target, exp.Table):
        raise fail("NOT_SUPPORTED", None, "CREATE TABLE AS needs a table name")
    where = dialect.node_position(sql, target)
    database, name = _target_name(target, default_db, where)
    props = _properties(tree, sql)
    kind = _format(props, where)
    keys = _array_property(props, "partitioned_by")
    location_text = props.get("external_location") or default_location.rstrip("/") + "/"
    location = _own_location(layout, location_text, where, f"{database}.{name}")
    select_sql = tree.expression.sql(dialect=dialect.ZfishAthena)
    with read_guard():
        existing = _existing(layout, database, name, where)
        if existing:
            if tree.args.get("exists"):
                return WriteResult(CTAS, 0, (), f"{database}.{name}")
            raise fail(
                "TABLE_ALREADY_EXISTS",
                where,
                f"Table '{CATALOG}.{database}.{name}' already exists",
            )
        result = run_query(layout, select_sql, database=default_db).table
    missing = [k for k in keys if k not in result.column_names]
    if missing:
        raise fail(
            "INVALID_TABLE_PROPERTY",
            where,
            f"Partition columns {missing} not present in the output of the SELECT",
        )
    data_names = [c for c in result.column_names if c not in keys]
    if keys and result.column_names[-len(keys) :] != keys:
        raise fail(
            "INVALID_TABLE_PROPERTY",
            where,
            "Partition keys must be the last columns in the table and in the same order as the "
            f"table properties: {keys}",
        )
    columns = tuple(glue.Column(c, _duck_type(result.schema.field(c).type)) for c in data_names)
    key_types = tuple(_duck_type(result.schema.field(k).type) for k in keys)
    with write_guard():
        _check_empty(location, location_text, where)
        files, folders = _write_files(result, location, kind, keys)
        entry = glue.TableEntry(
            database=database,
            name=name,
            kind=kind,
            location=os.path.relpath(location, layout.dataset),
            columns=columns,
            partition_keys=tuple(keys),
            partition_types=key_types if keys else (),
        )
        try:
            with glue.updating(layout) as (con, _existing_tables):
                if name in glue.load(con, database):
                    raise fail(
                        "TABLE_ALREADY_EXISTS",
                        where,
                        f"Table '{CATALOG}.{database}.{name}' already exists",
                    )
                glue.save_table(con, entry, ["created by CREATE TABLE AS"], None)
                glue.put_partitions(
                    con, name, [glue.PartitionInfo(f) for f in folders], set(), database
                )
        except BaseException:
            _remove(files)
            raise
    return WriteResult(CTAS, result.num_rows, tuple(files), f"{database}.{name}")


def _target_name(
    target: exp.Table, default_db: str, where: dialect.Position | None
) -> tuple[str, str]:
    catalog = (target.catalog or CATALOG).lower()
    if catalog != CATALOG:
        raise fail("CATALOG_NOT_FOUND", where, f"Catalog '{catalog}' does not exist")
    return (target.db or default_db).lower(), target.name.lower()


def _existing(layout: LakeLayout, database: str, name: str, where: dialect.Position | None) -> bool:
    if database not in glue.load_databases(layout):
        raise fail("SCHEMA_NOT_FOUND", where, f"Schema '{database}' does not exist")
    return name in glue.load_tables(layout, database)


def _properties(tree: exp.Expr, sql: str) -> dict[str, str]:
    """The WITH (...) properties as lower-case keys and their literal text (arrays as JSON-ish text)."""
    props: dict[str, str] = {}
    container = tree.args.get("properties")
    for prop in container.expressions if container is not None else []:
        if isinstance(prop, exp.FileFormatProperty):
            props["format"] = prop.name.upper()
        elif isinstance(prop, exp.LocationProperty):
            props["external_location"] = prop.this.name
        elif isinstance(prop, exp.PartitionedByProperty):
            props["partitioned_by"] = ",".join(_array_items(prop.this))
        elif isinstance(prop, exp.Property):
            key = prop.name.lower()
            value = prop.args.get("value")
            if isinstance(value, exp.Array):
                props[key] = ",".join(_array_items(value))
            else:
                props[key] = value.name if isinstance(value, exp.Expr) else str(value)
        else:
            props[type(prop).__name__] = prop.sql()
    known = {"format", "external_location", "partitioned_by", *IGNORED_PROPERTIES}
    for key in props:
        if key not in known:
            raise fail(
                "INVALID_TABLE_PROPERTY",
                None,
                f"Table property '{key}' is not emulated by zfish (known: {', '.join(sorted(known))})",
            )
    return props


def _array_items(node: exp.Expr) -> list[str]:
    items = node.expressions if isinstance(node, (exp.Array, exp.Schema, exp.Tuple)) else [node]
    return [item.name.lower() for item in items]


def _array_property(props: dict[str, str], key: str) -> list[str]:
    text = props.get(key, "")
    return [part for part in text.split(",") if part]


def _format(props: dict[str, str], where: dialect.Position | None) -> str:
    wanted = props.get("format", DEFAULT_FORMAT).upper()
    if wanted not in FORMATS:
        raise fail(
            "NOT_SUPPORTED",
            where,
            f"format '{wanted}' is not emulated by zfish: use {' or '.join(FORMATS)}",
        )
    return FORMATS[wanted]


def _own_location(layout: LakeLayout, text: str, where: dialect.Position | None, what: str) -> Path:
    """A location in the lake that is no study table's folder, nor inside or around one."""
    try:
        return glue.user_location(layout, text, what)
    except LakePathError as exc:  # before ValidationError: it is one
        raise fail("INVALID_TABLE_PROPERTY", where, f"{what}: {exc}") from None
    except ValidationError as exc:
        raise fail("PERMISSION_DENIED", where, str(exc)) from None


def _check_empty(location: Path, text: str, where: dialect.Position | None) -> None:
    if location.is_dir() and any(location.iterdir()):
        raise fail(
            "HIVE_PATH_ALREADY_EXISTS",
            where,
            f"Target directory for table already exists: {text}. Delete it or choose an "
            "empty location",
        )


def _duck_type(kind: pa.DataType) -> str:
    """The DuckDB type name the catalog keeps for an Arrow type of the result."""
    import duckdb

    con = duckdb.connect()
    try:
        con.register("t", pa.table({"c": pa.array([], type=kind)}))
        return str(con.sql("SELECT c FROM t").types[0])
    finally:
        con.close()


def _write_files(
    table: pa.Table, location: Path, kind: str, keys: list[str]
) -> tuple[list[Path], list[str]]:
    """The rows as files under ``location`` (Hive folders per partition); each file appears whole."""
    stem = f"{uuid.uuid4().hex}"
    groups: list[tuple[str, pa.Table]]
    if keys:
        groups = []
        combos = table.select(keys).group_by(keys).aggregate([]).to_pylist()
        for combo in sorted(combos, key=lambda c: [str(c[k]) for k in keys]):
            mask = None
            for key in keys:
                value = combo[key]
                column = table[key]
                test = pc.is_null(column) if value is None else pc.equal(column, value)
                mask = test if mask is None else pc.and_(mask, test)
            folder = "/".join(
                f"{k}={'__HIVE_DEFAULT_PARTITION__' if combo[k] is None else combo[k]}"
                for k in keys
            )
            groups.append((folder, table.filter(mask).drop_columns(keys)))
    else:
        groups = [("", table)]
    written: list[Path] = []
    try:
        for folder, rows in groups:
            target_dir = location / folder if folder else location
            target_dir.mkdir(parents=True, exist_ok=True)
            target = target_dir / f"{stem}_00000"
            temp = target_dir / f".{target.name}.zfish-tmp"
            if kind == glue.KIND_PARQUET:
                pq.write_table(rows, temp)
            else:
                import json

                with open(temp, "w", encoding="utf-8") as out:
                    for row in rows.to_pylist():
                        out.write(json.dumps(row, default=str) + "\n")
            os.replace(temp, target)
            written.append(target)
    except BaseException:
        _remove(written)
        raise
    return written, [folder for folder, _ in groups if folder]


def _remove(files: list[Path]) -> None:
    for path in files:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


# -- UNLOAD ---------------------------------------------------------------------------------


def _unload(layout: LakeLayout, sql: str, database: str, read_guard: Guard) -> WriteResult:
    """``UNLOAD (SELECT ...) TO 's3://...' WITH (format = ...)``: files, no table."""
    query, target_text, props = _split_unload(sql)
    kind = _format(props, None)
    keys = _array_property(props, "partitioned_by")
    location = _own_location(layout, target_text, None, "UNLOAD")
    with read_guard():
        result = run_query(layout, query, database=database).table
    _check_empty(location, target_text, None)
    files, _folders = _write_files(result, location, kind, keys)
    return WriteResult(UNLOAD, result.num_rows, tuple(files))


def _split_unload(sql: str) -> tuple[str, str, dict[str, str]]:
    """The query, the TO location and the WITH properties of an UNLOAD statement.

    sqlglot has no UNLOAD expression, so the parenthesised query is found by
    balancing parentheses outside string literals, and the rest is parsed as
    a CTAS's property list.
    """
    text = sql.strip().rstrip(";")
    start = text.find("(")
    if start < 0:
        raise fail("SYNTAX_ERROR", None, "UNLOAD needs (query) TO 's3://...'")
    depth, i, quote = 0, start, ""
    while i < len(text):
        char = text[i]
        if quote:
            if char == quote:
                quote = ""
        elif char in ("'", '"'):
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                break
        i += 1
    if depth != 0:
        raise fail("SYNTAX_ERROR", None, "UNLOAD: unbalanced parentheses around the query")
    query = text[start + 1 : i]
    rest = text[i + 1 :].strip()
    if not rest.upper().startswith("TO"):
        raise fail("SYNTAX_ERROR", None, "UNLOAD (query) must be followed by TO 's3://...'")
    head, _, with_part = rest[2:].strip().partition(" ")
    props_text = with_part.strip()
    if props_text.upper().startswith("WITH"):
        probe = f"CREATE TABLE _zfish_unload WITH {props_text[4:].strip()} AS SELECT 1"
    else:
        probe = "CREATE TABLE _zfish_unload AS SELECT 1"
    trees = dialect.parse(probe)
    props = _properties(trees[0], sql)
    location = head.strip()
    if not (location.startswith("'") and location.endswith("'")):
        raise fail("SYNTAX_ERROR", None, "UNLOAD ... TO needs a quoted 's3://...' location")
    return query, location[1:-1], props


# -- DROP TABLE -----------------------------------------------------------------------------


def _drop(
    layout: LakeLayout, sql: str, tree: exp.Drop, default_db: str, write_guard: Guard
) -> WriteResult:
    targets = tree.args.get("tables") or [tree.this]
    target = targets[0]
    if len(targets) != 1 or not isinstance(target, exp.Table):
        raise fail("NOT_SUPPORTED", None, "DROP TABLE takes one table name")
    where = dialect.node_position(sql, target)
    database, name = _target_name(target, default_db, where)
    with write_guard():
        if database not in glue.load_databases(layout):
            raise fail("SCHEMA_NOT_FOUND", where, f"Schema '{database}' does not exist")
        with glue.updating(layout) as (con, _tables):
            entry = glue.load(con, database).get(name)
            if entry is None:
                if tree.args.get("exists"):
                    return WriteResult(DROP, 0, (), f"{database}.{name}")
                raise fail(
                    "TABLE_NOT_FOUND", where, f"Table '{CATALOG}.{database}.{name}' does not exist"
                )
            if entry.kind not in glue.USER_KINDS:
                raise fail(
                    "PERMISSION_DENIED",
                    where,
                    f"{database}.{name} is a study table ({'the Hudi table' if name == TABLE_NAME else 'crawled'}): "
                    f"{_READ_ONLY}",
                )
            # An external table: its files stay, as Athena's DROP TABLE leaves them.
            glue.delete_table(con, name, database)
    return WriteResult(DROP, 0, (), f"{database}.{name}")
