"""Landing JSON lines: one row per record, and the fields the explicit schema does not know."""

from __future__ import annotations

from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from zfish.pipeline import schemas, sources

pytestmark = pytest.mark.spark

SOURCE = "file:///lake/observations/day=2025-04-02/x.json"


def land(spark: SparkSession, lines: list[str], fields: T.StructType) -> DataFrame:
    df = spark.createDataFrame(
        [(line, "2025-04-02", SOURCE) for line in lines],
        f"value string, {schemas.DAY} string, {schemas.SOURCE_FILE} string",
    )
    return sources.parse_lines(df, fields)


def test_unknown_top_level_and_nested_fields_are_named(spark: SparkSession) -> None:
    lines = [
        '{"fish_id":"f1","image_id":"i1","weight_mg":3,"tank_id":"t1"}',
        '{"fish_id":"f2","image_id":"i2","genetic_markers":{"gene_a":true,"gene_d":false}}',
        '  {"fish_id":"f3","image_id":"i3","age_days":1}',
        '{"fish_id":"f4","image_id":"i4","weight_mg":1,"weight_mg":2}',  # a repeated key: once
        '{"fish_id":"f5","image_id":"i5","genetic_markers":"none"}',  # not an object: no names
        "not json at all",
    ]
    landed = land(spark, lines, schemas.OBSERVATION_FIELDS).select("fish_id", schemas.UNKNOWN)
    expected = spark.createDataFrame(
        [
            ("f1", ["weight_mg", "tank_id"]),
            ("f2", ["genetic_markers.gene_d"]),
            ("f3", []),
            ("f4", ["weight_mg"]),
            ("f5", []),
            (None, []),
        ],
        f"fish_id string, {schemas.UNKNOWN} array<string>",
    )
    assert_df_equality(landed, expected, ignore_row_order=True, ignore_nullable=True)


def test_each_element_of_an_array_line_has_its_own_unknown_fields(spark: SparkSession) -> None:
    line = (
        '[{"fish_id":"a","condition_developed":true,"vet":"x"},'
        '{"fish_id":"b","condition_developed":false},'
        '{"fish_id":"c","condition_developed":true,"vet":"y","note":"z"}]'
    )
    landed = land(spark, [line], schemas.OUTCOME_FIELDS).select(
        "fish_id", schemas.ELEMENT, schemas.UNKNOWN
    )
    expected = spark.createDataFrame(
        [("a", 0, ["vet"]), ("b", 1, []), ("c", 2, ["vet", "note"])],
        f"fish_id string, {schemas.ELEMENT} int, {schemas.UNKNOWN} array<string>",
    )
    assert_df_equality(landed, expected, ignore_row_order=True, ignore_nullable=True)


def test_known_fields_still_land_beside_unknown_ones(spark: SparkSession) -> None:
    row = land(
        spark,
        ['{"fish_id":"f1","image_id":"i1","age_days":2,"weight_mg":3}'],
        schemas.OBSERVATION_FIELDS,
    ).first()
    assert row is not None
    assert (row["fish_id"], row["image_id"], row["age_days"]) == ("f1", "i1", "2")
    assert "weight_mg" not in row.asDict()


def test_the_empty_landing_has_the_unknown_column(spark: SparkSession, tmp_path) -> None:  # type: ignore[no-untyped-def]
    empty = sources.read_json(spark, tmp_path, [], schemas.OBSERVATION_FIELDS)
    assert empty.schema[schemas.UNKNOWN].dataType == T.ArrayType(T.StringType())


def test_files_read_in_the_driver_land_the_same_rows_as_spark_reading_them(
    spark: SparkSession, tmp_path: Path
) -> None:
    """Local mode reads the lake in Python; it must land exactly what ``binaryFile`` lands."""
    kind = tmp_path / "a lake" / "observations"  # a space: file names as Hadoop writes them
    day1, day2 = kind / "day=2025-04-02", tmp_path / "elsewhere" / "day=2025-04-03"
    day1.mkdir(parents=True)
    day2.mkdir(parents=True)
    (kind / "day=2025-04-03").symlink_to(day2)  # a linked partition stays under the lake
    (day1 / "a.json").write_bytes(b'{"fish_id":"f1","image_id":"i1"}\r\n{"fish_id":"f2"}\n')
    (day1 / "b.json").write_bytes(b'\n   \n\t\n{"fish_id":"f3","weight_mg":2}')  # tab: not blank
    (day1 / "c.json").write_bytes(b"")
    (day1 / "d.json").write_bytes(b'[{"fish_id":"f4"},{"fish_id":"f5","x":1}]\n')
    (day1 / "e.json").write_bytes('{"fish_id":"f\u00e9"}\n'.encode())
    (day1 / "f.json").write_bytes(b'{"fish_id":"f6", "note":"\xff\xfe"}\n')  # not UTF-8
    (day1 / "skip.txt").write_bytes(b'{"fish_id":"no"}\n')
    (day1 / "_hidden.json").write_bytes(b'{"fish_id":"no"}\n')
    (day1 / ".hidden.json").write_bytes(b'{"fish_id":"no"}\n')
    (day2 / "g.json").write_bytes(b'{"fish_id":"f7","age_days":"3"}')
    parts, problems = sources.select_partitions(kind, lambda day: True)
    assert [p.path.name for p in parts] == ["day=2025-04-02", "day=2025-04-03"]
    assert not problems

    def landed(here: bool) -> DataFrame:
        return sources.read_json(spark, kind, parts, schemas.OBSERVATION_FIELDS, in_driver=here)

    by_spark, by_driver = landed(False), landed(True)
    assert by_spark.count() == 9  # 2 + (tab line, f3) + 0 + 2 elements + 1 + 1 + 1
    assert_df_equality(by_driver, by_spark, ignore_row_order=True, ignore_nullable=True)
    files = {r[0] for r in by_driver.select(schemas.SOURCE_FILE).distinct().collect()}
    assert f"file:{kind / 'day=2025-04-03' / 'g.json'}" in files
