"""The Glue-style data catalog: an embedded DuckDB file inside the lake (tables, versions, partitions).

The catalog stores metadata only, as Glue does: tables, their columns (the
crawler's inferred schema, :mod:`zfish.catalog.crawler`), every earlier
definition of a table (its versions, as Glue's ``GetTableVersions`` lists
them) and the partitions registered at crawl time, each with its own schema
and a fingerprint of its files (so a recrawl reads only what changed). Queries (:mod:`zfish.catalog.query`) build their
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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from zfish.catalog import jsontypes
from zfish.exceptions import CatalogError, ValidationError
from zfish.lake import partitions
from zfish.settings import DATABASE, LakeLayout

JSON_TABLES = ("observations", "outcomes")
KIND_JSON = "json"
KIND_HUDI = "hudi"
# Tables made by Glue's CreateTable or Athena's CREATE TABLE AS (outside the study): their
# files are read as they are under the table's (or each registered partition's) folder.
KIND_PARQUET = "parquet"
KIND_JSON_LINES = "jsonl"
USER_KINDS = (KIND_PARQUET, KIND_JSON_LINES)

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
CREATE TABLE IF NOT EXISTS {META}.databases (
    name VARCHAR PRIMARY KEY,
    description VARCHAR NOT NULL,
    location_uri VARCHAR NOT NULL,
    parameters VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);
ALTER TABLE {META}.partitions ADD COLUMN IF NOT EXISTS columns VARCHAR;
ALTER TABLE {META}.partitions ADD COLUMN IF NOT EXISTS fingerprint VARCHAR;
CREATE TABLE IF NOT EXISTS {META}.table_versions (
    database VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    version_id INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    changes VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    location VARCHAR NOT NULL,
    columns VARCHAR NOT NULL,
    partition_keys VARCHAR NOT NULL,
    PRIMARY KEY (database, table_name, version_id)
);
"""
# Catalogs written before versions were kept get this note on their first version.
BASELINE_NOTE = "the definition found in the catalog (versions were not kept before)"


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
    # DuckDB types of the partition keys; the study's keys (and any not given) are strings.
    partition_types: tuple[str, ...] = ()

    def path(self, layout: LakeLayout) -> Path:
        return layout.dataset / self.location  # an absolute location stays absolute

    def partition_path(self, layout: LakeLayout, value: str) -> Path:
        if self.kind == KIND_JSON:
            return self.path(layout) / f"{partitions.PARTITION_KEY}={value}"
        # A user table's partition is stored as its Hive folder (k1=v1/k2=v2), a Hudi one as its path.
        return self.path(layout) / value

    def key_type(self, index: int) -> str:
        return self.partition_types[index] if index < len(self.partition_types) else "VARCHAR"

    def partition_values(self, value: str) -> list[str]:
        """Glue's ``Values`` of a registered partition."""
        if self.kind in USER_KINDS:
            return [part.partition("=")[2] for part in value.split("/")]
        return [value]

    def partition_folder(self, values: list[str]) -> str:
        """The registered form of a user table's partition from Glue's ``Values``."""
        if len(values) != len(self.partition_keys):
            raise ValidationError(
                f"{self.database}.{self.name} has {len(self.partition_keys)} partition keys "
                f"({', '.join(self.partition_keys)}); got values {values}"
            )
        return "/".join(f"{k}={v}" for k, v in zip(self.partition_keys, values, strict=True))


@dataclass(frozen=True)
class TableVersion:
    """One definition of a table, as Glue's ``GetTableVersions`` returns it."""

    version_id: int
    created_at: datetime
    changes: tuple[str, ...]
    kind: str
    location: str
    columns: tuple[Column, ...]
    partition_keys: tuple[str, ...]


@dataclass(frozen=True)
class PartitionInfo:
    """A registered partition: its value, its own schema and its files' fingerprint.

    ``columns`` and ``fingerprint`` are ``None`` where there is nothing to
    cache (a Hudi table's partitions, or a partition to re-read next time).
    """

    value: str
    columns: tuple[Column, ...] | None = None
    fingerprint: str | None = None


def glue_type(duck: str) -> str:
    """The Glue/Hive type name a crawler would show for a DuckDB type."""
    return _glue(jsontypes.parse(duck))


def type_name(kind: object) -> str:
    """The Glue/Hive type name of an inferred type (:mod:`zfish.catalog.jsontypes`)."""
    return _glue(kind)


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
        jsontypes.NULL: "string",  # an all-null column is catalogued as a string
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


def json_read_sql(
    layout: LakeLayout, entry: TableEntry, *, with_filename: bool = False
) -> str | None:
    """A DuckDB relation over the registered partitions that still hold files (None: none do).

    By default the objects are read as text (``read_text``, one listing of
    the folders here, no globbing in DuckDB) and parsed with ``json_transform``
    into the catalogued types, record by record as :func:`jsontypes.records_in`
    reads them (a line is an object or an array of objects). That is many
    times faster than ``read_json`` over many small objects, which pays a
    reader set-up per file (885 objects: 0.1 s against 1 to 5 s).

    ``with_filename`` gives ``read_json`` over the partition globs instead, whose
    virtual ``filename`` column the pseudo-columns ``"$path"`` and friends need
    (a subquery's column would show up in ``SELECT *``).
    """
    key = entry.partition_keys[0]
    # The table's folder resolved once, each partition's folder listed once.
    table = entry.path(layout).resolve()
    listing = [
        (folder, sorted(folder.glob("*.json")))
        for value in entry.partitions
        for folder in [table / f"{partitions.PARTITION_KEY}={value}"]  # partition_path's folder
    ]
    # A registered partition whose objects were deleted reads as empty, as in Athena.
    listing = [(folder, found) for folder, found in listing if found]
    if not listing:
        return None
    if with_filename or not entry.columns:
        columns = ", ".join(f"{literal(c.name)}: {literal(c.type)}" for c in entry.columns)
        globs = "[" + ", ".join(literal(str(f / "*.json")) for f, _ in listing) + "]"
        return (
            f"read_json({globs}, columns = {{{columns}}}, format = 'auto', "
            f"hive_partitioning = true, hive_types = {{{literal(key)}: 'VARCHAR'}})"
        )
    files = [str(path) for _, found in listing for path in found]
    listed = "[" + ", ".join(literal(f) for f in files) + "]"
    record = json.dumps({c.name: _structure(jsontypes.parse(c.type)) for c in entry.columns})
    records = _records("content", literal(record), literal(f"[{record}]"))
    # read_text skips a listed file that is gone, where Athena fails the query: one row of
    # every object's text and their count, failing as HIVE_FILE_NOT_FOUND (the failing cast of
    # '<ERROR_NAME>: <message>' that zfish.catalog.query names) when objects are missing.
    gone = literal(
        f" of the {len(files)} objects of {entry.name} were deleted while the query read "
        "them; run the query again (crawl first if partitions were removed)"
    )
    read = (
        "SELECT list(content) AS contents, list(filename) AS names, CASE "
        f"WHEN count(*) = {len(files)} THEN 1 "
        f"ELSE CAST('HIVE_FILE_NOT_FOUND: ' || ({len(files)} - count(*)) || {gone} AS INTEGER) "
        f"END AS complete FROM read_text({listed})"
    )
    objects = f"SELECT unnest(contents) AS content, unnest(names) AS filename FROM ({read}) WHERE complete = 1"
    # The partition value from the object's folder (key=value), as hive_partitioning reads it.
    value = f"regexp_extract(filename, {literal('/' + key + '=([^/]*)/[^/]*$')}, 1)"
    return (
        f"(SELECT unnest(zf_record), {value} AS {ident(key)} FROM "
        f"(SELECT unnest({records}) AS zf_record, filename FROM ({objects})))"
    )


def _records(text: str, one: str, many: str) -> str:
    """The records of an object's text: a line is an object or an array of them (records_in)."""

    def line(value: str) -> str:
        return (
            f"CASE WHEN starts_with(ltrim({value}), '[') THEN json_transform({value}, {many}) "
            f"ELSE [json_transform({value}, {one})] END"
        )

    # Most objects are one line (upload compacts them): split only the ones that are not.
    lines = f"list_filter(string_split({text}, chr(10)), lambda l: trim(l) <> '')"
    return (
        f"CASE WHEN contains(rtrim({text}), chr(10)) "
        f"THEN flatten(list_transform({lines}, lambda l: {line('l')})) ELSE {line(text)} END"
    )


def _structure(kind: object) -> object:
    """A catalog type as ``json_transform``'s structure: objects and arrays nest, leaves name types."""
    if isinstance(kind, jsontypes.Struct):
        return {name: _structure(inner) for name, inner in kind.items()}
    if isinstance(kind, jsontypes.List):
        return [_structure(kind.item)]
    return str(kind)


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


def user_files(layout: LakeLayout, entry: TableEntry) -> list[Path]:
    """The data files of a user table: under its folder, or under its registered partitions."""
    roots = (
        [entry.partition_path(layout, v) for v in entry.partitions]
        if entry.partition_keys
        else [entry.path(layout)]
    )
    suffix = ".parquet" if entry.kind == KIND_PARQUET else ""
    found = []
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            name = path.name
            # Hidden and temporary files are not data, as Athena skips _ and . names.
            if name.startswith(("_", ".")) or not path.is_file():
                continue
            if suffix and entry.kind == KIND_PARQUET and path.suffix not in ("", suffix):
                continue
            found.append(path.resolve())
    return found


def user_read_sql(layout: LakeLayout, entry: TableEntry) -> str:
    """A SELECT over a user table's files, partition keys from their folders, typed as catalogued."""
    files = user_files(layout, entry)
    data = ", ".join(f"CAST({ident(c.name)} AS {c.type}) AS {ident(c.name)}" for c in entry.columns)
    keys = ", ".join(
        f"CAST({ident(k)} AS {entry.key_type(i)}) AS {ident(k)}"
        for i, k in enumerate(entry.partition_keys)
    )
    select = ", ".join(part for part in (data, keys) if part)
    if not files:
        empty = ", ".join(
            [f"CAST(NULL AS {c.type}) AS {ident(c.name)}" for c in entry.columns]
            + [
                f"CAST(NULL AS {entry.key_type(i)}) AS {ident(k)}"
                for i, k in enumerate(entry.partition_keys)
            ]
        )
        return f"SELECT {empty} WHERE false"
    listed = "[" + ", ".join(literal(str(f)) for f in files) + "]"
    hive = ", hive_partitioning = true" if entry.partition_keys else ""
    if entry.kind == KIND_PARQUET:
        read = f"read_parquet({listed}, union_by_name = true{hive})"
    else:
        columns = ", ".join(f"{literal(c.name)}: {literal(c.type)}" for c in entry.columns)
        read = f"read_json({listed}, columns = {{{columns}}}, format = 'newline_delimited'{hive})"
    return f"SELECT {select} FROM {read}"


def view_sql(layout: LakeLayout, entry: TableEntry) -> str:
    """A SELECT over what the catalog registered for a table, whatever its kind."""
    if entry.kind == KIND_JSON:
        return json_view_sql(layout, entry)
    if entry.kind == KIND_HUDI:
        return _hudi_view_sql(layout, entry)
    return user_read_sql(layout, entry)


def _refresh_views(con: duckdb.DuckDBPyConnection, layout: LakeLayout) -> None:
    """Views in schema zebra_fish_demo, for anyone opening catalog.duckdb with DuckDB itself.

    They hold absolute paths and reflect the catalog as of the last crawl or
    Hudi sync; ``zfish query`` builds its own views from the metadata instead
    (portable, and with time travel).
    """
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(DATABASE)}")
    for name, entry in load(con).items():
        sql = view_sql(layout, entry)
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


def load_tables(layout: LakeLayout, database: str = DATABASE) -> dict[str, TableEntry]:
    """Every catalogued table of a database, with its registered partitions."""
    if not layout.catalog_db.exists():
        return {}
    with connect(layout, read_only=True) as con:
        return load(con, database)


def load(con: duckdb.DuckDBPyConnection, database: str = DATABASE) -> dict[str, TableEntry]:
    try:
        rows = con.execute(
            f"SELECT name, kind, location, columns, partition_keys FROM {META}.tables "
            "WHERE database = ? ORDER BY name",
            [database],
        ).fetchall()
        parts = con.execute(
            f"SELECT table_name, value FROM {META}.partitions WHERE database = ? "
            "ORDER BY table_name, value",
            [database],
        ).fetchall()
    except duckdb.CatalogException as exc:
        raise CatalogError(f"the catalog is not a zfish catalog or is damaged: {exc}") from exc
    by_table: dict[str, list[str]] = {}
    for table_name, value in parts:
        by_table.setdefault(table_name, []).append(value)
    out = {}
    for name, kind, location, columns, keys in rows:
        names, types = _keys(keys)
        out[name] = TableEntry(
            database=database,
            name=name,
            kind=kind,
            location=location,
            columns=_columns(columns),
            partition_keys=names,
            partitions=tuple(by_table.get(name, [])),
            partition_types=types,
        )
    return out


def _keys_json(entry: TableEntry) -> str:
    if not entry.partition_types:
        return json.dumps(entry.partition_keys)
    return json.dumps(
        [{"name": k, "type": entry.key_type(i)} for i, k in enumerate(entry.partition_keys)]
    )


def _keys(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Partition key names and types: a list of names (the study's), or of {name, type}."""
    items = json.loads(text)
    if all(isinstance(item, str) for item in items):
        return tuple(items), ()
    return tuple(i["name"] for i in items), tuple(i["type"] for i in items)


def _columns_json(columns: tuple[Column, ...]) -> str:
    return json.dumps([{"name": c.name, "type": c.type} for c in columns])


def _columns(text: str) -> tuple[Column, ...]:
    return tuple(Column(c["name"], c["type"]) for c in json.loads(text))


def load_partitions(
    con: duckdb.DuckDBPyConnection, name: str, database: str = DATABASE
) -> dict[str, PartitionInfo]:
    """The registered partitions of one table, with their cached schemas."""
    rows = con.execute(
        f"SELECT value, columns, fingerprint FROM {META}.partitions "
        "WHERE database = ? AND table_name = ? ORDER BY value",
        [database, name],
    ).fetchall()
    return {
        value: PartitionInfo(value, _columns(cols) if cols else None, fingerprint)
        for value, cols, fingerprint in rows
    }


def versions(
    con: duckdb.DuckDBPyConnection, name: str, database: str = DATABASE
) -> list[TableVersion]:
    """Every stored version of a table, oldest first."""
    rows = con.execute(
        f"SELECT version_id, created_at, changes, kind, location, columns, partition_keys "
        f"FROM {META}.table_versions WHERE database = ? AND table_name = ? ORDER BY version_id",
        [database, name],
    ).fetchall()
    return [
        TableVersion(
            version_id=vid,
            created_at=created,
            changes=tuple(json.loads(notes)),
            kind=kind,
            location=location,
            columns=_columns(cols),
            partition_keys=_keys(keys)[0],
        )
        for vid, created, notes, kind, location, cols, keys in rows
    ]


def load_versions(layout: LakeLayout, name: str, database: str = DATABASE) -> list[TableVersion]:
    """The versions of table ``name`` (``GetTableVersions``); ValidationError if not catalogued."""
    with connect(layout, read_only=True) as con:
        tables = load(con, database)
        if name not in tables:
            known = ", ".join(f"{database}.{t}" for t in tables) or "none yet"
            raise ValidationError(
                f"table {database}.{name} is not in the catalog {layout.catalog_db} "
                f"(catalogued: {known}); run `zfish crawl` to catalogue the lake"
            )
        try:
            found = versions(con, name, database)
        except duckdb.CatalogException:  # a catalog from before versions were kept
            found = []
        if not found:
            entry = tables[name]
            found = [
                TableVersion(
                    0,
                    now(),
                    (BASELINE_NOTE,),
                    entry.kind,
                    entry.location,
                    entry.columns,
                    entry.partition_keys,
                )
            ]
        return found


def save_table(
    con: duckdb.DuckDBPyConnection,
    entry: TableEntry,
    changes: list[str],
    previous: TableEntry | None,
) -> int:
    """Create or update a table's definition and keep it as a new version; its version id.

    Call it only for a real change: every call makes a version. Runs inside the
    caller's transaction, so the definition and its version land together.
    """
    stamp = now()
    columns = _columns_json(entry.columns)
    keys = _keys_json(entry)
    database = entry.database
    if previous is None:
        con.execute(
            f"INSERT INTO {META}.tables (database, name, kind, location, columns, partition_keys, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [database, entry.name, entry.kind, entry.location, columns, keys, stamp, stamp],
        )
    else:
        if not versions(con, entry.name, database):
            _add_version(con, previous, 0, [BASELINE_NOTE], stamp)
        con.execute(
            f"UPDATE {META}.tables SET kind = ?, location = ?, columns = ?, partition_keys = ?, "
            "updated_at = ? WHERE database = ? AND name = ?",
            [entry.kind, entry.location, columns, keys, stamp, database, entry.name],
        )
    (last,) = con.execute(
        f"SELECT max(version_id) FROM {META}.table_versions WHERE database = ? AND table_name = ?",
        [database, entry.name],
    ).fetchone() or (None,)
    version_id = 0 if last is None else int(last) + 1
    _add_version(con, entry, version_id, changes, stamp)
    return version_id


def _add_version(
    con: duckdb.DuckDBPyConnection,
    entry: TableEntry,
    version_id: int,
    changes: list[str],
    stamp: datetime,
) -> None:
    con.execute(
        f"INSERT INTO {META}.table_versions (database, table_name, version_id, created_at, "
        "changes, kind, location, columns, partition_keys) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            entry.database,
            entry.name,
            version_id,
            stamp,
            json.dumps(changes),
            entry.kind,
            entry.location,
            _columns_json(entry.columns),
            _keys_json(entry),
        ],
    )


def delete_table(con: duckdb.DuckDBPyConnection, name: str, database: str = DATABASE) -> None:
    """Glue's DeleteTable: the table, its partitions and its versions."""
    for table, column in (
        ("tables", "name"),
        ("partitions", "table_name"),
        ("table_versions", "table_name"),
    ):
        con.execute(
            f"DELETE FROM {META}.{table} WHERE database = ? AND {column} = ?", [database, name]
        )
    if database == DATABASE:
        con.execute(f"DROP VIEW IF EXISTS {ident(DATABASE)}.{ident(name)}")


def put_partitions(
    con: duckdb.DuckDBPyConnection,
    name: str,
    infos: list[PartitionInfo],
    registered: set[str],
    database: str = DATABASE,
) -> None:
    """Register new partitions and refresh the cached schema of those already registered."""
    stamp = now()
    for info in infos:
        columns = _columns_json(info.columns) if info.columns is not None else None
        if info.value in registered:
            con.execute(
                f"UPDATE {META}.partitions SET columns = ?, fingerprint = ? "
                "WHERE database = ? AND table_name = ? AND value = ?",
                [columns, info.fingerprint, database, name, info.value],
            )
        else:
            con.execute(
                f"INSERT INTO {META}.partitions (database, table_name, value, registered_at, "
                "columns, fingerprint) VALUES (?, ?, ?, ?, ?, ?)",
                [database, name, info.value, stamp, columns, info.fingerprint],
            )


def drop_partitions(
    con: duckdb.DuckDBPyConnection, name: str, values: list[str], database: str = DATABASE
) -> None:
    """DELETE_FROM_DATABASE for partitions whose folder (or every file in it) is gone."""
    for value in values:
        con.execute(
            f"DELETE FROM {META}.partitions WHERE database = ? AND table_name = ? AND value = ?",
            [database, name, value],
        )


@dataclass(frozen=True)
class Database:
    """A database of the catalog, as Glue's CreateDatabase made it."""

    name: str
    description: str = ""
    location_uri: str = ""
    parameters: dict[str, str] = field(default_factory=dict)
    created_at: datetime | None = None


def load_databases(layout: LakeLayout) -> dict[str, Database]:
    """The catalog's databases; the study's exists once the catalog does."""
    if not layout.catalog_db.exists():
        return {}
    with connect(layout, read_only=True) as con:
        return _databases(con)


def _databases(con: duckdb.DuckDBPyConnection) -> dict[str, Database]:
    try:
        rows = con.execute(
            f"SELECT name, description, location_uri, parameters, created_at "
            f"FROM {META}.databases ORDER BY name"
        ).fetchall()
    except duckdb.CatalogException:  # a catalog from before databases were kept
        rows = []
    found = {r[0]: Database(r[0], r[1], r[2], json.loads(r[3]), r[4]) for r in rows}
    found.setdefault(DATABASE, Database(DATABASE, "zfish: the study's catalog"))
    return found


def load_catalog(layout: LakeLayout) -> dict[str, dict[str, TableEntry]]:
    """Database -> table -> entry for every database, read in one connection."""
    if not layout.catalog_db.exists():
        return {}
    with connect(layout, read_only=True) as con:
        return {name: load(con, name) for name in _databases(con)}


def database_recorded(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether CreateDatabase made ``name`` (the study's database also exists without it)."""
    row = con.execute(f"SELECT count(*) FROM {META}.databases WHERE name = ?", [name]).fetchone()
    return bool(row and row[0])


def duck_type(glue_name: str) -> str:
    """The DuckDB type for a Glue/Hive column type (``array<string>`` -> ``VARCHAR[]``)."""
    import sqlglot

    try:
        spelled = sqlglot.exp.DataType.build(glue_name, dialect="hive").sql(dialect="duckdb")
        # DuckDB's own spelling (TEXT -> VARCHAR), the one the crawler stores.
        con = duckdb.connect()
        try:
            return str(con.sql(f"SELECT CAST(NULL AS {spelled})").types[0])
        finally:
            con.close()
    except (sqlglot.errors.ParseError, ValueError, duckdb.Error) as exc:
        raise ValidationError(f"unknown Glue column type {glue_name!r}: {exc}") from None


def user_location(layout: LakeLayout, text: str, what: str) -> Path:
    """A user table's ``s3://`` location in the lake: never a study table's folder, nor in or around one."""
    from zfish.settings import KINDS, resolve_location

    if not text.startswith(("s3://", "s3a://")):
        raise ValidationError(f"{what}: the location {text!r} must be an s3:// URI in the lake")
    location = resolve_location(text, layout.root)
    real = location.resolve()
    for folder in [layout.kind_dir(k) for k in KINDS] + [layout.table, layout.catalog_dir]:
        guarded = folder.resolve()
        if real == guarded or guarded in real.parents or real in guarded.parents:
            raise ValidationError(
                f"{what}: {text} overlaps the study's folder {folder.name}/; zfish keeps the "
                "study's tables read-only: use a location of your own"
            )
    return location


def save_database(con: duckdb.DuckDBPyConnection, database: Database) -> None:
    """Glue's CreateDatabase; the caller checks that the name is free."""
    con.execute(
        f"INSERT INTO {META}.databases (name, description, location_uri, parameters, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            database.name,
            database.description,
            database.location_uri,
            json.dumps(database.parameters),
            now(),
        ],
    )


def delete_database(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Glue's DeleteDatabase: the database and every table in it."""
    for table in load(con, name):
        delete_table(con, table, name)
    con.execute(f"DELETE FROM {META}.databases WHERE name = ?", [name])


def now() -> datetime:
    """Catalog timestamps: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)
