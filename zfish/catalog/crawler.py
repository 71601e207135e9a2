"""The crawler: registers the tables and exactly the partitions present in the lake, like Glue's.

Like the seed's Glue crawlers on ``observations/`` and ``outcomes/`` (and
Hudi's catalog sync for ``joined_fish_data``), with Glue's policies:

* ``SchemaChangePolicy.UpdateBehavior = UPDATE_IN_DATABASE``: a new field adds
  a column, a type seen in a later partition widens the column by the rules of
  :mod:`zfish.catalog.jsontypes` (``int -> bigint -> double``, scalars vs
  string -> string, structs merged); a field no catalogued partition holds
  any more is removed. An object or array where the table has something else
  (or the reverse) is a *conflict*: the partition is left out of the catalog
  and reported with the table, column, both types and the file, until the
  file is fixed or removed.
* ``SchemaChangePolicy.DeleteBehavior = DELETE_FROM_DATABASE``: a partition
  whose folder (or every JSON file in it) is gone is dropped from the catalog;
  a table with no partition left is deleted.
* ``RecrawlPolicy = CRAWL_EVERYTHING``: the table schema is recomputed from
  every partition on each crawl (Glue allows incremental crawls only with the
  LOG policies). To keep that cheap, each registered partition stores its own
  schema and a fingerprint of its files (names, sizes, modification times);
  only partitions whose fingerprint changed are read again.

Every real change of a table's definition is kept as a new table version
(:func:`zfish.catalog.glue.save_table`), in the same catalog transaction as the
change; partitions coming and going do not make versions (as in Glue).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from zfish.catalog import glue, jsontypes
from zfish.catalog.glue import (
    JSON_TABLES,
    KIND_HUDI,
    KIND_JSON,
    Column,
    PartitionInfo,
    TableEntry,
    load_tables,
    updating,
)
from zfish.exceptions import ValidationError
from zfish.lake import partitions
from zfish.problems import Problem, render
from zfish.settings import DATABASE, TABLE_NAME, LakeLayout

UPDATE_BEHAVIOR = "UPDATE_IN_DATABASE"
DELETE_BEHAVIOR = "DELETE_FROM_DATABASE"
RECRAWL_BEHAVIOR = "CRAWL_EVERYTHING"


@dataclass(frozen=True)
class Conflict:
    """A type no column type can hold together with the table's, and where it came from."""

    table: str
    column: str
    old: str  # Glue type names
    new: str
    partition: str
    file: Path | None

    def problem(self) -> Problem:
        where = self.file if self.file is not None else Path(f"day={self.partition}")
        return Problem(
            where,
            f"{self.table}.{self.column}: the table has {self.old}, this file has {self.new}; "
            f"partition day={self.partition} is not catalogued until the file is fixed or removed",
        )


@dataclass
class TableChange:
    name: str
    created: bool = False
    deleted: bool = False
    version: int | None = None  # the version this crawl created, if any
    partitions_added: list[str] = field(default_factory=list)
    partitions_removed: list[str] = field(default_factory=list)
    schema_changes: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    partitions_total: int = 0


@dataclass
class CrawlReport:
    tables: dict[str, TableChange] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    def rows(self) -> list[tuple[str, str]]:
        rows: list[tuple[str, str]] = []
        for name, change in self.tables.items():
            if change.deleted:
                rows.append((f"{DATABASE}.{name}", "deleted: no partition left in the lake"))
                continue
            parts = [
                "created" if change.created else "updated",
                f"{change.partitions_total} partitions",
                f"+{len(change.partitions_added)} added",
            ]
            if change.partitions_removed:
                parts.append(f"-{len(change.partitions_removed)} removed")
            if change.version is not None:
                parts.append(f"version {change.version}")
            rows.append((f"{DATABASE}.{name}", ", ".join(parts)))
            if change.partitions_added:
                rows.append(("  new partitions", _span(change.partitions_added)))
            if change.partitions_removed:
                rows.append(("  removed partitions", _span(change.partitions_removed)))
            for note in change.schema_changes:
                rows.append(("  schema", note))
            for c in change.conflicts:
                file = f" ({c.file.name})" if c.file is not None else ""
                rows.append(
                    (
                        "  conflict",
                        f"{c.column}: table {c.old}, day={c.partition}{file} {c.new}; "
                        "partition left out",
                    )
                )
        rows.append(("problems", str(len(self.problems))))
        rows.append(("seconds", f"{self.seconds:.2f}"))
        return rows


def _span(values: list[str]) -> str:
    if len(values) <= 3:
        return ", ".join(values)
    return f"{values[0]} .. {values[-1]} ({len(values)})"


@dataclass
class _Partition:
    """A partition folder as found in the lake, and its schema once known."""

    value: str
    path: Path
    files: list[Path]
    fingerprint: str
    schema: jsontypes.Struct | None = None
    file_schemas: list[tuple[Path, jsontypes.Struct]] | None = None  # when read this crawl
    conflicts: list[Conflict] = field(default_factory=list)
    unreadable: bool = False


def _json_files(folder: Path) -> tuple[list[Path], str]:
    """The partition's JSON files, sorted, and a fingerprint of their names, sizes and mtimes."""
    found = []
    with os.scandir(folder) as entries:
        for e in entries:
            if e.name.endswith(".json") and not e.name.startswith(".") and e.is_file():
                st = e.stat()
                found.append((e.name, st.st_size, st.st_mtime_ns))
    found.sort()
    digest = hashlib.sha1(usedforsecurity=False)
    for name, size, mtime in found:
        digest.update(f"{name}\0{size}\0{mtime}\n".encode())
    return [folder / name for name, _, _ in found], digest.hexdigest()


def _scan(layout: LakeLayout, table: str, problems: list[Problem]) -> list[_Partition]:
    """The table's partitions that hold JSON files, oldest first (a listing, no file opened)."""
    found, bad = partitions.scan(layout.kind_dir(table))
    problems.extend(bad)
    scanned = []
    for part in found:
        files, fingerprint = _json_files(part.path)
        if files:
            scanned.append(_Partition(part.day.isoformat(), part.path, files, fingerprint))
    return scanned


def _struct(columns: tuple[Column, ...]) -> jsontypes.Struct:
    return jsontypes.Struct((c.name, jsontypes.parse(c.type)) for c in columns)


def _read(table: str, part: _Partition, problems: list[Problem]) -> None:
    """Classify every file of the partition (clashes inside one file are its conflicts)."""
    schema = jsontypes.Struct()
    part.file_schemas = []
    for path in part.files:
        clashes: list[jsontypes.Clash] = []
        try:
            file_schema = jsontypes.infer_file(path, clashes)
        except (ValueError, OSError) as exc:
            problems.append(Problem(path, f"not classified, invalid JSON: {exc}"))
            part.unreadable = True
            continue
        file_schema.pop(partitions.PARTITION_KEY, None)  # the folder's day wins over a field
        part.conflicts += [_conflict(table, c, part, path) for c in clashes]
        part.file_schemas.append((path, file_schema))
        schema = jsontypes.unify(schema, file_schema)
    part.schema = schema


def _fold(
    table: str,
    schema: jsontypes.Struct,
    part: _Partition,
    origin: dict[str, str],
    problems: list[Problem],
) -> jsontypes.Struct:
    """The table schema with this partition's merged in; conflicts go to ``part.conflicts``.

    File by file against the table so far, so a conflict names the file that
    disagrees with the table (not whichever of two files came first).
    """
    assert part.schema is not None
    if part.file_schemas is None:  # cached: read the files only if something changes
        clashes: list[jsontypes.Clash] = []
        merged: jsontypes.Struct = jsontypes.unify(schema, part.schema, clashes)
        if not clashes:
            for change in jsontypes.changes(schema, merged):
                origin[change.path] = f" in day={part.value}"
            return merged
        _read(table, part, problems)
    merged = schema
    for path, file_schema in part.file_schemas or []:
        clashes = []
        after: jsontypes.Struct = jsontypes.unify(merged, file_schema, clashes)
        part.conflicts += [_conflict(table, c, part, path) for c in clashes]
        for change in jsontypes.changes(merged, after):
            origin[change.path] = f" in day={part.value} ({path.name})"
        merged = after
    return merged


def _conflict(table: str, clash: jsontypes.Clash, part: _Partition, path: Path | None) -> Conflict:
    return Conflict(
        table,
        clash.path,
        glue.type_name(clash.kept),
        glue.type_name(clash.refused),
        part.value,
        path,
    )


_NO_LONGER_FOUND = ": no catalogued partition holds it any more"


def _note(change: jsontypes.Change, origin: dict[str, str], removed_why: str = "") -> str:
    where = origin.get(change.path, "")
    what = "column" if "." not in change.path and "[" not in change.path else "field"
    if change.kind == jsontypes.ADDED:
        return f"added {what} {change.path} ({glue.type_name(change.new)}){where}"
    if change.kind == jsontypes.REMOVED:
        return f"removed {what} {change.path}{removed_why}"
    old, new = glue.type_name(change.old), glue.type_name(change.new)
    return f"{change.kind} {change.path} {old} -> {new}{where}"


def crawl(layout: LakeLayout, tables: tuple[str, ...] | None = None) -> CrawlReport:
    """Register the tables and exactly the partitions present in the lake right now.

    ``tables``: only these (a Glue crawler's targets, e.g. ``("observations",)``);
    by default every JSON table and the Hudi table. Raises ValidationError
    (exit 2), writing nothing, when the dataset holds nothing to crawl: most
    likely a mistyped ``--lake``, ``--bucket`` or ``--prefix``.
    """
    started = time.perf_counter()
    report = CrawlReport()
    chosen = tuple(t for t in JSON_TABLES if tables is None or t in tables)
    unknown = sorted(set(tables or ()) - set(JSON_TABLES) - {TABLE_NAME})
    if unknown:
        raise ValidationError(
            f"no such table to crawl: {', '.join(unknown)}; the crawler knows "
            f"{', '.join((*JSON_TABLES, TABLE_NAME))}"
        )
    with_hudi = tables is None or TABLE_NAME in tables
    scanned = {table: _scan(layout, table, report.problems) for table in chosen}
    if not any(scanned.values()) and not (with_hudi and _hudi_table_exists(layout)):
        raise ValidationError(_nothing_to_crawl(layout, report.problems))
    with updating(layout) as (con, existing):
        for table in chosen:
            _crawl_json_table(con, table, scanned[table], existing.get(table), report)
        if with_hudi:
            _crawl_hudi_table(con, layout, existing.get(TABLE_NAME), report)
    report.seconds = time.perf_counter() - started
    return report


def _hudi_table_exists(layout: LakeLayout) -> bool:
    from zfish import fishtable

    paths = {layout.table}
    entry = glue.load_tables(layout).get(TABLE_NAME)
    if entry is not None:
        paths.add(entry.path(layout))
    return any(fishtable.exists(p) for p in paths)


def _nothing_to_crawl(layout: LakeLayout, problems: list[Problem]) -> str:
    folders = " or ".join(str(layout.kind_dir(t)) for t in JSON_TABLES)
    text = (
        f"nothing to crawl: no day=YYYY-MM-DD partition holding JSON files under {folders}, "
        f"and no Hudi table at {layout.table}. Check --lake (the lake root, now "
        f"{layout.root.resolve()}), --bucket and --prefix, or upload the study first "
        "(zfish upload --until YYYY-MM-DD). Nothing was written."
    )
    if problems:
        text += "\nfound instead:\n" + render(problems[:5])
    return text


def _crawl_json_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    scanned: list[_Partition],
    previous: TableEntry | None,
    report: CrawlReport,
) -> None:
    if not scanned:
        if previous is not None:  # DELETE_FROM_DATABASE: the whole table is gone
            glue.delete_table(con, table)
            report.tables[table] = TableChange(
                name=table, deleted=True, partitions_removed=list(previous.partitions)
            )
        return
    cached = glue.load_partitions(con, table) if previous is not None else {}
    schema = jsontypes.Struct()
    origin: dict[str, str] = {}
    kept: list[_Partition] = []
    conflicts: list[Conflict] = []
    for part in scanned:
        info = cached.get(part.value)
        if info is not None and info.fingerprint == part.fingerprint and info.columns is not None:
            part.schema = _struct(info.columns)
        else:
            _read(table, part, report.problems)
        seen = dict(origin)
        merged = _fold(table, schema, part, origin, report.problems)
        if part.conflicts:
            origin = seen  # the partition is left out: so are the changes it brought
            conflicts += part.conflicts
            continue
        schema = merged
        kept.append(part)
    columns = tuple(Column(name, jsontypes.render(kind)) for name, kind in schema.items())
    stored = _struct(previous.columns) if previous is not None else jsontypes.Struct()
    notes = [_note(c, origin, _NO_LONGER_FOUND) for c in jsontypes.changes(stored, schema)]
    report.problems.extend(c.problem() for c in conflicts)
    infos = [
        PartitionInfo(
            p.value,
            tuple(Column(n, jsontypes.render(k)) for n, k in (p.schema or {}).items()),
            None if p.unreadable else p.fingerprint,  # re-read (and re-report) a bad file
        )
        for p in kept
    ]
    registered = _register(
        con,
        report,
        previous,
        TableEntry(DATABASE, table, KIND_JSON, table, columns, (partitions.PARTITION_KEY,)),
        notes,
        infos,
        refresh={i.value for i in infos if i.value in cached and cached[i.value] != i},
    )
    registered.conflicts = conflicts


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
    found = hudi_entry(table_path)
    if found is None:
        return
    columns, partition_values = found
    entry = TableEntry(
        DATABASE,
        TABLE_NAME,
        KIND_HUDI,
        _location(layout, table_path),
        columns,
        (partitions.PARTITION_KEY,),
    )
    notes = []
    if previous is not None:
        notes = [
            _note(c, {}) for c in jsontypes.changes(_struct(previous.columns), _struct(columns))
        ]
        if previous.location != entry.location:
            notes.append(f"location {previous.location} -> {entry.location}")
    _register(
        con, report, previous, entry, notes, [PartitionInfo(v) for v in partition_values], set()
    )


def hudi_entry(table_path: Path) -> tuple[tuple[Column, ...], list[str]] | None:
    """Columns (meta fields first, as Athena shows them) and partitions of a Hudi table."""
    from zfish import fishtable

    if not fishtable.has_commits(table_path):
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
    with updating(layout) as (con, existing):
        _crawl_hudi_table(con, layout, existing.get(TABLE_NAME), report, table_path)
    return report.tables.get(TABLE_NAME)


def hudi_table_registered(layout: LakeLayout, table_path: Path) -> bool:
    """True when the catalog already holds the Hudi table at ``table_path``."""
    entry = load_tables(layout).get(TABLE_NAME)
    return entry is not None and entry.path(layout).resolve() == table_path.resolve()


def _register(
    con: duckdb.DuckDBPyConnection,
    report: CrawlReport,
    previous: TableEntry | None,
    entry: TableEntry,
    notes: list[str],
    infos: list[PartitionInfo],
    refresh: set[str],
) -> TableChange:
    """Write the table (a new version only when its definition really changed) and partitions."""
    change = report.tables.setdefault(entry.name, TableChange(name=entry.name))
    if previous is None:
        change.created = True
        change.version = glue.save_table(
            con, entry, [f"created with {len(entry.columns)} columns"], None
        )
    elif _definition(previous) != _definition(entry):
        notes = notes or ["definition changed"]
        change.version = glue.save_table(con, entry, notes, previous)
    change.schema_changes = [] if previous is None else notes
    known = set(previous.partitions) if previous is not None else set()
    values = {i.value for i in infos}
    added = sorted(values - known)
    removed = sorted(known - values)
    glue.put_partitions(
        con, entry.name, [i for i in infos if i.value in set(added) | refresh], known
    )
    glue.drop_partitions(con, entry.name, removed)
    change.partitions_added = added
    change.partitions_removed = removed
    change.partitions_total = len(values)
    return change


def _definition(entry: TableEntry) -> tuple[object, ...]:
    return (entry.kind, entry.location, entry.columns, entry.partition_keys)
