"""The crawler: registers the tables and exactly the partitions present in the lake, like Glue's.

Like the seed's Glue crawlers on ``observations/`` and ``outcomes/`` (and
Hudi's catalog sync for ``joined_fish_data``): it classifies new partitions
(JSON types inferred in Python, :mod:`zfish.catalog.jsontypes`), merges them
into the stored schema and writes everything in one catalog transaction.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from zfish.catalog import jsontypes
from zfish.catalog.glue import (
    JSON_TABLES,
    KIND_HUDI,
    KIND_JSON,
    META,
    Column,
    TableEntry,
    load_tables,
    now,
    updating,
)
from zfish.lake import partitions
from zfish.problems import Problem
from zfish.settings import DATABASE, TABLE_NAME, LakeLayout


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


def crawl(layout: LakeLayout) -> CrawlReport:
    """Register the tables and exactly the partitions present in the lake right now."""
    started = time.perf_counter()
    report = CrawlReport()
    with updating(layout) as (con, existing):
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
    *,
    name: str,
    kind: str,
    location: str,
    columns: tuple[Column, ...],
    partition_keys: tuple[str, ...],
    partition_values: list[str],
) -> None:
    change = report.tables.setdefault(name, TableChange(name=name))
    stamp = now()
    columns_json = json.dumps([{"name": c.name, "type": c.type} for c in columns])
    if previous is None:
        change.created = True
        con.execute(
            f"INSERT INTO {META}.tables VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                DATABASE,
                name,
                kind,
                location,
                columns_json,
                json.dumps(partition_keys),
                stamp,
                stamp,
            ],
        )
    else:
        change.schema_changes = _schema_changes(previous.columns, columns)
        con.execute(
            f"UPDATE {META}.tables SET kind = ?, location = ?, columns = ?, partition_keys = ?, "
            "updated_at = ? WHERE database = ? AND name = ?",
            [kind, location, columns_json, json.dumps(partition_keys), stamp, DATABASE, name],
        )
    known = set(previous.partitions) if previous else set()
    added = sorted(set(partition_values) - known)
    removed = sorted(known - set(partition_values))
    for value in added:
        con.execute(
            f"INSERT INTO {META}.partitions VALUES (?, ?, ?, ?)",
            [DATABASE, name, value, stamp],
        )
    for value in removed:
        con.execute(
            f"DELETE FROM {META}.partitions WHERE database = ? AND table_name = ? AND value = ?",
            [DATABASE, name, value],
        )
    change.partitions_added = added
    change.partitions_removed = removed
    change.partitions_total = len(partition_values)
