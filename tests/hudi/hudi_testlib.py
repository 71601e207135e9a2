"""Helpers of the zfish.hudi tests: Spark-written fixture tables and reads through hudi-rs."""

from __future__ import annotations

import itertools
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hudi import HudiQueryType, HudiReadOptions, HudiTableBuilder

from zfish.hudi import TableSpec, WriteOptions
from zfish.hudi.fsview import parse_base_file
from zfish.hudi.options import META_COLUMNS
from zfish.hudi.storage import Storage
from zfish.hudi.timeline import Timeline

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(
    os.environ.get(
        "ZFISH_HUDI_FIXTURES", str(REPO.parent / "shared" / "fixtures" / "hudi-sample-tables")
    )
)
V6_COW = (
    "cow_v6_complexkeygen_hivestyle",
    "cow_v6_nonpartitioned",
    "cow_v6_simplekeygen_nonhivestyle",
    "cow_v6_simplekeygen_nonhivestyle_overwritetable",
    "cow_v6_timebasedkeygen_nonhivestyle",
)


def shared_samples_present() -> bool:
    """Whether the hudi-rs sample tables (the second source of sample tables) are here."""
    return all((FIXTURES / f"{name}.zip").exists() for name in (*V6_COW, "cow_v8_nonpartitioned"))


def fixture_zip(name: str) -> Path:
    path = FIXTURES / f"{name}.zip"
    if not path.exists():
        pytest.skip(
            f"second source only: the hudi-rs sample tables are not at {FIXTURES} (set "
            "ZFISH_HUDI_FIXTURES to the folder holding cow_v6_*.zip); the same test runs on "
            "the JVM-written reference tables"
        )
    return path


def unzip_table(name: str, dest: Path) -> Path:
    """Unzip a fixture (ignoring __MACOSX) once and return the table root inside it."""
    target = dest / name
    if not target.exists():
        with zipfile.ZipFile(fixture_zip(name)) as zf:
            members = [m for m in zf.namelist() if not m.startswith("__MACOSX")]
            zf.extractall(target, members)
    roots = [p for p in target.iterdir() if p.is_dir()]
    assert len(roots) == 1, roots
    return roots[0]


# --- reading through hudi-rs ------------------------------------------------------------------


def hudi_read(base: Path | str, options: HudiReadOptions | None = None) -> pa.Table:
    table = HudiTableBuilder.from_base_uri(str(base)).build()
    batches = table.read(options) if options is not None else table.read()
    if not batches:
        return pa.table({})
    return pa.Table.from_batches(batches)


def snapshot(base: Path | str, as_of: str | None = None) -> pa.Table:
    opts = HudiReadOptions()
    if as_of is not None:
        opts = opts.with_as_of_timestamp(as_of)
    return hudi_read(base, opts)


def incremental(base: Path | str, start: str, end: str) -> pa.Table:
    opts = (
        HudiReadOptions()
        .with_query_type(HudiQueryType.Incremental)
        .with_start_timestamp(start)
        .with_end_timestamp(end)
    )
    return hudi_read(base, opts)


def completed_commits(base: Path | str) -> list[str]:
    table = HudiTableBuilder.from_base_uri(str(base)).build()
    return [i.timestamp for i in table.get_timeline().get_completed_commits()]


def data_rows(table: pa.Table, sort_by: str, keep_commit_time: bool = False) -> list[dict]:
    """Rows without meta columns (optionally keeping _hoodie_commit_time), sorted."""
    if table.num_rows == 0:
        return []
    drop = [c for c in META_COLUMNS if c in table.column_names]
    if keep_commit_time:
        drop = [c for c in drop if c != "_hoodie_commit_time"]
    return table.drop_columns(drop).sort_by(sort_by).to_pylist()


# --- on-disk state ----------------------------------------------------------------------------


def parquet_files(base: Path) -> list[Path]:
    return sorted(p for p in base.rglob("*.parquet") if ".hoodie" not in p.relative_to(base).parts)


def is_sorted_strictly(values: list[str]) -> bool:
    return all(a < b for a, b in itertools.pairwise(values))


def commit_json(base: Path, instant: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((base / ".hoodie" / f"{instant}.commit").read_text())
    return data


def assert_clean_state(base: Path) -> None:
    """No pending instant, no markers, no temp or lock files, no uncommitted data files."""
    storage = Storage(str(base))
    timeline = Timeline.load(storage)
    assert timeline.pending() == [], timeline.pending()
    temp = base / ".hoodie" / ".temp"
    assert not temp.exists() or list(temp.iterdir()) == [], list(temp.rglob("*"))
    leftovers = [
        p
        for p in base.rglob("*")
        if p.is_file()
        and (p.name.endswith(".tmp") or p.name.startswith(".hoodie_partition_metadata_"))
    ]
    assert leftovers == []
    assert not (base / ".hoodie" / "zfish.writer.lock").exists()
    committed = {i.timestamp for i in timeline.completed_writes()}
    for path in parquet_files(base):
        rel = path.relative_to(base)
        bf = parse_base_file(str(rel.parent) if str(rel.parent) != "." else "", path.name)
        assert bf is not None, path
        # older than the active timeline: its commit was archived (isBeforeTimelineStarts)
        archived = bool(committed) and bf.instant < min(committed)
        assert bf.instant in committed or archived, f"orphan data file {rel}"
    # Every partition directory holding data has its metafile, and none is empty.
    for path in parquet_files(base):
        assert (path.parent / ".hoodie_partition_metadata").exists(), path.parent


# --- small tables for behaviour tests ---------------------------------------------------------

FAST = WriteOptions(bloom_num_entries=500)


def fish_spec(**overrides: Any) -> TableSpec:
    """A generic spec: string key, one partition field, timestamp precombine."""
    values: dict[str, Any] = {
        "name": "events",
        "database": "testdb",
        "record_key_fields": ("id",),
        "partition_fields": ("day",),
        "precombine_field": "ts",
    }
    values.update(overrides)
    return TableSpec(**values)


def rows(
    ids: list[str], days: list[str] | str, ts: list[int] | int, v: list[int] | int
) -> pa.Table:
    """A batch: id, day, ts (timestamp[us, UTC] from an int of seconds), v (int64)."""
    n = len(ids)
    days = days if isinstance(days, list) else [days] * n
    ts = ts if isinstance(ts, list) else [ts] * n
    v = v if isinstance(v, list) else [v] * n
    return pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "day": pa.array(days, pa.string()),
            "ts": pa.array([t * 1_000_000 for t in ts], pa.timestamp("us", tz="UTC")),
            "v": pa.array(v, pa.int64()),
        }
    )


def id_values(table: pa.Table) -> dict[str, int]:
    """id -> v of a hudi-rs read (ids must be unique)."""
    out = dict(zip(table.column("id").to_pylist(), table.column("v").to_pylist(), strict=True))
    assert len(out) == table.num_rows, "duplicate keys"
    return out
