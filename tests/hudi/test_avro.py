"""zfish.hudi.avro: Arrow <-> Avro with Hudi's naming, input normalization, schema evolution."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from hudi_testlib import commit_json, completed_commits

from zfish.exceptions import SchemaError
from zfish.hudi import avro as av


def fixture_like_schema(partition: str = "byteField") -> pa.Schema:
    """The Arrow data Spark's mapInArrow delivers for the fixtures' CREATE TABLE."""
    fields = [
        ("id", pa.int32()),
        ("name", pa.large_string()),
        ("isActive", pa.bool_()),
        ("shortField", pa.int16()),
        ("intField", pa.int32()),
        ("longField", pa.int64()),
        ("floatField", pa.float32()),
        ("doubleField", pa.float64()),
        ("decimalField", pa.decimal128(10, 5)),
        ("dateField", pa.date32()),
        ("timestampField", pa.timestamp("us", tz="UTC")),
        ("binaryField", pa.binary()),
        (
            "arrayField",
            pa.list_(pa.struct([("arr_struct_f1", pa.string()), ("arr_struct_f2", pa.int32())])),
        ),
        (
            "mapField",
            pa.map_(
                pa.string(),
                pa.struct(
                    [
                        ("map_field_value_struct_f1", pa.float64()),
                        ("map_field_value_struct_f2", pa.bool_()),
                    ]
                ),
            ),
        ),
        (
            "structField",
            pa.struct(
                [
                    ("field1", pa.string()),
                    ("field2", pa.int32()),
                    (
                        "child_struct",
                        pa.struct([("child_field1", pa.float64()), ("child_field2", pa.bool_())]),
                    ),
                ]
            ),
        ),
        (partition, pa.int8()),
    ]
    return pa.schema(fields)


def test_schema_is_byte_identical_to_spark_commit_schema(sample) -> None:
    root = sample.root("cow_v6_simplekeygen_nonhivestyle")
    theirs = commit_json(root, completed_commits(root)[0])["extraMetadata"]["schema"]
    normalized = av.normalize_schema(fixture_like_schema())
    ours = av.dumps(av.to_avro_schema(normalized, "v6_simplekeygen_nonhivestyle"))
    assert ours == theirs


def test_avro_round_trip_of_every_fixture_schema(sample) -> None:
    for name in (
        "cow_v6_nonpartitioned",
        "cow_v6_complexkeygen_hivestyle",
        "cow_v6_timebasedkeygen_nonhivestyle",
    ):
        root = sample.root(name)
        theirs = commit_json(root, completed_commits(root)[-1])["extraMetadata"]["schema"]
        table = json.loads(theirs)["name"].removesuffix("_record")
        assert av.dumps(av.to_avro_schema(av.from_avro_schema(theirs), table)) == theirs


def test_parquet_avro_footer_schema_has_meta_fields_first(sample) -> None:
    import pyarrow.parquet as pq

    root = sample.root("cow_v6_simplekeygen_nonhivestyle")
    path = next(root.glob("20/*.parquet"))
    theirs = pq.ParquetFile(path).metadata.metadata[b"parquet.avro.schema"].decode()
    normalized = av.normalize_schema(fixture_like_schema())
    ours = av.with_meta_fields(av.to_avro_schema(normalized, "v6_simplekeygen_nonhivestyle"))
    assert av.dumps(ours) == theirs


def test_normalization_to_spark_physical_types() -> None:
    schema = pa.schema(
        [
            ("ts_ns", pa.timestamp("ns")),
            ("ts_ms_tz", pa.timestamp("ms", tz="Europe/Paris")),
            ("small", pa.int8()),
            ("s", pa.large_string()),
            ("cat", pa.dictionary(pa.int32(), pa.string())),
            ("items", pa.large_list(pa.large_string())),
            ("d64", pa.date64()),
        ]
    )
    out = av.normalize_schema(schema)
    assert out.field("ts_ns").type == pa.timestamp("us", tz="UTC")
    assert out.field("ts_ms_tz").type == pa.timestamp("us", tz="UTC")
    assert out.field("small").type == pa.int32()
    assert out.field("s").type == pa.string()
    assert out.field("cat").type == pa.string()
    assert out.field("items").type == pa.list_(pa.field("element", pa.string()))
    assert out.field("d64").type == pa.date32()
    assert all(f.nullable for f in out)


def test_timestamp_cast_truncates_nanoseconds_and_reads_naive_as_utc() -> None:
    col = pa.chunked_array([pa.array([1_500, 2_000_999], pa.timestamp("ns"))])
    out = av.cast_column(col, pa.timestamp("us", tz="UTC"))
    assert out.type == pa.timestamp("us", tz="UTC")
    assert out.cast(pa.int64()).to_pylist() == [1, 2000]


@pytest.mark.parametrize(
    ("field", "match"),
    [
        (pa.field("_hoodie_commit_time", pa.string()), "reserved"),
        (pa.field("u", pa.uint32()), "unsigned"),
        (pa.field("n", pa.null()), "null"),
        (pa.field("bad-name", pa.string()), "Avro name"),
        (pa.field("m", pa.map_(pa.int32(), pa.int32())), "string keys"),
        (pa.field("s", pa.struct([("bad name", pa.int32())])), "s.bad name"),
    ],
)
def test_unwritable_input_columns_are_refused_with_the_column_name(
    field: pa.Field, match: str
) -> None:
    with pytest.raises(SchemaError, match=match):
        av.normalize_schema(pa.schema([field]))


def test_decimal_fixed_sizes_follow_spark() -> None:
    assert [av.min_bytes_for_precision(p) for p in (1, 2, 3, 9, 10, 18, 19, 38)] == [
        1,
        1,
        2,
        4,
        5,
        8,
        9,
        16,
    ]


def test_evolution_adds_columns_and_refuses_drops_and_type_changes() -> None:
    table = pa.schema([("id", pa.string()), ("v", pa.int64())])
    incoming = pa.schema([("extra", pa.float64()), ("v", pa.int64()), ("id", pa.string())])
    evolved = av.evolve(table, incoming, "t")
    assert evolved.names == ["id", "v", "extra"]
    with pytest.raises(SchemaError, match=r"'v'.*dropping"):
        av.evolve(table, pa.schema([("id", pa.string())]), "t")
    with pytest.raises(SchemaError, match="'v' is double"):
        av.evolve(table, pa.schema([("id", pa.string()), ("v", pa.float64())]), "t")
