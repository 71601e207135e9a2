"""zfish.hudi.table: the commit protocol, write semantics and safety, read back with hudi-rs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hudi import HudiReadOptions, HudiTableBuilder
from hudi_testlib import (
    FAST,
    assert_clean_state,
    completed_commits,
    fish_spec,
    id_values,
    incremental,
    parquet_files,
    rows,
    snapshot,
)

from zfish.exceptions import (
    CommitError,
    HudiError,
    InputDataError,
    SchemaError,
    TableLockedError,
    UnsupportedTableError,
)
from zfish.hudi import (
    HudiTable,
    MergeMode,
    TableSpec,
    WriteOperation,
    WriteOptions,
    WriteStat,
    write_partitions,
)
from zfish.hudi.bloom import BloomFilter
from zfish.hudi.properties import loads as load_props

# --- create / open ------------------------------------------------------------------------------


def test_create_writes_the_properties_spark_checks(tmp_path: Path) -> None:
    base = tmp_path / "t"
    assert not HudiTable.exists(str(base))
    HudiTable.create(str(base), fish_spec(), schema=rows(["a"], "d1", 1, 1).schema)
    assert HudiTable.exists(str(base))
    raw = (base / ".hoodie" / "hoodie.properties").read_text("latin-1")
    props = load_props(raw)
    assert props["hoodie.table.type"] == "COPY_ON_WRITE"
    assert props["hoodie.table.version"] == "6"
    assert props["hoodie.timeline.layout.version"] == "1"
    assert props["hoodie.table.timeline.timezone"] == "UTC"
    assert props["hoodie.table.base.file.format"] == "PARQUET"
    assert props["hoodie.table.keygenerator.class"] == "org.apache.hudi.keygen.SimpleKeyGenerator"
    assert props["hoodie.table.partition.fields"] == "day"
    assert props["hoodie.table.precombine.field"] == "ts"
    assert props["hoodie.datasource.write.hive_style_partitioning"] == "false"
    assert props["hoodie.datasource.write.drop.partition.columns"] == "false"
    assert "hoodie.table.metadata.partitions" not in props
    assert props["hoodie.table.checksum"] == str(__import__("zlib").crc32(b"testdb.events"))
    assert raw.rstrip().splitlines()[-1].startswith("hoodie.table.checksum=")
    assert 'hoodie.table.create.schema={"type"\\:"record"' in raw
    # hudi-rs opens the empty table and returns nothing.
    assert snapshot(base).num_rows == 0


def test_create_refuses_an_existing_table(tmp_path: Path) -> None:
    HudiTable.create(str(tmp_path), fish_spec())
    with pytest.raises(HudiError, match="already exists"):
        HudiTable.create(str(tmp_path), fish_spec())


def test_open_or_create_reports_config_conflicts_like_spark(tmp_path: Path) -> None:
    HudiTable.open_or_create(str(tmp_path), fish_spec())
    same = HudiTable.open_or_create(str(tmp_path), fish_spec())
    assert same.spec == TableSpec.from_properties(same.properties)
    with pytest.raises(HudiError, match="Config conflict") as info:
        HudiTable.open_or_create(
            str(tmp_path), fish_spec(precombine_field="v", hive_style_partitioning=True)
        )
    assert "hoodie.table.precombine.field:\tv\tts" in str(info.value)
    assert "hive_style_partitioning" in str(info.value)


def test_open_missing_table_says_so(tmp_path: Path) -> None:
    with pytest.raises(HudiError, match="no Hudi table"):
        HudiTable.open(str(tmp_path / "nope"))


def test_open_refuses_metadata_table_folder(tmp_path: Path) -> None:
    HudiTable.create(str(tmp_path), fish_spec())
    (tmp_path / ".hoodie" / "metadata").mkdir()
    with pytest.raises(UnsupportedTableError, match=r"metadata table.*Fix:"):
        HudiTable.open(str(tmp_path))


# --- upsert semantics ---------------------------------------------------------------------------


def test_upsert_snapshot_time_travel_and_incremental(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    r1 = table.upsert(rows(["a", "b", "c"], ["d1", "d1", "d2"], 1, 1), options=FAST)
    r2 = table.upsert(rows(["b", "d"], ["d1", "d3"], 2, 2), options=FAST)
    r3 = table.upsert(rows(["c"], ["d2"], 3, 3), options=FAST)
    assert (r1.num_inserts, r2.num_inserts, r2.num_updates, r3.num_updates) == (3, 1, 1, 1)
    assert completed_commits(tmp_path) == [r1.instant, r2.instant, r3.instant]
    assert id_values(snapshot(tmp_path)) == {"a": 1, "b": 2, "c": 3, "d": 2}
    assert id_values(snapshot(tmp_path, r1.instant)) == {"a": 1, "b": 1, "c": 1}
    assert id_values(snapshot(tmp_path, r2.instant)) == {"a": 1, "b": 2, "c": 1, "d": 2}
    assert id_values(incremental(tmp_path, r1.instant, r2.instant)) == {"b": 2, "d": 2}
    assert id_values(incremental(tmp_path, r2.instant, r3.instant)) == {"c": 3}
    assert id_values(incremental(tmp_path, r1.instant, r3.instant)) == {"b": 2, "c": 3, "d": 2}
    assert table.completed_instants() == [(r.instant, "commit") for r in (r1, r2, r3)]
    assert_clean_state(tmp_path)


def test_rewritten_file_keeps_meta_of_copied_rows(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    r1 = table.upsert(rows(["a", "b", "c"], "d1", 1, 1), options=FAST)
    r2 = table.upsert(rows(["b", "e"], "d1", 2, 2), options=FAST)
    files = parquet_files(tmp_path)
    assert len(files) == 2  # the same file group, two slices
    new = next(f for f in files if r2.instant in f.name)
    old = next(f for f in files if r1.instant in f.name)
    assert new.name.split("_")[0] == old.name.split("_")[0]
    got = {r["_hoodie_record_key"]: r for r in pq.read_table(new).to_pylist()}
    before = {r["_hoodie_record_key"]: r for r in pq.read_table(old).to_pylist()}
    assert [r["_hoodie_record_key"] for r in pq.read_table(new).to_pylist()] == ["a", "b", "c", "e"]
    for key in ("a", "c"):  # copied through: commit time and seqno kept
        assert got[key]["_hoodie_commit_time"] == r1.instant
        assert got[key]["_hoodie_commit_seqno"] == before[key]["_hoodie_commit_seqno"]
    assert got["b"]["_hoodie_commit_time"] == r2.instant
    assert got["b"]["_hoodie_commit_seqno"] == f"{r2.instant}_0_1"
    assert got["e"]["_hoodie_commit_seqno"] == f"{r2.instant}_0_3"
    assert {r["_hoodie_file_name"] for r in got.values()} == {new.name}
    stat = table.commit_metadata(r2.instant)["partitionToWriteStats"]["d1"][0]
    assert stat["prevCommit"] == r1.instant
    assert (stat["numWrites"], stat["numUpdateWrites"], stat["numInserts"]) == (4, 1, 1)


def test_batch_duplicates_keep_the_largest_precombine_then_the_last(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    batch = rows(["a", "a", "a", "b", "b"], "d1", [5, 9, 7, 3, 3], [1, 2, 3, 4, 5])
    result = table.upsert(batch, options=FAST)
    assert result.num_inserts == 2
    assert id_values(snapshot(tmp_path)) == {"a": 2, "b": 5}


@pytest.mark.parametrize(
    ("mode", "expected"), [(MergeMode.COMMIT_TIME, 2), (MergeMode.EVENT_TIME, 1)]
)
def test_merge_modes(tmp_path: Path, mode: MergeMode, expected: int) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    opts = WriteOptions(bloom_num_entries=500, merge_mode=mode)
    first = table.upsert(rows(["a", "b"], "d1", [10, 10], [1, 1]), options=opts)
    table.upsert(rows(["a", "b"], "d1", [5, 20], [2, 2]), options=opts)
    got = snapshot(tmp_path)
    values = id_values(got)
    assert values["b"] == 2  # newer event time wins in both modes
    assert values["a"] == expected  # older event time wins only with commit-time ordering
    times = dict(
        zip(
            got.column("id").to_pylist(), got.column("_hoodie_commit_time").to_pylist(), strict=True
        )
    )
    if mode is MergeMode.EVENT_TIME:
        assert times["a"] == first.instant  # the stored row was kept as it was


def test_delete_by_key(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    table.upsert(rows(["a", "b", "c"], ["d1", "d1", "d2"], 1, 1), options=FAST)
    keys = pa.table({"id": ["a", "c", "zz"], "day": ["d1", "d2", "d1"]})
    result = table.delete(keys, options=FAST)
    assert result.num_deletes == 2
    assert result.operation == "DELETE"
    assert id_values(snapshot(tmp_path)) == {"b": 1}
    assert table.commit_metadata()["operationType"] == "DELETE"
    # A deleted key in the wrong partition is a different record (non-global index).
    table.delete(pa.table({"id": ["b"], "day": ["d2"]}), options=FAST)
    assert id_values(snapshot(tmp_path)) == {"b": 1}
    assert_clean_state(tmp_path)


def test_insert_skips_the_index_like_hudi(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    table.insert(rows(["a"], "d1", 1, 1), options=FAST)
    # Into a small file: the merge handle sees the key and replaces it.
    table.insert(rows(["a"], "d1", 2, 2), options=FAST)
    assert snapshot(tmp_path).num_rows == 1
    # Without small files the insert goes to a new file group: a duplicate, as in Hudi.
    table.insert(
        rows(["a"], "d1", 3, 3), options=WriteOptions(bloom_num_entries=500, small_file_limit=0)
    )
    assert sorted(snapshot(tmp_path).column("v").to_pylist()) == [2, 3]


def test_bulk_insert_writes_new_file_groups_only(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    table.bulk_insert(rows(["a", "b"], "d1", 1, 1), options=FAST)
    result = table.bulk_insert(rows(["c"], "d1", 1, 1), options=FAST)
    assert result.operation == "BULK_INSERT"
    assert len({f.name.split("_")[0] for f in parquet_files(tmp_path)}) == 2
    assert sorted(id_values(snapshot(tmp_path))) == ["a", "b", "c"]


def test_small_files_are_filled_before_new_file_groups(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    # 100 B per record, 4 000 B files: buckets of 40 records.
    opts = WriteOptions(
        bloom_num_entries=100, record_size_estimate=100, max_file_size=4_000, small_file_limit=3_900
    )
    table.upsert(rows([f"k{i:03d}" for i in range(100)], "d1", 1, 1), options=opts)
    groups = {f.name.split("_")[0]: f for f in parquet_files(tmp_path)}
    assert len(groups) == 3  # ceil(100 / 40) buckets of 34/33/33
    counts = sorted(pq.read_metadata(f).num_rows for f in groups.values())
    assert counts == [33, 33, 34]
    # Room per small file is (max size - file size) // record size.
    sizes = {fid: f.stat().st_size for fid, f in groups.items()}
    room = sum(max(0, (4_000 - s) // 100) for s in sizes.values() if s < 3_900)
    n_new = 5
    result = table.upsert(rows([f"n{i}" for i in range(n_new)], "d1", 2, 2), options=opts)
    latest = {s.file_id for s in table_stats(table, result.instant)}
    if room >= n_new:
        assert latest <= set(groups)  # packed into existing file groups
    else:
        assert latest - set(groups)  # no room: a new file group
    assert len(id_values(snapshot(tmp_path))) == 105


def table_stats(table: HudiTable, instant: str) -> list[WriteStat]:
    meta = table.commit_metadata(instant)
    return [WriteStat.from_hudi(s) for v in meta["partitionToWriteStats"].values() for s in v]


def test_nonpartitioned_and_complex_hive_style_tables(tmp_path: Path) -> None:
    flat = HudiTable.create(str(tmp_path / "flat"), fish_spec(partition_fields=()))
    flat.upsert(rows(["a", "b"], "d1", 1, 1), options=FAST)
    assert (
        (tmp_path / "flat" / ".hoodie_partition_metadata")
        .read_text()
        .endswith("partitionDepth=0\n")
    )
    got = snapshot(tmp_path / "flat")
    assert set(got.column("_hoodie_partition_path").to_pylist()) == {""}
    assert id_values(got) == {"a": 1, "b": 1}

    spec = fish_spec(
        record_key_fields=("id", "v"), partition_fields=("day", "v"), hive_style_partitioning=True
    )
    nested = HudiTable.create(str(tmp_path / "nested"), spec)
    nested.upsert(rows(["a", "b"], ["d1", None], 1, [7, 8]), options=FAST)  # type: ignore[list-item]
    got = snapshot(tmp_path / "nested")
    paths = dict(
        zip(
            got.column("id").to_pylist(),
            got.column("_hoodie_partition_path").to_pylist(),
            strict=True,
        )
    )
    keys = dict(
        zip(got.column("id").to_pylist(), got.column("_hoodie_record_key").to_pylist(), strict=True)
    )
    assert paths == {"a": "day=d1/v=7", "b": "day=__HIVE_DEFAULT_PARTITION__/v=8"}
    assert keys == {"a": "id:a,v:7", "b": "id:b,v:8"}
    meta = (tmp_path / "nested" / "day=d1" / "v=7" / ".hoodie_partition_metadata").read_text()
    assert "partitionDepth=2" in meta


def test_parquet_physical_types_and_footer(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    batch = rows(["b", "a"], "d1", 1, 1).set_column(
        2, "ts", pa.array([1_000_000_123, 2], pa.timestamp("ns", tz="UTC"))
    )
    table.upsert(batch)  # default options: Hudi's 60 000-entry DYNAMIC_V0 filter
    (path,) = parquet_files(tmp_path)
    pf = pq.ParquetFile(path)
    schema = pf.schema_arrow
    assert schema.names[:5] == [
        "_hoodie_commit_time",
        "_hoodie_commit_seqno",
        "_hoodie_record_key",
        "_hoodie_partition_path",
        "_hoodie_file_name",
    ]
    ts = pf.schema.column(schema.get_field_index("ts"))
    assert ts.physical_type == "INT64"
    logical = json.loads(ts.logical_type.to_json())
    assert (logical["Type"], logical["isAdjustedToUTC"], logical["timeUnit"]) == (
        "Timestamp",
        True,
        "microseconds",
    )
    footer = {k.decode(): v.decode() for k, v in pf.metadata.metadata.items()}
    assert set(footer) == {
        "org.apache.hudi.bloomfilter",
        "hoodie_bloom_filter_type_code",
        "hoodie_min_record_key",
        "hoodie_max_record_key",
        "parquet.avro.schema",
        "writer.model.name",
    }
    assert footer["writer.model.name"] == "avro"
    assert (footer["hoodie_min_record_key"], footer["hoodie_max_record_key"]) == ("a", "b")
    assert 420_000 < len(footer["org.apache.hudi.bloomfilter"]) < 440_000
    bf = BloomFilter.deserialize(footer["org.apache.hudi.bloomfilter"], "DYNAMIC_V0")
    assert bf.might_contain_all(["a", "b"]).all()
    avro_fields = [f["name"] for f in json.loads(footer["parquet.avro.schema"])["fields"]]
    assert avro_fields == schema.names
    assert pq.read_table(path).column("ts").to_pylist()[0].microsecond == 0  # ns truncated


def test_commit_json_carries_schema_operation_and_extra_metadata(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    result = table.upsert(
        rows(["a"], "d1", 1, 1), extra_metadata={"zfish.etl.end_date": "x"}, options=FAST
    )
    meta = json.loads((tmp_path / ".hoodie" / f"{result.instant}.commit").read_text())
    assert meta["operationType"] == "UPSERT"
    assert meta["compacted"] is False
    assert meta["extraMetadata"]["zfish.etl.end_date"] == "x"
    schema = json.loads(meta["extraMetadata"]["schema"])
    assert [f["name"] for f in schema["fields"]] == ["id", "day", "ts", "v"]
    assert (schema["name"], schema["namespace"]) == ("events_record", "hoodie.events")
    assert (tmp_path / ".hoodie" / f"{result.instant}.commit.requested").read_bytes() == b""
    assert table.commit_metadata() == meta


def test_empty_input_still_commits(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    table.upsert(rows(["a"], "d1", 1, 1), options=FAST)
    result = table.upsert(rows([], "d1", 1, 1), options=FAST)
    assert result.files_written == 0
    assert table.commit_metadata(result.instant)["partitionToWriteStats"] == {}
    assert id_values(snapshot(tmp_path)) == {"a": 1}


# --- schema -------------------------------------------------------------------------------------


def test_adding_a_column_fills_old_rows_with_null(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    table.upsert(rows(["a", "b"], "d1", 1, 1), options=FAST)
    table.upsert(rows(["c"], "d2", 1, 1), options=FAST)
    wider = rows(["b"], "d1", 2, 2).append_column("note", pa.array(["hi"]))
    table.upsert(wider, options=FAST)
    got = snapshot(tmp_path)
    notes = dict(zip(got.column("id").to_pylist(), got.column("note").to_pylist(), strict=True))
    assert notes == {"a": None, "b": "hi", "c": None}
    assert table.schema().names == ["id", "day", "ts", "v", "note"]  # type: ignore[union-attr]
    # The next batch without the column is refused: columns cannot be dropped.
    with pytest.raises(SchemaError, match="'note'"):
        table.upsert(rows(["a"], "d1", 3, 3), options=FAST)


@pytest.mark.parametrize(
    ("batch", "error", "match"),
    [
        (rows(["a"], "d1", 1, 1).drop_columns(["v"]), SchemaError, "'v'"),
        (rows(["a"], "d1", 1, 1).set_column(3, "v", pa.array(["x"])), SchemaError, "'v' is string"),
        (
            rows(["a"], "d1", 1, 1).append_column("_hoodie_commit_time", pa.array(["1"])),
            SchemaError,
            "reserved",
        ),
        (rows([None], "d1", 1, 1), InputDataError, "'id'"),  # type: ignore[list-item]
        (
            rows(["a"], "d1", 1, 1).set_column(2, "ts", pa.nulls(1, pa.timestamp("us", tz="UTC"))),
            InputDataError,
            "precombine field 'ts'",
        ),
    ],
)
def test_bad_input_fails_and_leaves_no_trace(
    tmp_path: Path, batch: pa.Table, error: type[Exception], match: str
) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    good = table.upsert(rows(["z"], "d1", 1, 1), options=FAST)
    with pytest.raises(error, match=match):
        table.upsert(batch, options=FAST)
    assert completed_commits(tmp_path) == [good.instant]
    assert_clean_state(tmp_path)


# --- transactions, failures, locking -----------------------------------------------------------


def test_exception_inside_the_block_rolls_back_everything(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    table.upsert(rows(["a"], "d1", 1, 1), options=FAST)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    batch = rows(["a", "b"], ["d1", "d9"], 2, 2)

    def failing_write() -> None:
        with table.begin(WriteOperation.UPSERT, schema=batch.schema, options=FAST) as txn:
            assert write_partitions(txn.context, batch)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing_write()
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert after == before  # new partition d9 and its metafile are gone too
    assert not (tmp_path / "d9").exists()
    assert id_values(snapshot(tmp_path)) == {"a": 1}
    # The lock was released: the next write works.
    table.upsert(rows(["c"], "d1", 1, 1), options=FAST)


def test_explicit_abort_and_writes_after_abort_are_refused(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    batch = rows(["a"], "d1", 1, 1)
    txn = table.begin(WriteOperation.UPSERT, schema=batch.schema, options=FAST)
    write_partitions(txn.context, batch)
    txn.abort()
    assert parquet_files(tmp_path) == []
    with pytest.raises(CommitError, match="no longer pending"):
        write_partitions(txn.context, batch)
    with pytest.raises(CommitError, match="not open"):
        txn.commit([])
    assert_clean_state(tmp_path)


def test_second_writer_fails_fast_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    batch = rows(["a"], "d1", 1, 1)
    with table.begin(WriteOperation.UPSERT, schema=batch.schema, options=FAST) as txn:
        other = HudiTable.open(str(tmp_path))
        with pytest.raises(TableLockedError, match=rf"pid {os.getpid()}.*Fix: wait"):
            other.upsert(batch, options=FAST)
        txn.commit(write_partitions(txn.context, batch))
    HudiTable.open(str(tmp_path)).upsert(rows(["b"], "d1", 1, 1), options=FAST)
    assert sorted(id_values(snapshot(tmp_path))) == ["a", "b"]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _write_lock(base: Path, host: str, pid: int, created: float) -> None:
    lock = {
        "token": "x",
        "host": host,
        "pid": pid,
        "process_start": None,
        "created": created,
        "purpose": "test",
    }
    (base / ".hoodie" / "zfish.writer.lock").write_text(json.dumps(lock))


def test_stale_locks_are_recovered_live_ones_are_not(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    _write_lock(tmp_path, socket.gethostname(), _dead_pid(), time.time())
    table.upsert(rows(["a"], "d1", 1, 1), options=FAST)  # dead pid on this host: recovered
    _write_lock(tmp_path, "elsewhere", 1, time.time() - 7 * 3600)
    table.upsert(rows(["b"], "d1", 1, 1), options=FAST)  # other host, expired: recovered
    _write_lock(tmp_path, "elsewhere", 1, time.time())
    with pytest.raises(TableLockedError, match="elsewhere"):
        table.upsert(rows(["c"], "d1", 1, 1), options=FAST)
    (tmp_path / ".hoodie" / "zfish.writer.lock").unlink()
    assert sorted(id_values(snapshot(tmp_path))) == ["a", "b"]


def test_files_of_failed_task_attempts_are_removed_at_commit(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    table.upsert(rows(["a"], "d1", 1, 1), options=FAST)
    batch = rows(["a", "b"], ["d1", "d2"], 2, 2)
    with table.begin(WriteOperation.UPSERT, schema=batch.schema, options=FAST) as txn:
        write_partitions(txn.context, batch, partition_id=3, stage_id=7, attempt_id=0)  # lost
        stats = write_partitions(txn.context, batch, partition_id=3, stage_id=7, attempt_id=1)
        assert len(parquet_files(tmp_path)) == 5
        txn.commit(stats)
    names = [p.name for p in parquet_files(tmp_path)]
    assert len(names) == 3
    assert sum("_3-7-1_" in n for n in names) == 2
    assert not any("_3-7-0_" in n for n in names)
    assert id_values(snapshot(tmp_path)) == {"a": 2, "b": 2}
    assert_clean_state(tmp_path)


def test_commit_refuses_stats_that_do_not_match_the_files(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    batch = rows(["a"], "d1", 1, 1)
    with table.begin(WriteOperation.UPSERT, schema=batch.schema, options=FAST) as txn:
        stats = write_partitions(txn.context, batch)
        stats[0].file_size_in_bytes += 1
        with pytest.raises(CommitError, match=r"has .* bytes, the task reported"):
            txn.commit(stats)
    assert parquet_files(tmp_path) == []
    assert_clean_state(tmp_path)


def test_pending_commit_is_rolled_back_and_foreign_pending_refused(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    table.upsert(rows(["a"], "d1", 1, 1), options=FAST)
    batch = rows(["a", "n"], ["d1", "new"], 2, 2)
    txn = table.begin(WriteOperation.UPSERT, schema=batch.schema, options=FAST)
    write_partitions(txn.context, batch)
    txn.lock.release()  # simulate a writer that died before committing
    result = table.upsert(rows(["b"], "d1", 3, 3), options=FAST)
    assert result.rolled_back == [txn.instant]
    assert id_values(snapshot(tmp_path)) == {"a": 1, "b": 3}
    assert not (tmp_path / "new").exists()
    assert_clean_state(tmp_path)

    # A pending compaction is a table service of a JVM writer: never touched.
    (tmp_path / ".hoodie" / "20990101000000000.compaction.requested").write_bytes(b"")
    with pytest.raises(UnsupportedTableError, match=r"pending compaction.*Fix:"):
        table.upsert(rows(["c"], "d1", 4, 4), options=FAST)
    assert id_values(snapshot(tmp_path)) == {"a": 1, "b": 3}


def test_rollback_pending_is_available_to_operators(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    table.upsert(rows(["a"], "d1", 1, 1), options=FAST)
    batch = rows(["b"], "d2", 2, 2)
    txn = table.begin(WriteOperation.UPSERT, schema=batch.schema, options=FAST)
    write_partitions(txn.context, batch)
    txn.lock.release()  # the writer died
    assert table.rollback_pending() == [txn.instant]
    assert table.rollback_pending() == []
    assert_clean_state(tmp_path)
    assert not (tmp_path / "d2").exists()


def test_multi_chunk_input_with_many_partitions(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    chunks = [
        rows([f"k{i}-{j}" for j in range(5)], [f"d{j}" for j in range(5)], i, i) for i in range(4)
    ]
    data = pa.concat_tables(chunks)
    assert data.column("day").num_chunks == 4
    result = table.upsert(data, options=FAST)
    assert (result.num_inserts, result.files_written) == (20, 5)
    assert len(id_values(snapshot(tmp_path))) == 20


def test_a_hudi_1_table_is_refused(v8_table: Path) -> None:
    with pytest.raises(UnsupportedTableError, match="version is 8"):
        HudiTable.open(str(v8_table))


def test_aborted_first_commit_of_a_nonpartitioned_table_leaves_only_hoodie(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec(partition_fields=()))
    batch = rows(["a"], "d1", 1, 1)
    with table.begin(WriteOperation.UPSERT, schema=batch.schema, options=FAST) as txn:
        write_partitions(txn.context, batch)
        assert (tmp_path / ".hoodie_partition_metadata").exists()
        txn.abort()
    assert [p.name for p in tmp_path.iterdir()] == [".hoodie"]
    assert_clean_state(tmp_path)


def test_deleting_every_row_of_a_file_group_leaves_an_empty_slice(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    table.upsert(rows(["a", "b"], ["d1", "d2"], 1, 1), options=FAST)
    result = table.delete(pa.table({"id": ["a"], "day": ["d1"]}), options=FAST)
    (stat,) = table.commit_metadata(result.instant)["partitionToWriteStats"]["d1"]
    assert (stat["numWrites"], stat["numDeletes"]) == (0, 1)
    empty = tmp_path / stat["path"]
    assert pq.read_metadata(empty).num_rows == 0
    assert "hoodie_min_record_key" not in {k.decode() for k in pq.read_metadata(empty).metadata}
    assert id_values(snapshot(tmp_path)) == {"b": 1}
    # The file group lives on: the next insert into d1 fills it again.
    again = table.upsert(rows(["c"], "d1", 2, 2), options=FAST)
    (stat,) = table.commit_metadata(again.instant)["partitionToWriteStats"]["d1"]
    assert stat["prevCommit"] == result.instant
    assert id_values(snapshot(tmp_path)) == {"b": 1, "c": 2}


def test_combine_before_insert_dedups_an_insert_batch(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    opts = WriteOptions(bloom_num_entries=500, combine_before_insert=True)
    table.insert(rows(["a", "a"], "d1", [2, 1], [1, 2]), options=opts)
    assert id_values(snapshot(tmp_path)) == {"a": 1}


def test_hudi_rs_file_slices_are_the_latest_slice_of_each_file_group(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    r1 = table.upsert(rows(["a", "b", "c"], ["d1", "d2", "d3"], 1, 1), options=FAST)
    r2 = table.upsert(rows(["a", "d"], ["d1", "d4"], 2, 2), options=FAST)
    reader = HudiTableBuilder.from_base_uri(str(tmp_path)).build()
    latest = {s.file_id: s for s in reader.get_file_slices()}
    stats = {s.file_id: s for r in (r1, r2) for s in table_stats(table, r.instant)}
    assert set(latest) == set(stats)
    for file_id, fs in latest.items():
        newest = max(
            (s for r in (r1, r2) for s in table_stats(table, r.instant) if s.file_id == file_id),
            key=lambda s: s.instant,
        )
        assert fs.base_file_relative_path() == newest.path
        assert fs.creation_instant_time == newest.instant
        assert fs.partition_path == newest.partition_path
    as_of_first = reader.get_file_slices(HudiReadOptions().with_as_of_timestamp(r1.instant))
    assert {s.base_file_relative_path() for s in as_of_first} == {
        s.path for s in table_stats(table, r1.instant)
    }


def test_a_zombie_task_cannot_write_after_the_commit(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    batch = rows(["a"], "d1", 1, 1)
    with table.begin(WriteOperation.UPSERT, schema=batch.schema, options=FAST) as txn:
        txn.commit(write_partitions(txn.context, batch, attempt_id=0))
    with pytest.raises(CommitError, match="no longer pending"):
        write_partitions(txn.context, batch, attempt_id=1)
    assert len(parquet_files(tmp_path)) == 1
