"""Parity with real Spark + Hudi written tables: layout, metadata, behaviour.

Each test runs on both sources of ``sample`` (conftest): the reference tables
this run writes with the JVM Hudi 0.15 bundle, and the hudi-rs samples in
../shared when present.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hudi_testlib import (
    FAST,
    commit_json,
    completed_commits,
    data_rows,
    incremental,
    parquet_files,
    snapshot,
)

from zfish.hudi import HudiTable, TableSpec
from zfish.hudi import properties as props_mod
from zfish.hudi.avro import from_avro_schema
from zfish.hudi.fsview import BASE_FILE_RE, parse_base_file
from zfish.hudi.options import META_COLUMNS
from zfish.hudi.storage import Storage
from zfish.hudi.timeline import REPLACE_COMMIT, Timeline

# Fixtures whose key generator zfish writes (the time-based one is refused on purpose).
WRITABLE = (
    "cow_v6_complexkeygen_hivestyle",
    "cow_v6_nonpartitioned",
    "cow_v6_simplekeygen_nonhivestyle",
    "cow_v6_simplekeygen_nonhivestyle_overwritetable",
)
ENUM_KEYS = (
    "hoodie.table.type",
    "hoodie.table.version",
    "hoodie.timeline.layout.version",
    "hoodie.table.keygenerator.class",
    "hoodie.datasource.write.hive_style_partitioning",
    "hoodie.datasource.write.partitionpath.urlencode",
    "hoodie.datasource.write.drop.partition.columns",
    "hoodie.archivelog.folder",
    "hoodie.table.recordkey.fields",
    "hoodie.table.partition.fields",
    "hoodie.table.precombine.field",
    "hoodie.database.name",
    "hoodie.table.name",
    "hoodie.table.checksum",
)


def read_props(root: Path) -> dict[str, str]:
    return props_mod.loads((root / ".hoodie" / "hoodie.properties").read_text("latin-1"))


def zfish_twin(fixture_root: Path, dest: Path) -> HudiTable:
    """A zfish-created table with the same spec and create schema as a fixture table."""
    theirs = read_props(fixture_root)
    spec = TableSpec.from_properties(theirs)
    schema = from_avro_schema(theirs["hoodie.table.create.schema"])
    return HudiTable.create(str(dest), spec, schema=schema)


@pytest.mark.parametrize("name", [*WRITABLE, "cow_v6_empty"])
def test_property_keys_and_enum_spellings_cover_the_fixtures(
    name: str, sample, tmp_path: Path
) -> None:
    root = sample.root(name)
    theirs = read_props(root)
    zfish_twin(root, tmp_path / "t")
    ours = read_props(tmp_path / "t")
    assert set(theirs) <= set(ours), set(theirs) - set(ours)
    for key in ENUM_KEYS:
        assert ours.get(key) == theirs.get(key), key


def test_commit_json_has_the_same_field_names(sample, tmp_path: Path) -> None:
    root = sample.root("cow_v6_simplekeygen_nonhivestyle")
    theirs = commit_json(root, completed_commits(root)[0])
    table = zfish_twin(root, tmp_path / "t")
    batch = snapshot(root).drop_columns(
        [c for c in snapshot(root).column_names if c.startswith("_hoodie")]
    )
    result = table.upsert(batch, options=FAST)
    ours = commit_json(tmp_path / "t", result.instant)
    assert list(ours) == list(theirs)
    their_stat = next(iter(theirs["partitionToWriteStats"].values()))[0]
    our_stat = next(iter(ours["partitionToWriteStats"].values()))[0]
    assert list(our_stat) == list(their_stat)
    assert list(our_stat["runtimeStats"]) == list(their_stat["runtimeStats"])
    assert list(ours["extraMetadata"]) == ["schema"]
    # The Avro schema in the commit is the very string Spark wrote.
    assert ours["extraMetadata"]["schema"] == theirs["extraMetadata"]["schema"]


def _check_layout(root: Path) -> None:
    """File names, partition metafiles and meta-column formats of one table."""
    commits = set(completed_commits(root))
    for path in parquet_files(root):
        m = BASE_FILE_RE.match(path.name)
        assert m, path.name
        assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}-\d+", m["file_id"])
        assert re.fullmatch(r"\d{17}", m["instant"])
        partition = str(path.parent.relative_to(root)).replace(".", "")
        meta = (path.parent / ".hoodie_partition_metadata").read_text().splitlines()
        assert meta[0] == "#partition metadata"
        values = dict(line.split("=", 1) for line in meta if not line.startswith("#"))
        assert set(values) == {"commitTime", "partitionDepth"}
        assert int(values["partitionDepth"]) == (partition.count("/") + 1 if partition else 0)
        for row in (
            pq.read_table(path)
            .select(
                [
                    "_hoodie_commit_time",
                    "_hoodie_commit_seqno",
                    "_hoodie_partition_path",
                    "_hoodie_file_name",
                ]
            )
            .to_pylist()
        ):
            assert row["_hoodie_commit_time"] in commits | {m["instant"]}
            assert re.fullmatch(
                rf"{row['_hoodie_commit_time']}_\d+_\d+", row["_hoodie_commit_seqno"]
            )
            assert row["_hoodie_partition_path"] == partition
            assert row["_hoodie_file_name"] == path.name
        footer = set(pq.ParquetFile(path).metadata.metadata)
        assert footer == {
            b"org.apache.hudi.bloomfilter",
            b"hoodie_bloom_filter_type_code",
            b"hoodie_min_record_key",
            b"hoodie_max_record_key",
            b"parquet.avro.schema",
            b"writer.model.name",
        }


@pytest.mark.parametrize(
    "name",
    ["cow_v6_simplekeygen_nonhivestyle", "cow_v6_nonpartitioned", "cow_v6_complexkeygen_hivestyle"],
)
def test_replaying_spark_writes_gives_the_same_table(name: str, sample, tmp_path: Path) -> None:
    """Feed zfish the rows of each Spark commit; both tables must read the same everywhere."""
    root = sample.root(name)
    c1, c2 = completed_commits(root)
    meta_cols = lambda t: [c for c in t.column_names if c.startswith("_hoodie")]  # noqa: E731
    first = snapshot(root, c1)
    second = incremental(root, c1, c2)
    ours_root = tmp_path / "ours"
    table = zfish_twin(root, ours_root)
    r1 = table.upsert(first.drop_columns(meta_cols(first)), options=FAST)
    r2 = table.upsert(second.drop_columns(meta_cols(second)), options=FAST)

    assert data_rows(snapshot(ours_root), "id") == data_rows(snapshot(root), "id")
    assert data_rows(snapshot(ours_root, r1.instant), "id") == data_rows(snapshot(root, c1), "id")
    assert data_rows(incremental(ours_root, r1.instant, r2.instant), "id") == data_rows(
        second, "id"
    )
    keys = lambda t: sorted(t.column("_hoodie_record_key").to_pylist())  # noqa: E731
    assert keys(snapshot(ours_root)) == keys(snapshot(root))
    # Same write statistics per partition (file groups, inserts, updates, rows written).
    for theirs_c, ours_c in ((c1, r1.instant), (c2, r2.instant)):
        theirs = commit_json(root, theirs_c)["partitionToWriteStats"]
        ours = commit_json(ours_root, ours_c)["partitionToWriteStats"]
        shape = lambda stats: {  # noqa: E731
            p: sorted(
                (
                    s["prevCommit"] != "null",
                    s["numWrites"],
                    s["numInserts"],
                    s["numUpdateWrites"],
                    s["numDeletes"],
                )
                for s in v
            )
            for p, v in stats.items()
        }
        assert shape(ours) == shape(theirs)
    _check_layout(ours_root)
    _check_layout(root)


def test_zfish_upserts_into_a_spark_written_table(fixture_table) -> None:
    root = fixture_table("cow_v6_complexkeygen_hivestyle")
    before = snapshot(root)
    table = HudiTable.open(str(root))
    data = before.drop_columns([c for c in before.column_names if c.startswith("_hoodie")])
    carol = data.filter(pa.compute.equal(data["id"], 3))
    carol = carol.set_column(
        carol.schema.get_field_index("intField"), "intField", pa.array([-1], pa.int32())
    )
    eve = carol.set_column(carol.schema.get_field_index("id"), "id", pa.array([5], pa.int32()))
    eve = eve.set_column(
        eve.schema.get_field_index("shortField"), "shortField", pa.array([999], pa.int32())
    )
    old_carol = next(r for r in before.to_pylist() if r["_hoodie_record_key"] == "id:3,name:Carol")
    carol_slice = parse_base_file("", old_carol["_hoodie_file_name"])
    assert carol_slice is not None
    result = table.upsert(pa.concat_tables([carol, eve]), options=FAST)
    after = snapshot(root)
    by_key = {r["_hoodie_record_key"]: r for r in after.to_pylist()}
    assert by_key["id:3,name:Carol"]["intField"] == -1
    assert by_key["id:3,name:Carol"]["_hoodie_commit_time"] == result.instant
    assert by_key["id:5,name:Carol"]["_hoodie_partition_path"] == "byteField=10/shortField=999"
    # Alice shares Carol's file group: copied through with Spark's commit time and seqno.
    old_alice = next(r for r in before.to_pylist() if r["_hoodie_record_key"] == "id:1,name:Alice")
    new_alice = by_key["id:1,name:Alice"]
    assert new_alice["_hoodie_commit_seqno"] == old_alice["_hoodie_commit_seqno"]
    assert new_alice["_hoodie_commit_time"] == old_alice["_hoodie_commit_time"]
    stats = commit_json(root, result.instant)["partitionToWriteStats"]
    assert old_carol["_hoodie_partition_path"] == "byteField=10/shortField=300"
    assert stats["byteField=10/shortField=300"][0]["prevCommit"] == carol_slice.instant
    assert stats["byteField=10/shortField=300"][0]["fileId"] == carol_slice.file_id
    assert len(after) == len(before) + 1
    _check_layout(root)


def test_replaced_file_groups_of_a_spark_overwrite_are_not_resurrected(fixture_table) -> None:
    root = fixture_table("cow_v6_simplekeygen_nonhivestyle_overwritetable")
    before = snapshot(root)
    assert before.column("id").to_pylist() == [4]
    (overwrite,) = [
        i.timestamp
        for i in Timeline.load(Storage(str(root))).completed_writes()
        if i.action == REPLACE_COMMIT
    ]
    replace = json.loads((root / ".hoodie" / f"{overwrite}.replacecommit").read_text())
    (live,) = replace["partitionToWriteStats"]["30"]
    replaced = {f for fids in replace["partitionToReplaceFileIds"].values() for f in fids}
    assert replaced
    assert live["fileId"] not in replaced
    data = before.drop_columns([c for c in before.column_names if c.startswith("_hoodie")])
    changed = data.set_column(data.schema.get_field_index("name"), "name", pa.array(["D2"]))
    result = HudiTable.open(str(root)).upsert(changed, options=FAST)
    stats = commit_json(root, result.instant)["partitionToWriteStats"]["30"]
    # The live file group from the replacecommit is merged, not the replaced one.
    assert [s["fileId"] for s in stats] == [live["fileId"]]
    after = snapshot(root)
    assert after.column("name").to_pylist() == ["D2"]
    assert after.column("id").to_pylist() == [4]


def test_an_interrupted_spark_overwrite_is_rolled_back(fixture_table) -> None:
    """A JVM insert_overwrite_table that never completed (its .replacecommit removed)."""
    root = fixture_table("cow_v6_simplekeygen_nonhivestyle_overwritetable")
    timeline = Timeline.load(Storage(str(root)))
    (overwrite,) = [i for i in timeline.completed_writes() if i.action == REPLACE_COMMIT]
    (root / ".hoodie" / f"{overwrite.timestamp}.replacecommit").unlink()
    (root / ".hoodie" / f".{overwrite.timestamp}.replacecommit.crc").unlink(missing_ok=True)
    before = sorted(snapshot(root).column("id").to_pylist())
    assert before == [1, 2, 3, 4]  # readers ignore the pending overwrite
    written = [p for p in parquet_files(root) if p.name.endswith(f"_{overwrite.timestamp}.parquet")]
    assert written
    old = time.time() - 3600  # a dead writer's, not a live one's
    for path in root.rglob("*"):
        os.utime(path, (old, old))
    result = HudiTable.open(str(root)).upsert(
        snapshot(root).drop_columns([c for c in META_COLUMNS]).slice(0, 1), options=FAST
    )
    assert result.rolled_back == [overwrite.timestamp]
    assert not any(p.exists() for p in written)
    assert not list((root / ".hoodie").glob(f"*{overwrite.timestamp}*"))
    assert sorted(snapshot(root).column("id").to_pylist()) == before
