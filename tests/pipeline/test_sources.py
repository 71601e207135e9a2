"""Landing JSON lines: one row per record, and the fields the explicit schema does not know."""

from __future__ import annotations

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
