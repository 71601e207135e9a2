"""SQL text for the ETL: literals and names survive Spark's parser unchanged."""

from __future__ import annotations

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from zfish.pipeline.sqltext import coalesce, ddl, ident, string, when

pytestmark = pytest.mark.spark

AWKWARD = ["plain", "it's", "back\\slash", "tab\tand\nnewline", 'quote" and `tick`', "$['x']"]


def test_string_literals_evaluate_to_the_text_they_quote(spark: SparkSession) -> None:
    row = (
        spark.range(1).selectExpr(*(f"{string(t)} AS c{i}" for i, t in enumerate(AWKWARD))).first()
    )
    assert row is not None
    assert list(row) == AWKWARD


def test_names_are_quoted_even_keywords_and_backticks(spark: SparkSession) -> None:
    names = ["timestamp", "select", "with space", "back`tick"]
    df = spark.range(1).selectExpr(*(f"1 AS {ident(n)}" for n in names))
    assert df.columns == names
    assert df.selectExpr(*(ident(n) for n in names)).columns == names


def test_ddl_round_trips_nested_types_through_spark(spark: SparkSession) -> None:
    dtype = T.ArrayType(
        T.StructType(
            [
                T.StructField("timestamp", T.StringType()),
                T.StructField("m", T.MapType(T.StringType(), T.LongType())),
                T.StructField("s", T.StructType([T.StructField("gene_a", T.BooleanType())])),
            ]
        )
    )
    df = spark.range(1).selectExpr(f"CAST(NULL AS {ddl(dtype)}) AS x")
    assert df.schema["x"].dataType == dtype


def test_when_and_coalesce_pick_the_first_reason_that_applies(spark: SparkSession) -> None:
    reasons = [when("id > 5", "'big'"), when("id % 2 = 0", "'even'"), when("id = 3", "'three'")]
    got = [r[0] for r in spark.range(8).selectExpr(coalesce(reasons)).orderBy("id").collect()]
    assert coalesce(["'only'"]) == "'only'"
    assert got == ["even", None, "even", "three", "even", None, "big", "big"]
