"""The ETL's business steps, each on a few inline rows (chispa)."""

from __future__ import annotations

from datetime import datetime

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from zfish.pipeline import schemas
from zfish.pipeline.transforms import (
    filter_labelled,
    select_table_columns,
    to_table_rows,
    with_event_time,
    with_flattened_markers,
    with_outcomes,
)

pytestmark = pytest.mark.spark

MARKERS = schemas.GENETIC_MARKERS


def test_event_time_accepts_the_seed_forms_with_and_without_z(spark: SparkSession) -> None:
    df = spark.createDataFrame(
        [
            ("a", "2025-04-11T00:00:00Z"),
            ("b", "2025-04-11T00:00:00"),
            ("c", "2025-04-11T02:00:00+02:00"),
        ],
        "id string, timestamp string",
    )
    expected = spark.createDataFrame(
        [("a", datetime(2025, 4, 11)), ("b", datetime(2025, 4, 11)), ("c", datetime(2025, 4, 11))],
        "id string, timestamp timestamp",
    )
    assert_df_equality(df.transform(with_event_time), expected)


def test_left_join_keeps_unlabelled_observations_and_adds_label_and_its_day(
    spark: SparkSession,
) -> None:
    obs = spark.createDataFrame(
        [("f1", "f1_01"), ("f1", "f1_03"), ("f2", "f2_01")], "fish_id string, image_id string"
    )
    outcomes = spark.createDataFrame(
        [("f1", True, "2025-05-09")], "fish_id string, condition_developed boolean, day string"
    )
    expected = spark.createDataFrame(
        [
            ("f1", "f1_01", True, "2025-05-09"),
            ("f1", "f1_03", True, "2025-05-09"),
            ("f2", "f2_01", None, None),
        ],
        "fish_id string, image_id string, condition_developed boolean, outcome_day string",
    )
    assert_df_equality(
        obs.transform(with_outcomes(outcomes)),
        expected,
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_flatten_markers_replaces_the_struct_with_three_columns(spark: SparkSession) -> None:
    schema = T.StructType(
        [T.StructField("image_id", T.StringType()), T.StructField("genetic_markers", MARKERS)]
    )
    df = spark.createDataFrame([("a", (True, False, None)), ("b", None)], schema)
    expected = spark.createDataFrame(
        [("a", True, False, None), ("b", None, None, None)],
        "image_id string, gene_a boolean, gene_b boolean, gene_c boolean",
    )
    assert_df_equality(df.transform(with_flattened_markers), expected)


def test_filter_labelled_keeps_true_and_false_but_not_null(spark: SparkSession) -> None:
    df = spark.createDataFrame(
        [("a", True), ("b", False), ("c", None)], "image_id string, condition_developed boolean"
    )
    expected = spark.createDataFrame(
        [("a", True), ("b", False)], "image_id string, condition_developed boolean"
    )
    assert_df_equality(df.transform(filter_labelled), expected)


def test_select_table_columns_orders_and_types_exactly_the_table_schema(
    spark: SparkSession,
) -> None:
    row = {f.name: None for f in schemas.TABLE.fields}
    row.update({"image_id": "f_01", "age_days": 1, "day": "2025-04-02", "extra": "dropped"})
    df = spark.createDataFrame(
        [row],
        "image_id string, fish_id string, timestamp timestamp, age_days long, "
        "treatment string, gene_a boolean, gene_b boolean, gene_c boolean, length_mm double, "
        "sex string, condition_developed boolean, outcome_day string, day string, extra string",
    )
    out = df.transform(select_table_columns)
    assert [f.name for f in out.schema.fields] == [f.name for f in schemas.TABLE.fields]
    assert [f.dataType for f in out.schema.fields] == [f.dataType for f in schemas.TABLE.fields]


def test_whole_pipeline_on_three_fish(spark: SparkSession) -> None:
    obs_schema = T.StructType(
        [*schemas.OBSERVATION_FIELDS.fields, T.StructField("day", T.StringType())]
    )
    obs = spark.createDataFrame(
        [
            (
                "f1",
                "f1_01",
                "2025-04-02T00:00:00Z",
                1,
                "placebo",
                (True, False, True),
                2.4,
                None,
                "2025-04-02",
            ),
            (
                "f1",
                "f1_05",
                "2025-04-06T00:00:00Z",
                5,
                "placebo",
                (True, False, True),
                4.6,
                "male",
                "2025-04-06",
            ),
            (
                "f2",
                "f2_01",
                "2025-04-02T00:00:00",
                1,
                "compound_x",
                (False, False, False),
                2.5,
                None,
                "2025-04-02",
            ),
        ],
        obs_schema,
    )
    outcomes = spark.createDataFrame(
        [("f1", False, "2025-05-06")], "fish_id string, condition_developed boolean, day string"
    )
    expected = spark.createDataFrame(
        [
            (
                "f1_01",
                "f1",
                datetime(2025, 4, 2),
                1,
                "placebo",
                True,
                False,
                True,
                2.4,
                None,
                False,
                "2025-05-06",
                "2025-04-02",
            ),
            (
                "f1_05",
                "f1",
                datetime(2025, 4, 6),
                5,
                "placebo",
                True,
                False,
                True,
                4.6,
                "male",
                False,
                "2025-05-06",
                "2025-04-06",
            ),
        ],
        schemas.TABLE,
    )
    assert_df_equality(obs.transform(to_table_rows(outcomes)), expected, ignore_row_order=True)
