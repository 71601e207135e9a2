"""Data-quality checks that decide which input records are quarantined, and why.

Each check is a ``DataFrame -> DataFrame`` step that fills the ``_problem``
column of a record it rejects (the first problem found wins) and leaves good
records alone; :func:`split` then separates the two. Reasons name the field
and the offending value so the quarantine tells a user what to fix.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from zfish.pipeline import schemas
from zfish.pipeline.transforms import Transform

_TYPE_NAMES: dict[type[T.DataType], str] = {
    T.IntegerType: "an integer",
    T.LongType: "an integer",
    T.DoubleType: "a number",
    T.BooleanType: "true or false",
    T.StringType: "a string",
}


def _type_name(dtype: T.DataType) -> str:
    if isinstance(dtype, T.StructType):
        return "an object {" + ", ".join(f.name for f in dtype.fields) + "}"
    return _TYPE_NAMES.get(type(dtype), dtype.simpleString())


def _set_problem(df: DataFrame, reason: Column) -> DataFrame:
    """Record ``reason`` for rows that have no problem yet (``reason`` null means fine)."""
    if schemas.PROBLEM not in df.columns:
        df = df.withColumn(schemas.PROBLEM, F.lit(None).cast("string"))
    return df.withColumn(schemas.PROBLEM, F.coalesce(F.col(schemas.PROBLEM), reason))


def _mismatches(fields: T.StructType, prefix: str = "") -> list[Column]:
    """One reason per field whose JSON value did not fit its declared type."""
    raw = F.col(schemas.CORRUPT)
    reasons = []
    for field in fields.fields:
        path = f"{prefix}{field.name}"
        present = F.get_json_object(raw, f"$.{path}")
        if isinstance(field.dataType, T.StructType):
            reasons.extend(_mismatches(field.dataType, f"{path}."))
        reasons.append(
            F.when(
                raw.isNotNull() & present.isNotNull() & F.col(path).isNull(),
                F.concat(
                    F.lit(f"field {path}: expected {_type_name(field.dataType)}, got "), present
                ),
            )
        )
    return reasons


def with_parse_problems(fields: T.StructType, required: tuple[str, ...]) -> Transform:
    """Malformed lines, values of the wrong type, missing or empty required fields."""

    def check(df: DataFrame) -> DataFrame:
        raw = F.col(schemas.CORRUPT)
        not_json = (
            raw.isNotNull()
            & F.from_json(raw, "map<string,string>").isNull()
            & F.from_json(raw, "array<map<string,string>>").isNull()
        )
        reasons = [
            F.when(
                not_json,
                F.concat(
                    F.lit(
                        "malformed JSON line (each line must hold one whole JSON record; "
                        "compact files with `zfish upload` or jq -c): "
                    ),
                    F.substring(raw, 1, 200),
                ),
            ),
            *_mismatches(fields),
            F.when(
                raw.isNotNull(), F.concat(F.lit("unparseable record: "), F.substring(raw, 1, 200))
            ),
        ]
        for name in required:
            column = F.col(name)
            if isinstance(fields[name].dataType, T.StringType):
                missing = column.isNull() | (F.trim(column) == "")
            else:
                missing = column.isNull()
            reasons.append(F.when(missing, F.lit(f"missing required field {name}")))
        # One flat coalesce: the first reason that applies wins. (Nesting one
        # withColumn per check makes Spark's planning take seconds.)
        return _set_problem(df, F.coalesce(*reasons))

    return check


def with_timestamp_problems(df: DataFrame) -> DataFrame:
    """A ``timestamp`` that is not an ISO 8601 time cannot order upserts."""
    raw = F.col("timestamp")
    return _set_problem(
        df,
        F.when(
            raw.isNotNull() & raw.cast("timestamp").isNull(),
            F.concat(F.lit("field timestamp: cannot parse "), raw, F.lit(" as an ISO 8601 time")),
        ),
    )


def with_conflicting_duplicates(key: str) -> Transform:
    """Records sharing ``key`` but differing in content are all rejected: no silent pick."""

    def check(df: DataFrame) -> DataFrame:
        content = [
            c
            for c in df.columns
            if c not in (schemas.SOURCE_FILE, schemas.PROBLEM, schemas.CORRUPT)
        ]
        ok = F.col(schemas.PROBLEM).isNull() if schemas.PROBLEM in df.columns else F.lit(True)
        digest = F.when(ok, F.xxhash64(F.to_json(F.struct(*content))))
        by_key = Window.partitionBy(key)
        versions = F.size(F.collect_set(digest).over(by_key))
        files = F.array_join(
            F.array_sort(F.collect_set(F.when(ok, F.col(schemas.SOURCE_FILE))).over(by_key)), ", "
        )
        return _set_problem(
            df,
            F.when(
                F.col(key).isNotNull() & (versions > 1),
                F.concat(
                    F.lit(f"duplicate {key} "),
                    F.col(key),
                    F.lit(" with different content in "),
                    files,
                ),
            ),
        )

    return check


def with_unknown_fish(observations: DataFrame, since_day: str | None) -> Transform:
    """Outcomes (that arrived on or after ``since_day``) for fish never observed in the window."""

    def check(outcomes: DataFrame) -> DataFrame:
        known = (
            observations.filter(F.col(schemas.PROBLEM).isNull())
            .select("fish_id")
            .distinct()
            .withColumn("_known_fish", F.lit(True))
        )
        recent = F.lit(True) if since_day is None else F.col(schemas.DAY) >= F.lit(since_day)
        joined = outcomes.join(known, on="fish_id", how="left")
        return _set_problem(
            joined,
            F.when(
                F.col("fish_id").isNotNull() & F.col("_known_fish").isNull() & recent,
                F.concat(
                    F.lit("outcome for unknown fish "),
                    F.col("fish_id"),
                    F.lit(": no observation of this fish in the partitions read"),
                ),
            ),
        ).drop("_known_fish")

    return check


def drop_identical_duplicates(key: str) -> Transform:
    """Byte-identical re-deliveries of a record count once."""

    def dedup(df: DataFrame) -> DataFrame:
        return df.dropDuplicates([key])

    return dedup


def split(df: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(good records without bookkeeping columns, rejected records with their reason)."""
    if schemas.PROBLEM not in df.columns:
        df = df.withColumn(schemas.PROBLEM, F.lit(None).cast("string"))
    good = df.filter(F.col(schemas.PROBLEM).isNull()).drop(schemas.PROBLEM, schemas.CORRUPT)
    bad = df.filter(F.col(schemas.PROBLEM).isNotNull())
    return good, bad


def quarantine_records(bad: DataFrame, kind: str, fields: T.StructType) -> DataFrame:
    """What the quarantine keeps of a rejected record: where it came from, why, and the record."""
    return bad.select(
        F.lit(kind).alias("kind"),
        F.col(schemas.SOURCE_FILE).alias("source_file"),
        F.col(schemas.DAY).alias("partition_day"),
        F.col(schemas.PROBLEM).alias("reason"),
        F.coalesce(
            F.col(schemas.CORRUPT), F.to_json(F.struct(*(F.col(f.name) for f in fields.fields)))
        ).alias("record"),
    )
