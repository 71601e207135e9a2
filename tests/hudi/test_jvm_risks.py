"""Known risks of a native writer next to the JVM Hudi 0.15 writer, each checked against the JVM.

1. Lists: the JVM writes 2-level Parquet lists and cannot write a null list
   element, so a JVM merge of a file holding one would throw; zfish writes
   3-level lists and refuses null elements (null and empty lists are fine).
2. A file group whose every row was deleted keeps a 0-row base file: the JVM
   reads it, upserts into its partition and cleans it.
3. Instant times: a JVM commit right after a native one and the reverse sort in
   commit order and each is visible to both readers at its own instant.
4. Single-field ComplexKeyGenerator keys: OSS 0.15 writes ``v``, AWS Glue 5.0
   ``f:v``; zfish follows the table's keys, so a JVM upsert replaces the row.
"""

from __future__ import annotations

from pathlib import Path

import jvm_testlib as jvm
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hudi_testlib import id_values, parquet_files
from hudi_testlib import snapshot as rs_snapshot
from jvm_testlib import data_rows, jvm_write, rows

from zfish.exceptions import InputDataError
from zfish.hudi import HudiTable, TableSpec, WriteOptions
from zfish.hudi import avro as av
from zfish.hudi import options as o
from zfish.hudi.options import ComplexKeyEncoding
from zfish.hudi.storage import Storage
from zfish.hudi.timeline import Timeline

pytestmark = pytest.mark.spark

OPTIONS = WriteOptions(bloom_num_entries=500)

# --- 1. lists -----------------------------------------------------------------------------

ITEM = pa.struct([("a", pa.int32()), ("b", pa.string())])
LISTS = pa.schema(
    [
        ("id", pa.string()),
        ("day", pa.string()),
        ("v", pa.int64()),
        ("ints", pa.list_(pa.int32())),
        ("strs", pa.list_(pa.string())),
        ("items", pa.list_(ITEM)),
    ]
)
LIST_SPEC = TableSpec(
    name="lists_t",
    database="jvmdb",
    record_key_fields=("id",),
    partition_fields=("day",),
    precombine_field="v",
)


def list_rows(ids: list[str], v: int) -> pa.Table:
    shapes = [
        ([1, 2, 3], ["x", "y"], [{"a": 1, "b": None}, {"a": None, "b": "z"}]),  # null fields
        (None, [], None),  # null and empty lists
        ([], None, []),
        ([v], [f"s{v}"], [{"a": v, "b": f"b{v}"}]),
    ]
    data = [
        {"id": i, "day": "d1", "v": v, "ints": s[0], "strs": s[1], "items": s[2]}
        for i, s in zip(ids, (shapes[n % len(shapes)] for n in range(len(ids))), strict=True)
    ]
    return pa.Table.from_pylist(data, schema=LISTS)


def leaf_paths(path: Path) -> set[str]:
    schema = pq.ParquetFile(path).schema
    return {schema.column(i).path for i in range(len(schema))}


def test_lists_native_then_jvm_then_native(spark_hudi, tmp_path: Path) -> None:
    base = tmp_path / "t"
    table = HudiTable.create(str(base), LIST_SPEC)
    table.upsert(list_rows(["a", "b", "c", "d"], 1), options=OPTIONS)
    assert "ints.list.element" in leaf_paths(parquet_files(base)[0])
    # The JVM merges into the native (3-level) file group and rewrites it 2-level.
    jvm_write(spark_hudi, base, list_rows(["b", "e"], 2), LIST_SPEC)
    latest = max(parquet_files(base), key=lambda p: p.name.rsplit("_", 1)[1])
    assert "ints.array" in leaf_paths(latest)
    # The native writer merges the JVM's 2-level file group.
    table.upsert(list_rows(["c", "f"], 3), options=OPTIONS)
    oracle = {}
    for batch in (list_rows(["a", "b", "c", "d"], 1), list_rows(["b", "e"], 2)):
        oracle.update({r["id"]: r for r in batch.to_pylist()})
    oracle.update({r["id"]: r for r in list_rows(["c", "f"], 3).to_pylist()})
    expected = data_rows(pa.Table.from_pylist(list(oracle.values()), schema=LISTS))
    assert len(expected) == 6
    assert data_rows(rs_snapshot(base)) == expected
    assert data_rows(jvm.snapshot(spark_hudi, base)) == expected


def test_null_list_elements_break_jvm_merges_so_they_are_refused(
    spark_hudi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nulls = list_rows(["a", "b"], 1).set_column(
        3, "ints", pa.array([[1, None], [2]], pa.list_(pa.int32()))
    )
    # The risk, with the check switched off (zfish before it): a native file holding a
    # null list element, then a JVM upsert into its file group.
    with monkeypatch.context() as patch:
        patch.setattr(av, "check_no_null_list_elements", lambda *args: None)
        HudiTable.create(str(tmp_path / "old"), LIST_SPEC).upsert(nulls, options=OPTIONS)
    with pytest.raises(Exception, match="Array contains a null element"):
        jvm_write(spark_hudi, tmp_path / "old", list_rows(["c"], 2), LIST_SPEC)
    assert len(jvm.completed_writes(tmp_path / "old")) == 1
    # The JVM refuses such rows on its own writes too (the task error is only logged).
    with pytest.raises(Exception, match="Failed to write to Hudi"):
        jvm_write(spark_hudi, tmp_path / "jvm", nulls, LIST_SPEC)
    assert jvm.completed_writes(tmp_path / "jvm") == []
    # So the native writer refuses them up front, naming the column and the fix.
    table = HudiTable.create(str(tmp_path / "native"), LIST_SPEC)
    with pytest.raises(InputDataError, match=r"column 'ints\[\]'.*1 null list element.*Fix:"):
        table.upsert(nulls, options=OPTIONS)
    items = list_rows(["a"], 1).set_column(5, "items", pa.array([[None]], pa.list_(ITEM)))
    with pytest.raises(InputDataError, match=r"column 'items\[\]'"):
        table.upsert(items, options=OPTIONS)
    assert parquet_files(tmp_path / "native") == []


# --- 2. a 0-row file group, 3. instant order ----------------------------------------------

EVENTS = TableSpec(
    name="events_t",
    database="jvmdb",
    record_key_fields=("id",),
    partition_fields=("day",),
    precombine_field="v",
)


def events(ids: list[str], days: list[str], v: int) -> pa.Table:
    return pa.table(
        {"id": ids, "day": days, "v": pa.array([v] * len(ids), pa.int64())},
    )


def test_empty_file_group_and_instant_order_across_writers(spark_hudi, tmp_path: Path) -> None:
    base = tmp_path / "t"
    table = HudiTable.create(str(base), EVENTS)
    cleaning = WriteOptions(bloom_num_entries=500, cleaner_commits_retained=1)
    c1 = table.upsert(events(["a", "b", "c"], ["d1", "d1", "d2"], 1), options=cleaning).instant
    c2 = table.delete(events(["a", "b"], ["d1", "d1"], 0), options=cleaning).instant
    d1 = lambda: sorted(p.name for p in parquet_files(base / "d1"))  # noqa: E731
    first, empty = d1()
    assert (first.endswith(f"_{c1}.parquet"), empty.endswith(f"_{c2}.parquet")) == (True, True)
    assert pq.read_metadata(base / "d1" / empty).num_rows == 0
    assert id_values(jvm.snapshot(spark_hudi, base)) == {"c": 1}
    # Right after the native commit, a JVM upsert into the emptied partition (it fills the
    # 0-row file group, a small file) and the JVM's clean of its oldest slice.
    c3 = jvm_write(spark_hudi, base, events(["d"], ["d1"], 3), EVENTS, options=cleaning)
    (stat,) = jvm.commit_stats(base, c3)["d1"]
    assert (stat["fileId"], stat["prevCommit"]) == (empty.split("_")[0], c2)
    assert [n.rsplit("_", 1)[1] for n in d1()] == [f"{c2}.parquet", f"{c3}.parquet"]
    # And right after the JVM commit, a native one; zfish's cleaner plans from the JVM's
    # clean (incremental: partitions written since its earliest commit to retain) and
    # drops the superseded 0-row slice.
    c4 = table.upsert(events(["e"], ["d2"], 4), options=cleaning).instant
    assert [n.rsplit("_", 1)[1] for n in d1()] == [f"{c3}.parquet"]
    timeline = Timeline.load(Storage(str(base)))
    assert [i.timestamp for i in timeline.completed_writes()] == [c1, c2, c3, c4]
    assert c1 < c2 < c3 < c4
    cleans = [i.timestamp for i in timeline.completed_cleans()]
    assert [(base / ".hoodie" / f".{c}.clean.crc").exists() for c in cleans] == [True, False]
    assert id_values(rs_snapshot(base, c4)) == {"c": 1, "d": 3, "e": 4}
    assert id_values(jvm.snapshot(spark_hudi, base, c4)) == {"c": 1, "d": 3, "e": 4}
    assert id_values(rs_snapshot(base, c3)) == {"c": 1, "d": 3}
    # The JVM reads zfish's Avro clean instant: c3 is before its earliest commit to retain.
    with pytest.raises(Exception, match="Cleaner cleaned up the timestamp of interest"):
        jvm.snapshot(spark_hudi, base, c3)
    assert rows(jvm.snapshot(spark_hudi, base)) == rows(rs_snapshot(base))


# --- 4. single-field ComplexKeyGenerator keys ----------------------------------------------

COMPLEX_ONE = TableSpec(
    name="onekey_t",
    database="jvmdb",
    record_key_fields=("id",),
    partition_fields=("day",),
    precombine_field="v",
    key_generator=o.COMPLEX_KEYGEN,
)


def keys(base: Path) -> list[str]:
    return sorted(rs_snapshot(base).column("_hoodie_record_key").to_pylist())


def test_oss_jvm_table_keeps_plain_keys_under_native_upserts(spark_hudi, tmp_path) -> None:
    base = tmp_path / "t"
    jvm_write(spark_hudi, base, events(["a", "b"], ["d1", "d2"], 1), COMPLEX_ONE)
    assert keys(base) == ["a", "b"]  # OSS 0.15: the plain value, HUDI-7001
    HudiTable.open(str(base)).upsert(events(["a", "c"], ["d1", "d1"], 2), options=OPTIONS)
    assert keys(base) == ["a", "b", "c"]
    assert id_values(rs_snapshot(base)) == {"a": 2, "b": 1, "c": 2}


def test_native_table_with_oss_encoding_takes_jvm_upserts(spark_hudi, tmp_path) -> None:
    base = tmp_path / "t"
    oss = WriteOptions(bloom_num_entries=500, complex_key_encoding=ComplexKeyEncoding.VALUE_ONLY)
    HudiTable.create(str(base), COMPLEX_ONE).upsert(
        events(["a", "b"], ["d1", "d2"], 1), options=oss
    )
    assert keys(base) == ["a", "b"]
    jvm_write(spark_hudi, base, events(["a"], ["d1"], 2), COMPLEX_ONE)
    assert id_values(jvm.snapshot(spark_hudi, base)) == {"a": 2, "b": 1}
    assert id_values(rs_snapshot(base)) == {"a": 2, "b": 1}


def test_glue_encoded_table_shows_why_the_encoding_matters(spark_hudi, tmp_path) -> None:
    base = tmp_path / "t"
    table = HudiTable.create(str(base), COMPLEX_ONE)
    table.upsert(events(["a", "b"], ["d1", "d2"], 1), options=OPTIONS)  # default: Glue's
    assert keys(base) == ["id:a", "id:b"]
    # An OSS 0.15 writer does not find "id:a" under "a": the row is duplicated.
    jvm_write(spark_hudi, base, events(["a"], ["d1"], 2), COMPLEX_ONE)
    assert keys(base) == ["a", "id:a", "id:b"]
    # The native writer now follows the table's newest keys (the JVM's), replacing "a".
    table.upsert(events(["a"], ["d1"], 3), options=OPTIONS)
    assert keys(base) == ["a", "id:a", "id:b"]
    by_key = {r["_hoodie_record_key"]: r["v"] for r in rs_snapshot(base).to_pylist()}
    assert by_key == {"a": 3, "id:a": 1, "id:b": 1}
