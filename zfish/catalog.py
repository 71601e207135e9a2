"""The Glue-style data catalog: an embedded DuckDB file inside the lake, and the crawler that fills it.

The catalog stores metadata only, as Glue does: tables, their columns (the
crawler's inferred schema) and the partitions registered at crawl time.
Queries (:mod:`zfish.query`) build their views from it, so a partition
uploaded after the last crawl stays invisible until the next crawl, as in
the seed (20 outcomes before the crawl, 25 after).

Tables of database ``zebra_fish_demo``:

* ``observations`` and ``outcomes``: JSON under ``<dataset>/<table>/day=...``,
  partition column ``day`` (a string, as Glue catalogues it);
* ``joined_fish_data``: the Hudi table written by the ETL job, registered by
  the crawler and by the job itself (Hudi's Glue sync); queries read its
  latest commit (or an earlier one) through the ``hudi`` package.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from zfish import jsontypes, partitions
from zfish.exceptions import CatalogError
from zfish.problems import Problem
from zfish.settings import DATABASE, TABLE_NAME, LakeLayout

JSON_TABLES = ("observations", "outcomes")
KIND_JSON = "json"
KIND_HUDI = "hudi"

_META = "_zfish_glue"
_SCHEMA_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {_META};
CREATE TABLE IF NOT EXISTS {_META}.tables (
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
CREATE TABLE IF NOT EXISTS {_META}.partitions (
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


@dataclass
class TableChange:
    name: str
    created: bool = False
    partitions_added: list[str] = field(default_factory=list)
    partitions_removed: list[str] = field(default_factory=list)
    schema_changes: list[str] = field(default_factory=list)
    partitions_total: int = 0


@dataclass
class CrawlReport:
    tables: dict[str, TableChange] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    def rows(self) -> list[tuple[str, str]]:
        rows: list[tuple[str, str]] = []
        for name, change in self.tables.items():
            parts = [
                "created" if change.created else "updated",
                f"{change.partitions_total} partitions",
                f"+{len(change.partitions_added)} added",
            ]
            if change.partitions_removed:
                parts.append(f"-{len(change.partitions_removed)} removed")
            rows.append((f"{DATABASE}.{name}", ", ".join(parts)))
            if change.partitions_added:
                rows.append(("  new partitions", _span(change.partitions_added)))
            for note in change.schema_changes:
                rows.append(("  schema", note))
        rows.append(("problems", str(len(self.problems))))
        rows.append(("seconds", f"{self.seconds:.2f}"))
        return rows


def _span(values: list[str]) -> str:
    if len(values) <= 3:
        return ", ".join(values)
    return f"{values[0]} .. {values[-1]} ({len(values)})"


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
    }
    return names.get(str(kind), str(kind).lower())


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(text: str) -> str:
    """A quoted SQL identifier."""
    return '"' + text.replace('"', '""') + '"'


def json_view_sql(layout: LakeLayout, entry: TableEntry) -> str:
    """A SELECT over the JSON of the registered partitions that still hold files."""
    columns = ", ".join(f"{literal(c.name)}: {literal(c.type)}" for c in entry.columns)
    globs = [
        entry.partition_path(layout, value) / "*.json"
        for value in entry.partitions
        # A registered partition whose objects were deleted reads as empty, as in Athena.
        if any(entry.partition_path(layout, value).glob("*.json"))
    ]
    key = entry.partition_keys[0]
    if not globs:
        select = ", ".join(f"CAST(NULL AS {c.type}) AS {ident(c.name)}" for c in entry.columns)
        return f"SELECT {select}, CAST(NULL AS VARCHAR) AS {ident(key)} WHERE false"
    files = "[" + ", ".join(literal(str(g.resolve())) for g in globs) + "]"
    return (
        f"SELECT * FROM read_json({files}, columns = {{{columns}}}, format = 'auto', "
        f"hive_partitioning = true, hive_types = {{{literal(key)}: 'VARCHAR'}})"
    )


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
    for name, entry in _load(con).items():
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
def _updating(
    layout: LakeLayout,
) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict[str, TableEntry]]]:
    """One catalog transaction: the current entries in, views refreshed, all or nothing out."""
    with connect(layout, read_only=False) as con:
        existing = _load(con)
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
        return _load(con)


def _load(con: duckdb.DuckDBPyConnection) -> dict[str, TableEntry]:
    try:
        rows = con.execute(
            f"SELECT name, kind, location, columns, partition_keys FROM {_META}.tables "
            "WHERE database = ? ORDER BY name",
            [DATABASE],
        ).fetchall()
        parts = con.execute(
            f"SELECT table_name, value FROM {_META}.partitions WHERE database = ? "
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


def _infer_json_columns(
    previous: tuple[Column, ...], files: list[Path], problems: list[Problem]
) -> tuple[Column, ...]:
    """The previous crawl's columns merged with the types found in ``files``."""
    schema = jsontypes.Struct((c.name, jsontypes.parse(c.type)) for c in previous)
    for path in files:
        try:
            schema = jsontypes.infer_files([path], schema)
        except (ValueError, OSError) as exc:
            problems.append(Problem(path, f"not classified, invalid JSON: {exc}"))
    return tuple(
        Column(name, jsontypes.render(kind))
        for name, kind in schema.items()
        if name != partitions.PARTITION_KEY
    )


def _schema_changes(old: tuple[Column, ...], new: tuple[Column, ...]) -> list[str]:
    before = {c.name: c for c in old}
    after = {c.name: c for c in new}
    notes = [f"added column {n} ({after[n].glue_type})" for n in after if n not in before]
    notes += [f"column {n} no longer found in the data" for n in before if n not in after]
    notes += [
        f"column {n} changed {before[n].glue_type} -> {after[n].glue_type}"
        for n in after
        if n in before and before[n].glue_type != after[n].glue_type
    ]
    return notes


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def crawl(layout: LakeLayout) -> CrawlReport:
    """Register the tables and exactly the partitions present in the lake right now."""
    started = time.perf_counter()
    report = CrawlReport()
    with _updating(layout) as (con, existing):
        for table in JSON_TABLES:
            _crawl_json_table(con, layout, table, existing.get(table), report)
        _crawl_hudi_table(con, layout, existing.get(TABLE_NAME), report)
    report.seconds = time.perf_counter() - started
    return report


def _crawl_json_table(
    con: duckdb.DuckDBPyConnection,
    layout: LakeLayout,
    table: str,
    previous: TableEntry | None,
    report: CrawlReport,
) -> None:
    folder = layout.kind_dir(table)
    found, problems = partitions.scan(folder)
    report.problems.extend(problems)
    with_data = [p for p in found if any(p.path.glob("*.json"))]
    if not with_data:
        return
    # Like a crawler set to "crawl new folders only": classify what was not seen before.
    known = set(previous.partitions) if previous else set()
    fresh = [p for p in with_data if p.day.isoformat() not in known]
    columns = _infer_json_columns(
        previous.columns if previous else (),
        [f for p in fresh for f in sorted(p.path.glob("*.json"))],
        report.problems,
    )
    _register(
        con,
        report,
        previous,
        name=table,
        kind=KIND_JSON,
        location=table,
        columns=columns,
        partition_keys=(partitions.PARTITION_KEY,),
        partition_values=[p.day.isoformat() for p in with_data],
    )


def _location(layout: LakeLayout, path: Path) -> str:
    """Inside the dataset a location is stored relative, so the lake can be moved."""
    try:
        return path.resolve().relative_to(layout.dataset.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def _crawl_hudi_table(
    con: duckdb.DuckDBPyConnection,
    layout: LakeLayout,
    previous: TableEntry | None,
    report: CrawlReport,
    table_path: Path | None = None,
) -> None:
    if table_path is None:
        table_path = previous.path(layout) if previous is not None else layout.table
    entry = hudi_entry(table_path)
    if entry is None:
        return
    columns, partition_values = entry
    _register(
        con,
        report,
        previous,
        name=TABLE_NAME,
        kind=KIND_HUDI,
        location=_location(layout, table_path),
        columns=columns,
        partition_keys=(partitions.PARTITION_KEY,),
        partition_values=partition_values,
    )


def hudi_entry(table_path: Path) -> tuple[tuple[Column, ...], list[str]] | None:
    """Columns (meta fields first, as Athena shows them) and partitions of a Hudi table."""
    from zfish import fishtable

    if not fishtable.exists(table_path) or not fishtable.commits(table_path):
        return None
    schema = fishtable.schema_with_meta_fields(table_path)
    con = duckdb.connect()
    try:
        con.register("empty", schema.empty_table())
        described = con.execute("DESCRIBE SELECT * FROM empty").fetchall()
    finally:
        con.close()
    columns = tuple(Column(name, str(dtype)) for name, dtype, *_ in described)
    return columns, fishtable.partition_paths(table_path)


def register_hudi_table(layout: LakeLayout, table_path: Path) -> TableChange | None:
    """What Hudi's Glue sync does after a commit: (re)register the table and its partitions."""
    report = CrawlReport()
    with _updating(layout) as (con, existing):
        _crawl_hudi_table(con, layout, existing.get(TABLE_NAME), report, table_path)
    return report.tables.get(TABLE_NAME)


def _register(
    con: duckdb.DuckDBPyConnection,
    report: CrawlReport,
    previous: TableEntry | None,
    *,
    name: str,
    kind: str,
    location: str,
    columns: tuple[Column, ...],
    partition_keys: tuple[str, ...],
    partition_values: list[str],
) -> None:
    change = report.tables.setdefault(name, TableChange(name=name))
    now = _now()
    columns_json = json.dumps([{"name": c.name, "type": c.type} for c in columns])
    if previous is None:
        change.created = True
        con.execute(
            f"INSERT INTO {_META}.tables VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [DATABASE, name, kind, location, columns_json, json.dumps(partition_keys), now, now],
        )
    else:
        change.schema_changes = _schema_changes(previous.columns, columns)
        con.execute(
            f"UPDATE {_META}.tables SET kind = ?, location = ?, columns = ?, partition_keys = ?, "
            "updated_at = ? WHERE database = ? AND name = ?",
            [kind, location, columns_json, json.dumps(partition_keys), now, DATABASE, name],
        )
    known = set(previous.partitions) if previous else set()
    added = sorted(set(partition_values) - known)
    removed = sorted(known - set(partition_values))
    for value in added:
        con.execute(
            f"INSERT INTO {_META}.partitions VALUES (?, ?, ?, ?)",
            [DATABASE, name, value, now],
        )
    for value in removed:
        con.execute(
            f"DELETE FROM {_META}.partitions WHERE database = ? AND table_name = ? AND value = ?",
            [DATABASE, name, value],
        )
    change.partitions_added = added
    change.partitions_removed = removed
    change.partitions_total = len(partition_values)
