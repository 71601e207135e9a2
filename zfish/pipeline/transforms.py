"""The ETL's business steps, as ``DataFrame -> DataFrame`` functions chained with ``transform``.

Mirrors the seed's Glue job: parse the event time, left join the outcomes on
``fish_id``, flatten ``genetic_markers``, keep labelled rows, shape the table.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from zfish.pipeline import schemas
from zfish.pipeline.sqltext import ddl, ident

Transform = Callable[[DataFrame], DataFrame]


def with_event_time(df: DataFrame) -> DataFrame:
    """``timestamp`` as a UTC timestamp; accepts the seed's form with or without ``Z``."""
    return df.withColumn("timestamp", F.col("timestamp").cast("timestamp"))


def with_outcomes(outcomes: DataFrame) -> Transform:
    """Left join the outcome (label and the day it arrived) of each observation's fish."""
    keys = schemas.per_evening(outcomes.columns, "fish_id")
    labels = outcomes.selectExpr(
        *map(ident, keys), "condition_developed", f"{ident(schemas.DAY)} AS outcome_day"
    )

    def join(observations: DataFrame) -> DataFrame:
        return observations.join(labels, on=keys, how="left")

    return join


def with_flattened_markers(df: DataFrame) -> DataFrame:
    """``genetic_markers.gene_x`` as top-level columns; the struct itself is dropped."""
    # One select, not a withColumn per gene: each call is a round of Spark's analyzer.
    genes = {gene: f"genetic_markers.{ident(gene)} AS {ident(gene)}" for gene in schemas.MARKERS}
    kept = [genes.pop(c, ident(c)) for c in df.columns if c != "genetic_markers"]
    return df.selectExpr(*kept, *genes.values())


def filter_labelled(df: DataFrame) -> DataFrame:
    """Keep observations whose fish already has an outcome."""
    return df.where("condition_developed IS NOT NULL")


def select_table_columns(df: DataFrame) -> DataFrame:
    """Exactly the Hudi table's columns, in order and with their types (and a range's evening)."""
    return df.selectExpr(
        *(f"CAST({ident(f.name)} AS {ddl(f.dataType)}) AS {ident(f.name)}" for f in schemas.TABLE),
        *([ident(schemas.EVENING)] if schemas.EVENING in df.columns else []),
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
