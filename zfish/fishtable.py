"""The study's Hudi table ``joined_fish_data``: its definition, its timeline, and reads.

Writes come from the ETL job, through :mod:`zfish.hudi` or the JVM Hudi
datasource (``--writer spark-hudi``); every read here goes through the
``hudi`` package (Apache hudi-rs), the independent reader, whichever wrote.
Simulated evenings map to commits through the ETL's end date, which each
commit carries in its extra metadata, so ``--as-of 2025-05-10`` means "the
table as the 2025-05-10 evening's run left it".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from zfish.exceptions import ValidationError
from zfish.hudi import HudiTable, TableSpec, archive
from zfish.settings import DATABASE, TABLE_NAME

TABLE_SPEC = TableSpec(
    name=TABLE_NAME,
    database=DATABASE,
    record_key_fields=("image_id",),
    partition_fields=("day",),
    precombine_field="timestamp",
    hive_style_partitioning=False,
)

# Extra metadata the ETL job puts into every commit it makes.
END_DATE_KEY = "zfish.etl.end_date"
WINDOW_START_KEY = "zfish.etl.window_start"


@dataclass(frozen=True)
class Commit:
    instant: str
    operation: str
    end_date: datetime | None
    window_start: date | None
    num_writes: int
    num_inserts: int
    num_updates: int
    num_deletes: int
    partitions: int
    archived: bool = False  # moved to .hoodie/archived: listed, but not readable as of

    @property
    def simulated_day(self) -> date | None:
        return self.end_date.date() if self.end_date else None


def exists(table: Path) -> bool:
    return HudiTable.exists(str(table))


def _reader(table: Path) -> Any:
    from hudi import HudiTableBuilder

    return HudiTableBuilder.from_base_uri(str(table.resolve())).build()


def _parse_commit(instant: str, meta: dict[str, Any], archived: bool = False) -> Commit:
    stats = [s for group in meta.get("partitionToWriteStats", {}).values() for s in group]
    extra = meta.get("extraMetadata") or {}
    end = extra.get(END_DATE_KEY)
    start = extra.get(WINDOW_START_KEY)
    return Commit(
        instant=instant,
        operation=str(meta.get("operationType", "")),
        end_date=datetime.fromisoformat(end) if end else None,
        window_start=date.fromisoformat(start) if start else None,
        num_writes=sum(int(s.get("numWrites", 0)) for s in stats),
        num_inserts=sum(int(s.get("numInserts", 0)) for s in stats),
        num_updates=sum(int(s.get("numUpdateWrites", 0)) for s in stats),
        num_deletes=sum(int(s.get("numDeletes", 0)) for s in stats),
        partitions=len(meta.get("partitionToWriteStats", {})),
        archived=archived,
    )


def has_commits(table: Path) -> bool:
    """True when the table has a completed commit (a timeline listing, no metadata parsed)."""
    return exists(table) and bool(_reader(table).get_timeline().get_completed_commits())


def commits(table: Path, include_archived: bool = False) -> list[Commit]:
    """Completed commits, oldest first, read from the timeline through hudi-rs.

    hudi-rs reads only the active timeline; ``include_archived`` adds the commits
    archival moved to ``.hoodie/archived`` (read with :mod:`zfish.hudi.archive`).
    Their files are mostly cleaned, so time travel reaches only active commits.
    """
    if not exists(table):
        return []
    timeline = _reader(table).get_timeline()
    active = [
        _parse_commit(instant.timestamp, json.loads(timeline.get_instant_metadata_in_json(instant)))
        for instant in timeline.get_completed_commits()
    ]
    if not include_archived:
        return active
    hudi_table = HudiTable.open(str(table))
    first = active[0].instant if active else None
    archived = [
        _parse_commit(r.timestamp, r.commit_metadata() or {}, archived=True)
        for r in archive.archived_writes(hudi_table.storage, hudi_table.properties)
        if first is None or r.timestamp < first
    ]
    return archived + active


def resolve_as_of(table: Path, as_of: str) -> str:
    """A Hudi instant for ``as_of``: an instant itself, or the last commit of a simulated day.

    A day resolves to the latest commit whose ETL end date falls on or before
    that day; a 14/17-digit instant is used as given (the commit at or before it).
    """
    text = as_of.strip()
    history = commits(table)
    if not history:
        raise ValidationError(f"{table} has no commits yet: run `zfish simulate` first")
    if text.isdigit() and len(text) in (14, 17):
        if text < history[0].instant:
            raise ValidationError(
                f"--as-of {text} is before the first commit {history[0].instant} of the active "
                "timeline (older commits are archived and their files cleaned); use a later "
                "instant from `zfish timeline`"
            )
        return text
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"--as-of {as_of!r} is neither a Hudi instant (yyyyMMddHHmmssSSS) nor a day "
            "(YYYY-MM-DD)"
        ) from None
    candidates = [c for c in history if c.simulated_day is not None and c.simulated_day <= day]
    if not candidates:
        known = sorted({str(c.simulated_day) for c in history if c.simulated_day})
        archived = [
            c
            for c in commits(table, include_archived=True)
            if c.archived and c.simulated_day is not None and c.simulated_day <= day
        ]
        if archived:
            raise ValidationError(
                f"the commits of {DATABASE}.{TABLE_NAME} up to the evening of {day} are "
                f"archived and their files cleaned; time travel reaches back to "
                f"{history[0].simulated_day or history[0].instant}"
            )
        raise ValidationError(
            f"no ETL run of {DATABASE}.{TABLE_NAME} had finished by the evening of {day}; "
            f"simulated evenings with commits: {', '.join(known) or 'none'}"
        )
    return candidates[-1].instant


def read(table: Path, *, as_of: str | None = None, columns: list[str] | None = None) -> pa.Table:
    """The table's rows (with Hudi meta columns), latest or as of an instant/day."""
    from hudi import HudiReadOptions

    reader = _reader(table)
    options = HudiReadOptions()
    if as_of is not None:
        options = options.with_as_of_timestamp(resolve_as_of(table, as_of))
    if columns is not None:
        options = options.with_projection(columns)
    batches = reader.read(options)
    schema = reader.get_schema_with_meta_fields() if columns is None else None
    if not batches:
        empty = schema if schema is not None else pa.schema([])
        return empty.empty_table()
    return pa.Table.from_batches(batches)


def read_incremental(table: Path, start: str, end: str | None = None) -> pa.Table:
    """Rows changed by commits in ``(start, end]``."""
    from hudi import HudiQueryType, HudiReadOptions

    options = HudiReadOptions().with_query_type(HudiQueryType.Incremental)
    options = options.with_start_timestamp(start)
    if end is not None:
        options = options.with_end_timestamp(end)
    batches = _reader(table).read(options)
    return pa.Table.from_batches(batches) if batches else pa.table({})


def schema_with_meta_fields(table: Path) -> pa.Schema:
    return _reader(table).get_schema_with_meta_fields()


def latest_base_files(table: Path) -> list[str]:
    """Base files of the latest snapshot, relative to the table (hudi-rs file slices)."""
    return sorted(s.base_file_relative_path() for s in _reader(table).get_file_slices())


def partition_paths(table: Path) -> list[str]:
    """Partitions holding data in the latest snapshot."""
    return sorted({s.partition_path for s in _reader(table).get_file_slices()})


def count_rows(table: Path) -> int:
    """Rows in the latest snapshot (0 for a table without commits).

    Copy-on-Write: the snapshot is the latest base file of each file group, so
    the count is the sum of their Parquet footers' row counts (no data read).
    """
    import pyarrow.parquet as pq

    if not has_commits(table):
        return 0
    root = table.resolve()
    return sum(
        pq.ParquetFile(root / s.base_file_relative_path()).metadata.num_rows
        for s in _reader(table).get_file_slices()
    )
