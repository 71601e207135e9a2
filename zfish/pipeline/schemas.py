"""Explicit Spark schemas: nothing in the ETL infers a schema from the data.

The input schemas are what the seed's generator writes (and the Glue crawler
catalogues). Input lands as text first (see :func:`as_strings`); ``_corrupt_record``
holds a line that is not JSON objects at all; ``_unknown_fields`` names the
fields of a record the schema does not know (reported, never typed or kept).
The output schema is the Hudi table ``joined_fish_data``.
"""

from __future__ import annotations

from pyspark.sql import types as T

CORRUPT = "_corrupt_record"
SOURCE_FILE = "_source_file"
PROBLEM = "_problem"
RAW_LINE = "_raw_line"
ELEMENT = "_element"
UNKNOWN = "_unknown_fields"  # fields of the record this schema does not know (never typed)
# A range computed in one pass (zfish.pipeline.season): the evening a copy of a record is
# read for, and that evening's first outcome day checked for unknown fish (NULL: every day).
# Where EVENING is present, every step works per evening: it is part of each key.
EVENING = "_evening"
UNKNOWN_FISH_SINCE = "_unknown_fish_since"
BOOKKEEPING = (
    CORRUPT,
    SOURCE_FILE,
    PROBLEM,
    RAW_LINE,
    ELEMENT,
    UNKNOWN,
    EVENING,
    UNKNOWN_FISH_SINCE,
)
DAY = "day"

MARKERS = ("gene_a", "gene_b", "gene_c")

GENETIC_MARKERS = T.StructType([T.StructField(g, T.BooleanType()) for g in MARKERS])

OBSERVATION_FIELDS = T.StructType(
    [
        T.StructField("fish_id", T.StringType()),
        T.StructField("image_id", T.StringType()),
        T.StructField("timestamp", T.StringType()),
        T.StructField("age_days", T.IntegerType()),
        T.StructField("treatment", T.StringType()),
        T.StructField("genetic_markers", GENETIC_MARKERS),
        T.StructField("length_mm", T.DoubleType()),
        T.StructField("sex", T.StringType()),
    ]
)
OUTCOME_FIELDS = T.StructType(
    [
        T.StructField("fish_id", T.StringType()),
        T.StructField("condition_developed", T.BooleanType()),
    ]
)

REQUIRED_OBSERVATION_FIELDS = ("fish_id", "image_id", "timestamp", "age_days")
REQUIRED_OUTCOME_FIELDS = ("fish_id", "condition_developed")


def as_strings(fields: T.StructType) -> T.StructType:
    """The same top-level fields, every one read as text (objects as their JSON text).

    Landing values as text means a badly typed value never spoils its whole line
    (or the other records of a JSON array on that line); the typed values are
    derived afterwards, field by field, with a reason for each failure.
    """
    return T.StructType([T.StructField(f.name, T.StringType()) for f in fields.fields])


def landing_schema(fields: T.StructType) -> T.StructType:
    """What the reader lands: the fields as text, the partition and the bookkeeping columns."""
    return T.StructType(
        [
            *as_strings(fields).fields,
            T.StructField(DAY, T.StringType()),
            T.StructField(CORRUPT, T.StringType()),
            T.StructField(SOURCE_FILE, T.StringType()),
            T.StructField(RAW_LINE, T.StringType()),
            T.StructField(ELEMENT, T.IntegerType()),
            T.StructField(UNKNOWN, T.ArrayType(T.StringType())),
        ]
    )


# The Hudi table joined_fish_data, column for column (record key image_id,
# partition day, precombine timestamp).
TABLE = T.StructType(
    [
        T.StructField("image_id", T.StringType()),
        T.StructField("fish_id", T.StringType()),
        T.StructField("timestamp", T.TimestampType()),
        T.StructField("age_days", T.IntegerType()),
        T.StructField("treatment", T.StringType()),
        T.StructField("gene_a", T.BooleanType()),
        T.StructField("gene_b", T.BooleanType()),
        T.StructField("gene_c", T.BooleanType()),
        T.StructField("length_mm", T.DoubleType()),
        T.StructField("sex", T.StringType()),
        T.StructField("condition_developed", T.BooleanType()),
        T.StructField("outcome_day", T.StringType()),
        T.StructField(DAY, T.StringType()),
    ]
)


def per_evening(df_columns: list[str], *keys: str) -> list[str]:
    """``keys``, plus the evening when the rows are a range's (see EVENING)."""
    return [*keys, EVENING] if EVENING in df_columns else list(keys)
