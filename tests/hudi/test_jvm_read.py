"""The JVM Hudi 0.15 datasource reads every kind of table the native writer makes, as hudi-rs does.

Three natively written tables (simple key, non-hive partitions; complex key,
two hive-style partition fields; non-partitioned), each with several commits
of every column type: inserts, updates, deletes, and on the first one a file
group whose every row was deleted (a 0-row file) and cleaning. For each, the
Spark datasource's snapshot, time travel at every commit, incremental query,
Spark SQL ``TIMESTAMP AS OF`` and ``hudi_table_changes`` return exactly the
rows hudi-rs returns: same rows, same values, meta columns included.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jvm_testlib as jvm
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hudi_testlib import incremental as rs_incremental
from hudi_testlib import parquet_files
from hudi_testlib import snapshot as rs_snapshot
from jvm_testlib import incremental as jvm_incremental
from jvm_testlib import rich_rows, rows
from jvm_testlib import snapshot as jvm_snapshot

from zfish.hudi import HudiTable, TableSpec, WriteOptions
from zfish.hudi.storage import Storage
from zfish.hudi.timeline import Timeline

pytestmark = pytest.mark.spark

OPTIONS = WriteOptions(bloom_num_entries=500)
CLEANING = WriteOptions(bloom_num_entries=500, cleaner_commits_retained=3)


@dataclass
class Built:
    base: Path
    spec: TableSpec
    commits: list[str]
    served: list[str]  # commits whose slices cleaning kept: time travel is defined there


def _keys(spec: TableSpec, data: pa.Table) -> pa.Table:
    return data.select(list(dict.fromkeys([*spec.record_key_fields, *spec.partition_fields])))


def _build_simple(base: Path) -> Built:
    spec = TableSpec(
        name="simple_t",
        database="jvmdb",
        record_key_fields=("key",),
        partition_fields=("region",),
        precombine_field="version",
    )
    table = HudiTable.create(str(base), spec)
    commits = [table.upsert(rich_rows(range(12), 1), options=CLEANING).instant]
    commits.append(table.upsert(rich_rows([*range(5), 12, 13, 14], 2), options=CLEANING).instant)
    commits.append(table.delete(_keys(spec, rich_rows([5, 6], 1)), options=CLEANING).instant)
    # Every row of region "east" (ids 2, 5, 8, 11, 14): its file group keeps a 0-row file.
    east = [i for i in range(15) if i % 3 == 2 and i != 5]
    commits.append(table.delete(_keys(spec, rich_rows(east, 1)), options=CLEANING).instant)
    commits.append(table.upsert(rich_rows([0, 1, 3], 3), options=CLEANING).instant)
    commits.append(table.upsert(rich_rows([0, 16], 4), options=CLEANING).instant)
    timeline = Timeline.load(Storage(str(base)))
    assert timeline.completed_cleans(), "the cleaner ran"
    empty = [p for p in parquet_files(base) if pq.read_metadata(p).num_rows == 0]
    assert empty, "a file group whose rows were all deleted keeps a 0-row base file"
    return Built(base, spec, commits, commits[-CLEANING.cleaner_commits_retained :])


def _build_complex(base: Path) -> Built:
    spec = TableSpec(
        name="complex_t",
        database="jvmdb",
        record_key_fields=("id", "name"),
        partition_fields=("band", "region"),
        precombine_field="version",
        hive_style_partitioning=True,
    )
    table = HudiTable.create(str(base), spec)
    commits = [table.upsert(rich_rows(range(10), 1), options=OPTIONS).instant]
    commits.append(table.upsert(rich_rows([1, 2, 10, 11], 2), options=OPTIONS).instant)
    commits.append(table.delete(_keys(spec, rich_rows([3, 10], 1)), options=OPTIONS).instant)
    return Built(base, spec, commits, commits)


def _build_nonpartitioned(base: Path) -> Built:
    spec = TableSpec(
        name="flat_t", database="jvmdb", record_key_fields=("id",), precombine_field="version"
    )
    table = HudiTable.create(str(base), spec)
    commits = [table.upsert(rich_rows(range(6), 1), options=OPTIONS).instant]
    commits.append(table.upsert(rich_rows([0, 6], 2), options=OPTIONS).instant)
    commits.append(table.delete(_keys(spec, rich_rows([1], 1)), options=OPTIONS).instant)
    return Built(base, spec, commits, commits)


BUILDERS = {"simple": _build_simple, "complex": _build_complex, "flat": _build_nonpartitioned}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    root = tmp_path_factory.mktemp("jvm-read")
    return {kind: make(root / kind) for kind, make in BUILDERS.items()}


@pytest.mark.parametrize("kind", BUILDERS)
def test_snapshot_and_time_travel_at_each_commit(spark_hudi, built, kind: str) -> None:
    t = built[kind]
    theirs = jvm_snapshot(spark_hudi, t.base)
    assert rows(theirs) == rows(rs_snapshot(t.base))
    assert theirs.num_rows > 0
    assert pc.count_distinct(theirs["_hoodie_record_key"]).as_py() == theirs.num_rows
    for instant in t.served:
        assert rows(jvm_snapshot(spark_hudi, t.base, instant)) == rows(
            rs_snapshot(t.base, instant)
        ), instant


@pytest.mark.parametrize("kind", BUILDERS)
def test_incremental_queries(spark_hudi, built, kind: str) -> None:
    t = built[kind]
    begin, end = t.served[0], t.served[-1]
    theirs = jvm_incremental(spark_hudi, t.base, begin, end)
    assert rows(theirs) == rows(rs_incremental(t.base, begin, end))
    assert theirs.num_rows > 0
    assert set(theirs["_hoodie_commit_time"].to_pylist()) <= set(t.served[1:])
    last = rows(jvm_incremental(spark_hudi, t.base, t.commits[-2], t.commits[-1]))
    assert last == rows(rs_incremental(t.base, t.commits[-2], t.commits[-1]))


@pytest.mark.parametrize("kind", BUILDERS)
def test_spark_sql_timestamp_as_of_and_table_changes(
    spark_hudi, built, kind: str, tmp_path: Path
) -> None:
    t = built[kind]
    middle = t.served[len(t.served) // 2]
    theirs = jvm.sql_as_of(spark_hudi, t.base, t.spec.database, middle, tmp_path)
    assert rows(theirs) == rows(rs_snapshot(t.base, middle))
    changes = jvm.table_changes(spark_hudi, t.base, t.served[0], t.served[-1])
    assert rows(changes) == rows(rs_incremental(t.base, t.served[0], t.served[-1]))
