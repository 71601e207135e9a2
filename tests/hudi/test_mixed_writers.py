"""Mixed writers on one table: native and JVM Hudi 0.15 evenings in turn, against an oracle.

Two seasons of evenings on one table each, native first and JVM first. Every
evening upserts updates, new rows and a stale duplicate (a lower precombine
value that must lose), every other evening also deletes, and one late JVM
evening is an ``insert_overwrite`` (a replacecommit the native writer must
honour: replaced file groups stay hidden, then get cleaned); both writers clean
(KEEP_LATEST_COMMITS, 2 retained), each reading the other's Avro clean
instants to plan incrementally. After every commit the table equals a
plain-Python oracle (record key -> row, OverwriteWithLatest semantics) read by
hudi-rs and by the JVM, with no duplicate keys; at the end time travel to the
commits cleaning serves still shows the oracle of that moment.

The JVM checks its options against ``hoodie.properties``
(``HoodieWriterUtils.validateTableConfig``) exactly where
``TableSpec.conflicts`` does: the same options pass on a native table, each
mismatch fails both.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import jvm_testlib as jvm
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hudi_testlib import snapshot as rs_snapshot
from jvm_testlib import RICH_SCHEMA, data_rows, jvm_write, rich_rows

from zfish.hudi import HudiTable, TableSpec, WriteOptions
from zfish.hudi import options as o
from zfish.hudi.storage import Storage
from zfish.hudi.timeline import REPLACE_COMMIT, Timeline

pytestmark = [pytest.mark.spark, pytest.mark.slow]

SPEC = TableSpec(
    name="mixed_t",
    database="jvmdb",
    record_key_fields=("key",),
    partition_fields=("region",),
    precombine_field="version",
)
OPTIONS = WriteOptions(bloom_num_entries=500, cleaner_commits_retained=2)
EVENINGS = 5


class Oracle:
    """The table as plain Python: record key -> row; OverwriteWithLatest upserts."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def upsert(self, batch: pa.Table) -> None:
        latest: dict[str, dict[str, Any]] = {}
        for row in batch.to_pylist():  # the batch is deduplicated first: largest version wins
            held = latest.get(row["key"])
            if held is None or row["version"] > held["version"]:
                latest[row["key"]] = row
        self.rows.update(latest)  # then the incoming record always replaces the stored one

    def overwrite(self, batch: pa.Table) -> None:
        """insert_overwrite: the batch's partitions hold exactly the batch.

        Like every insert-like operation it does not deduplicate the batch
        (``hoodie.combine.before.insert=false``): a key twice is written twice.
        """
        keys = batch.column("key").to_pylist()
        assert len(set(keys)) == len(keys), "give insert_overwrite unique keys"
        regions = set(batch.column("region").to_pylist())
        self.rows = {k: r for k, r in self.rows.items() if r["region"] not in regions}
        self.upsert(batch)

    def delete(self, keys: pa.Table) -> None:
        for key in keys.column("key").to_pylist():
            self.rows.pop(key, None)

    def expected(self) -> list[dict[str, Any]]:
        return data_rows(pa.Table.from_pylist(list(self.rows.values()), schema=RICH_SCHEMA))


def evening(n: int, existing: list[int]) -> tuple[pa.Table, pa.Table | None]:
    """Evening ``n``: updates of some existing ids, new ids, one stale duplicate; deletes."""
    updates = existing[n % 3 :: 3][:4]
    new = list(range(100 * n, 100 * n + 4))
    fresh = rich_rows([*updates, *new], 10 * n)
    stale = rich_rows(updates[:1] or new[:1], 10 * n - 5)
    batch = pa.concat_tables([stale, fresh]) if n % 2 else pa.concat_tables([fresh, stale])
    deletes = None
    if n % 2 == 0:
        gone = [i for i in existing if i not in updates][:2]
        deletes = rich_rows(gone, 0).select(["key", "region"])
    return batch, deletes


def check(spark, base: Path, oracle: Oracle) -> None:
    ours = rs_snapshot(base)
    theirs = jvm.snapshot(spark, base)
    for table in (ours, theirs):
        keys = table.column("_hoodie_record_key")
        assert pc.count_distinct(keys).as_py() == table.num_rows, "duplicate keys"
    assert data_rows(ours) == oracle.expected()
    assert data_rows(theirs) == oracle.expected()


def _write(spark, writer: str, base: Path, batch: pa.Table, operation: str, spec: TableSpec) -> str:
    if writer == "native":
        table = HudiTable.open_or_create(str(base), SPEC)
        if operation == o.DS_OPERATION_DELETE:
            return table.delete(batch, options=OPTIONS).instant
        assert operation == o.DS_OPERATION_UPSERT
        return table.upsert(batch, options=OPTIONS).instant
    return jvm_write(spark, base, batch, spec, operation, OPTIONS)


@pytest.mark.parametrize("first", ["native", "jvm"])
def test_a_season_of_mixed_writers_equals_the_oracle(
    spark_hudi, tmp_path: Path, first: str
) -> None:
    base = tmp_path / "t"
    other = "jvm" if first == "native" else "native"
    oracle = Oracle()
    history: dict[str, list[dict[str, Any]]] = {}
    batch = rich_rows(range(12), 1)
    # The JVM compares its options with hoodie.properties like Spark's resolver:
    # case-insensitively for the database name, so this write must pass.
    jvm_spec = replace(SPEC, database=SPEC.database.upper())
    assert SPEC.conflicts(jvm_spec) == []
    instant = _write(spark_hudi, first, base, batch, o.DS_OPERATION_UPSERT, jvm_spec)
    oracle.upsert(batch)
    history[instant] = oracle.expected()
    check(spark_hudi, base, oracle)
    overwritten = False
    for n in range(1, EVENINGS):
        writer = other if n % 2 else first
        batch, deletes = evening(n, sorted(int(k[1:]) for k in oracle.rows))
        if writer == "jvm" and n >= 3 and not overwritten:
            overwritten = True
            north = batch.filter(pc.equal(batch["region"], "north"))
            batch = north.filter(pc.greater_equal(north["version"], 10 * n))  # no stale twin
            instant = _write(
                spark_hudi, writer, base, batch, o.DS_OPERATION_INSERT_OVERWRITE, jvm_spec
            )
            oracle.overwrite(batch)
        else:
            instant = _write(spark_hudi, writer, base, batch, o.DS_OPERATION_UPSERT, jvm_spec)
            oracle.upsert(batch)
        history[instant] = oracle.expected()
        check(spark_hudi, base, oracle)
        if deletes is not None:
            instant = _write(spark_hudi, writer, base, deletes, o.DS_OPERATION_DELETE, jvm_spec)
            oracle.delete(deletes)
            history[instant] = oracle.expected()
            check(spark_hudi, base, oracle)

    timeline = Timeline.load(Storage(str(base)))
    assert [i.timestamp for i in timeline.completed_writes()] == sorted(history)
    assert overwritten
    assert [i.action for i in timeline.completed_writes()].count(REPLACE_COMMIT) == 1
    assert timeline.pending() == []
    cleans = [i.timestamp for i in timeline.completed_cleans()]
    # The JVM writes through Hadoop's checksummed local file system; zfish does not.
    by_jvm = [c for c in cleans if (base / ".hoodie" / f".{c}.clean.crc").exists()]
    assert by_jvm, f"the JVM cleaned: {cleans}"
    assert set(cleans) - set(by_jvm), f"zfish cleaned: {cleans}"
    # zfish deletes the JVM's checksum sidecars with the files it cleans.
    assert jvm.orphan_sidecars(base) == []
    served = sorted(history)[-OPTIONS.cleaner_commits_retained :]
    for instant in served:
        assert data_rows(rs_snapshot(base, instant)) == history[instant], instant
        assert data_rows(jvm.snapshot(spark_hudi, base, instant)) == history[instant], instant


# (a spec that differs in one setting, the JVM's conflict line, zfish's conflict key)
MISMATCHES = [
    (replace(SPEC, record_key_fields=("id",)), "RecordKey:\tid\tkey", o.RECORDKEY_FIELDS),
    (replace(SPEC, precombine_field="id"), "PreCombineKey:\tid\tversion", o.PRECOMBINE_FIELD),
    (replace(SPEC, partition_fields=("name",)), "PartitionPath:\tname\tregion", o.PARTITION_FIELDS),
    (
        replace(SPEC, key_generator=o.COMPLEX_KEYGEN),
        f"KeyGenerator:\t{o.COMPLEX_KEYGEN}\t{o.SIMPLE_KEYGEN}",
        o.KEYGENERATOR_CLASS,
    ),
    (replace(SPEC, name="other_t"), "hoodie.table.name:\tother_t\tmixed_t", o.TABLE_NAME),
    (replace(SPEC, database="otherdb"), "hoodie.database.name:\totherdb\tjvmdb", o.DATABASE_NAME),
    (
        replace(SPEC, hive_style_partitioning=True),
        f"{o.HIVE_STYLE_PARTITIONING}:\ttrue\tfalse",
        o.HIVE_STYLE_PARTITIONING,
    ),
]


def test_table_config_checks_fail_the_same_way_in_both_writers(spark_hudi, tmp_path: Path) -> None:
    base = tmp_path / "t"
    table = HudiTable.create(str(base), SPEC)
    table.upsert(rich_rows(range(4), 1), options=OPTIONS)
    before = jvm.completed_writes(base)
    for spec, jvm_line, key in MISMATCHES:
        ours = spec.conflicts(table.spec)
        assert [line.split(":\t")[0] for line in ours] == [key], ours
        with pytest.raises(Exception, match="Config conflict") as info:
            jvm_write(spark_hudi, base, rich_rows([1], 2), spec, options=OPTIONS)
        assert jvm_line in str(info.value), str(info.value)[:2000]
        assert jvm.completed_writes(base) == before  # nothing was written
    # The same options pass on both sides.
    assert SPEC.conflicts(table.spec) == []
    jvm_write(spark_hudi, base, rich_rows([1], 2), SPEC, options=OPTIONS)
    assert len(jvm.completed_writes(base)) == 2
