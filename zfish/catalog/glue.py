"""The Glue-style data catalog: an embedded DuckDB file inside the lake (tables, columns, partitions).

The catalog stores metadata only, as Glue does: tables, their columns (the
crawler's inferred schema, :mod:`zfish.catalog.crawler`) and the partitions
registered at crawl time. Queries (:mod:`zfish.catalog.query`) build their
views from it, so a partition uploaded after the last crawl stays invisible
until the next crawl, as in the seed (20 outcomes before the crawl, 25 after).

Tables of database ``zebra_fish_demo``:

* ``observations`` and ``outcomes``: JSON under ``<dataset>/<table>/day=...``,
  partition column ``day`` (a string, as Glue catalogues it);
* ``joined_fish_data``: the Hudi table written by the ETL job, registered by
  the crawler and by the job itself (Hudi's Glue sync); queries read its
  latest commit (or an earlier one) through the ``hudi`` package.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from zfish.catalog import jsontypes
from zfish.exceptions import CatalogError
from zfish.lake import partitions
from zfish.settings import DATABASE, LakeLayout

JSON_TABLES = ("observations", "outcomes")
KIND_JSON = "json"
KIND_HUDI = "hudi"

META = "_zfish_glue"
_SCHEMA_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {META};
CREATE TABLE IF NOT EXISTS {META}.tables (
    database VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    location VARCHAR NOT NULL,
    columns VARCHAR NOT NULL,
    partition_keys VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (database, name)
);
CREATE TABLE IF NOT EXISTS {META}.partitions (
    database VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    registered_at TIMESTAMP NOT NULL,
    PRIMARY KEY (database, table_name, value)
);
"""


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type, e.g. STRUCT(gene_a BOOLEAN, ...)

    @property
    def glue_type(self) -> str:
        return glue_type(self.type)


@dataclass(frozen=True)
class TableEntry:
    database: str
    name: str
    kind: str
    location: str  # relative to the dataset root, so the lake can move
    columns: tuple[Column, ...]
    partition_keys: tuple[str, ...]
    partitions: tuple[str, ...] = ()

    def path(self, layout: LakeLayout) -> Path:
        return layout.dataset / self.location  # an absolute location stays absolute

    def partition_path(self, layout: LakeLayout, value: str) -> Path:
        if self.kind == KIND_JSON:
            return self.path(layout) / f"{partitions.PARTITION_KEY}={value}"
        return self.path(layout) / value


def glue_type(duck: str) -> str:
    """The Glue/Hive type name a crawler would show for a DuckDB type."""
    return _glue(jsontypes.parse(duck))


def _glue(kind: object) -> str:
    if isinstance(kind, jsontypes.Struct):
        return "struct<" + ",".join(f"{k}:{_glue(v)}" for k, v in kind.items()) + ">"
    if isinstance(kind, jsontypes.List):
        return f"array<{_glue(kind.item)}>"
    names = {
        "VARCHAR": "string",
        "BIGINT": "bigint",
        "INTEGER": "int",
        "DOUBLE": "double",
        "FLOAT": "float",
        "BOOLEAN": "boolean",
        "DATE": "date",
        "SMALLINT": "smallint",
        "TINYINT": "tinyint",
        "BLOB": "binary",
        # Hudi's Glue sync with support_timestamp (the default on Spark entry points).
        "TIMESTAMP": "timestamp",
        "TIMESTAMP WITH TIME ZONE": "timestamp",
    }
    return names.get(str(kind), str(kind).lower())


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(text: str) -> str:
    """A quoted SQL identifier."""
    return '"' + text.replace('"', '""') + '"'


def json_files(layout: LakeLayout, entry: TableEntry) -> list[Path]:
    """The objects of the registered partitions, as they are in the lake now."""
    return [
        path.resolve()
        for value in entry.partitions
        for path in sorted(entry.partition_path(layout, value).glob("*.json"))
    ]


def json_read_sql(layout: LakeLayout, entry: TableEntry) -> str | None:
    """DuckDB's ``read_json`` over the registered partitions that still hold files (None: none do)."""
    columns = ", ".join(f"{literal(c.name)}: {literal(c.type)}" for c in entry.columns)
    globs = [
        entry.partition_path(layout, value) / "*.json"
        for value in entry.partitions
        # A registered partition whose objects were deleted reads as empty, as in Athena.
        if any(entry.partition_path(layout, value).glob("*.json"))
    ]
    if not globs:
        return None
    key = entry.partition_keys[0]
    files = "[" + ", ".join(literal(str(g.resolve())) for g in globs) + "]"
    return (
        f"read_json({files}, columns = {{{columns}}}, format = 'auto', "
        f"hive_partitioning = true, hive_types = {{{literal(key)}: 'VARCHAR'}})"
    )


def empty_json_sql(entry: TableEntry) -> str:
    """A SELECT with the table's columns and no rows."""
    key = entry.partition_keys[0]
    select = ", ".join(f"CAST(NULL AS {c.type}) AS {ident(c.name)}" for c in entry.columns)
    return f"SELECT {select}, CAST(NULL AS VARCHAR) AS {ident(key)} WHERE false"


def json_view_sql(layout: LakeLayout, entry: TableEntry) -> str:
    """A SELECT over the JSON of the registered partitions that still hold files."""
    read = json_read_sql(layout, entry)
    return f"SELECT * FROM {read}" if read is not None else empty_json_sql(entry)


def _hudi_view_sql(layout: LakeLayout, entry: TableEntry) -> str:
    """A SELECT over the base files of the latest snapshot (Copy-on-Write: that is the table)."""
    from zfish import fishtable

    table = entry.path(layout).resolve()
    files = [table / rel for rel in fishtable.latest_base_files(table)]
    if not files:
        select = ", ".join(f"CAST(NULL AS {c.type}) AS {ident(c.name)}" for c in entry.columns)
        return f"SELECT {select} WHERE false"
    listed = "[" + ", ".join(literal(str(f)) for f in files) + "]"
    return f"SELECT * FROM read_parquet({listed}, union_by_name = true)"


def _refresh_views(con: duckdb.DuckDBPyConnection, layout: LakeLayout) -> None:
    """Views in schema zebra_fish_demo, for anyone opening catalog.duckdb with DuckDB itself.

    They hold absolute paths and reflect the catalog as of the last crawl or
    Hudi sync; ``zfish query`` builds its own views from the metadata instead
    (portable, and with time travel).
    """
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(DATABASE)}")
    for name, entry in load(con).items():
        sql = (
            json_view_sql(layout, entry)
            if entry.kind == KIND_JSON
            else _hudi_view_sql(layout, entry)
        )
        con.execute(f"CREATE OR REPLACE VIEW {ident(DATABASE)}.{ident(name)} AS {sql}")


@contextmanager
def connect(layout: LakeLayout, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the catalog database; read-only opens never create it."""
    path = layout.catalog_db
    if read_only and not path.exists():
        raise CatalogError(
            f"no catalog at {path}: run `zfish crawl` (or `zfish simulate`) to create it"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        raise CatalogError(
            f"cannot open the catalog {path} ({exc}); another zfish process may be "
            "writing it: wait for it to finish and retry"
        ) from exc
    try:
        if not read_only:
            con.execute(_SCHEMA_DDL)
        yield con
    finally:
        con.close()


@contextmanager
def updating(
    layout: LakeLayout,
) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict[str, TableEntry]]]:
    """One catalog transaction: the current entries in, views refreshed, all or nothing out."""
    with connect(layout, read_only=False) as con:
        existing = load(con)
        con.execute("BEGIN TRANSACTION")
        try:
            yield con, existing
            _refresh_views(con, layout)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


def load_tables(layout: LakeLayout) -> dict[str, TableEntry]:
    """Every catalogued table of the database, with its registered partitions."""
    if not layout.catalog_db.exists():
        return {}
    with connect(layout, read_only=True) as con:
        return load(con)


def load(con: duckdb.DuckDBPyConnection) -> dict[str, TableEntry]:
    try:
        rows = con.execute(
            f"SELECT name, kind, location, columns, partition_keys FROM {META}.tables "
            "WHERE database = ? ORDER BY name",
            [DATABASE],
        ).fetchall()
        parts = con.execute(
            f"SELECT table_name, value FROM {META}.partitions WHERE database = ? "
            "ORDER BY table_name, value",
            [DATABASE],
        ).fetchall()
    except duckdb.CatalogException as exc:
        raise CatalogError(f"the catalog is not a zfish catalog or is damaged: {exc}") from exc
    by_table: dict[str, list[str]] = {}
    for table_name, value in parts:
        by_table.setdefault(table_name, []).append(value)
    return {
        name: TableEntry(
            database=DATABASE,
            name=name,
            kind=kind,
            location=location,
            columns=tuple(Column(c["name"], c["type"]) for c in json.loads(columns)),
            partition_keys=tuple(json.loads(keys)),
            partitions=tuple(by_table.get(name, [])),
        )
        for name, kind, location, columns, keys in rows
    }


def now() -> datetime:
    """Catalog timestamps: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)
