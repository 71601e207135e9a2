"""The ETL's business steps, as ``DataFrame -> DataFrame`` functions chained with ``transform``.

Mirrors the seed's Glue job: parse the event time, left join the outcomes on
``fish_id``, flatten ``genetic_markers``, keep labelled rows, shape the table.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from zfish.pipeline import schemas

Transform = Callable[[DataFrame], DataFrame]


def with_event_time(df: DataFrame) -> DataFrame:
    """``timestamp`` as a UTC timestamp; accepts the seed's form with or without ``Z``."""
    return df.withColumn("timestamp", F.col("timestamp").cast("timestamp"))


def with_outcomes(outcomes: DataFrame) -> Transform:
    """Left join the outcome (label and the day it arrived) of each observation's fish."""
    labels = outcomes.select(
        "fish_id", "condition_developed", F.col(schemas.DAY).alias("outcome_day")
    )

    def join(observations: DataFrame) -> DataFrame:
        return observations.join(labels, on="fish_id", how="left")

    return join


def with_flattened_markers(df: DataFrame) -> DataFrame:
    """``genetic_markers.gene_x`` as top-level columns; the struct itself is dropped."""
    # One withColumns, not one withColumn per gene: each call is a round of Spark's analyzer.
    genes = {gene: F.col(f"genetic_markers.{gene}") for gene in schemas.MARKERS}
    return df.withColumns(genes).drop("genetic_markers")


def filter_labelled(df: DataFrame) -> DataFrame:
    """Keep observations whose fish already has an outcome."""
    return df.filter(F.col("condition_developed").isNotNull())


def select_table_columns(df: DataFrame) -> DataFrame:
    """Exactly the Hudi table's columns, in order and with their types."""
    return df.select(
        *(F.col(field.name).cast(field.dataType).alias(field.name) for field in schemas.TABLE)
    )


def to_table_rows(outcomes: DataFrame) -> Transform:
    """The whole business pipeline from clean observations to table rows."""

    def pipeline(observations: DataFrame) -> DataFrame:
        return (
            observations.transform(with_event_time)
            .transform(with_outcomes(outcomes))
            .transform(with_flattened_markers)
            .transform(filter_labelled)
            .transform(select_table_columns)
        )

    return pipeline
