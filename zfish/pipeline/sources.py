"""Reading the lake: explicit schemas, and only the partitions the window needs.

Partition folders are listed on the driver (cheap: one ``scandir`` per kind)
and only those inside the window are handed to Spark, so partitions outside
it are never opened. Every record keeps the file it came from, for the
quarantine.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from zfish import partitions
from zfish.pipeline import schemas
from zfish.problems import Problem


def select_partitions(
    kind_dir: Path, keep: Callable[[date], bool]
) -> tuple[list[partitions.Partition], list[Problem]]:
    found, problems = partitions.scan(kind_dir)
    return [p for p in found if keep(p.day) and any(p.path.glob("*.json"))], problems


def read_json(
    spark: SparkSession, kind_dir: Path, parts: list[partitions.Partition], fields: T.StructType
) -> DataFrame:
    """Records of the given partitions, with ``day``, ``_corrupt_record`` and ``_source_file``."""
    schema = schemas.read_schema(fields)
    if not parts:
        empty = spark.createDataFrame([], schema)
        return empty.withColumn(schemas.SOURCE_FILE, F.lit(None).cast("string"))
    reader = (
        spark.read.schema(schema)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", schemas.CORRUPT)
        .option("basePath", str(kind_dir.resolve()))
        .option("pathGlobFilter", "*.json")
    )
    df = reader.json([str(p.path.resolve()) for p in parts])
    return df.withColumn(schemas.SOURCE_FILE, F.input_file_name())
