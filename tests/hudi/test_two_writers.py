"""Same input, two writers: the native and the JVM Hudi 0.15 writer make the same table.

The same batches (insert, upsert, delete) of every column type go to a native
table and to a JVM-written one with the same spec. Both hold the same rows
(read by hudi-rs and by the JVM), the same record keys and partitions, the
same Avro schema in every commit and in the Parquet footers (compared field by
field), and the same Parquet physical and logical type for every leaf column.

The differences that remain are the JVM's parquet-avro choices that every
reader handles (see ``zfish.hudi.avro``): lists in the legacy 2-level form
(``repeated <type> array``) where pyarrow writes the standard 3-level one
(``repeated group list { optional <type> element }``, one more definition
level), the ``MAP_KEY_VALUE`` annotation on the map's ``key_value`` group, and
the Parquet root named after the Avro record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jvm_testlib as jvm
import pyarrow.parquet as pq
import pytest
from hudi_testlib import parquet_files
from hudi_testlib import snapshot as rs_snapshot
from jvm_testlib import data_rows, jvm_write, rich_rows, rows

from zfish.hudi import HudiTable, TableSpec, WriteOptions
from zfish.hudi import options as o

pytestmark = pytest.mark.spark

SPEC = TableSpec(
    name="two_t",
    database="jvmdb",
    record_key_fields=("key",),
    partition_fields=("region",),
    precombine_field="version",
)
OPTIONS = WriteOptions(bloom_num_entries=500)
BATCHES = [
    ("upsert", rich_rows(range(9), 1)),
    ("upsert", rich_rows([0, 1, 2, 3, 9, 10], 2)),
    ("delete", rich_rows([4, 9], 1).select(["key", "region"])),
]


@pytest.fixture(scope="module")
def tables(spark_hudi, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("two-writers")
    native, theirs = root / "native", root / "jvm"
    table = HudiTable.create(str(native), SPEC)
    for operation, batch in BATCHES:
        if operation == "delete":
            table.delete(batch, options=OPTIONS)
            jvm_write(spark_hudi, theirs, batch, SPEC, o.DS_OPERATION_DELETE)
        else:
            table.upsert(batch, options=OPTIONS)
            jvm_write(spark_hudi, theirs, batch, SPEC)
    return native, theirs


def test_same_rows_read_by_both_readers(spark_hudi, tables: tuple[Path, Path]) -> None:
    native, theirs = tables
    expected = data_rows(rs_snapshot(native))
    assert len(expected) == 9
    assert data_rows(rs_snapshot(theirs)) == expected
    assert data_rows(jvm.snapshot(spark_hudi, native)) == expected
    assert data_rows(jvm.snapshot(spark_hudi, theirs)) == expected
    keys = ["_hoodie_record_key", "_hoodie_partition_path"]
    assert rows(rs_snapshot(native).select(keys)) == rows(rs_snapshot(theirs).select(keys))


def _commit_schemas(base: Path) -> list[dict[str, Any]]:
    commits = sorted((base / ".hoodie").glob("*.commit"))
    return [json.loads(json.loads(p.read_text())["extraMetadata"]["schema"]) for p in commits]


def test_same_avro_schema_in_every_commit_field_by_field(tables: tuple[Path, Path]) -> None:
    native, theirs = tables
    ours, jvms = _commit_schemas(native), _commit_schemas(theirs)
    assert len(ours) == len(jvms) == len(BATCHES)
    for mine, other in zip(ours, jvms, strict=True):
        assert (mine["name"], mine["namespace"]) == (other["name"], other["namespace"])
        assert [f["name"] for f in mine["fields"]] == [f["name"] for f in other["fields"]]
        for a, b in zip(mine["fields"], other["fields"], strict=True):
            assert a == b, a["name"]


def _leaves(path: Path) -> dict[str, tuple[Any, ...]]:
    """Leaf columns by a path with lists spelled ``[]`` whatever their Parquet form."""
    schema = pq.ParquetFile(path).schema
    out = {}
    for i in range(len(schema)):
        col = schema.column(i)
        name = col.path.replace(".list.element", "[]").replace(".array", "[]")
        fixed = col.length if col.physical_type == "FIXED_LEN_BYTE_ARRAY" else None
        out[name] = (
            col.physical_type,
            str(col.logical_type),
            col.converted_type,
            fixed,
            col.max_repetition_level,
            # A 3-level list's optional element is one more definition level.
            col.max_definition_level - col.path.count(".list.element"),
        )
    return out


def _raw_paths(path: Path) -> set[str]:
    schema = pq.ParquetFile(path).schema
    return {schema.column(i).path for i in range(len(schema))}


def test_same_parquet_types_per_column_and_same_footers(tables: tuple[Path, Path]) -> None:
    native, theirs = tables
    for partition in ("north", "south", "east"):
        ours = max(parquet_files(native / partition), key=lambda p: p.name.rsplit("_", 1)[1])
        jvms = max(parquet_files(theirs / partition), key=lambda p: p.name.rsplit("_", 1)[1])
        mine, other = _leaves(ours), _leaves(jvms)
        assert list(mine) == list(other)
        for column in mine:
            assert mine[column] == other[column], column
        assert "ts" in mine
        assert mine["ts"][:2] == (
            "INT64",
            "Timestamp(isAdjustedToUTC=true, timeUnit=microseconds, "
            "is_from_converted_type=false, force_set_converted_type=false)",
        )
        assert mine["dec"][:4] == (
            "FIXED_LEN_BYTE_ARRAY",
            "Decimal(precision=10, scale=5)",
            "DECIMAL",
            5,
        )
        # The lists really are written in the two forms, and the readers agree all the same.
        assert "tags.list.element" in _raw_paths(ours)
        assert "tags.array" in _raw_paths(jvms)
        footer_ours = pq.ParquetFile(ours).metadata.metadata
        footer_jvm = pq.ParquetFile(jvms).metadata.metadata
        assert set(footer_ours) == set(footer_jvm)
        avro = o.FOOTER_AVRO_SCHEMA.encode()
        assert json.loads(footer_ours[avro]) == json.loads(footer_jvm[avro])
        model = o.FOOTER_WRITER_MODEL.encode()
        assert footer_ours[model] == footer_jvm[model]
