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

_INTEGER = r"^-?[0-9]+$"


def _set_problem(df: DataFrame, reason: Column) -> DataFrame:
    """Record ``reason`` for rows that have no problem yet (``reason`` null means fine)."""
    if schemas.PROBLEM not in df.columns:
        df = df.withColumn(schemas.PROBLEM, F.lit(None).cast("string"))
    return df.withColumn(schemas.PROBLEM, F.coalesce(F.col(schemas.PROBLEM), reason))


def _typed(raw: Column, dtype: T.DataType, path: str) -> tuple[Column, list[Column]]:
    """The typed value of a text column, and the reasons it may not convert."""

    def wrong(expected: str, typed: Column) -> Column:
        return F.when(
            raw.isNotNull() & typed.isNull(),
            F.concat(F.lit(f"field {path}: expected {expected}, got "), F.substring(raw, 1, 100)),
        )

    if isinstance(dtype, T.StructType):
        parsed = F.from_json(raw, schemas.as_strings(dtype))
        typed_fields, reasons = [], []
        for field in dtype.fields:
            value, why = _typed(parsed[field.name], field.dataType, f"{path}.{field.name}")
            typed_fields.append(value.alias(field.name))
            reasons.extend(why)
        typed = F.when(parsed.isNotNull(), F.struct(*typed_fields))
        names = ", ".join(f.name for f in dtype.fields)
        return typed, [wrong(f"an object {{{names}}}", parsed), *reasons]
    if isinstance(dtype, (T.IntegerType, T.LongType)):
        typed = F.when(raw.rlike(_INTEGER), raw.cast(dtype))
        return typed, [wrong("an integer", typed)]
    if isinstance(dtype, T.DoubleType):
        typed = raw.cast("double")
        return typed, [wrong("a number", typed)]
    if isinstance(dtype, T.BooleanType):
        typed = F.when(raw.isin("true", "false"), raw == "true")
        return typed, [wrong("true or false", typed)]
    return raw, []


def with_typed_fields(fields: T.StructType, required: tuple[str, ...]) -> Transform:
    """Convert the text fields to their types; reject malformed lines, wrong types, missing fields."""

    def check(df: DataFrame) -> DataFrame:
        raw_line = F.col(schemas.CORRUPT)
        reasons = [
            F.when(
                raw_line.isNotNull(),
                F.concat(
                    F.lit(
                        "malformed JSON line (each line must hold one whole JSON record; "
                        "compact files with `zfish upload` or jq -c): "
                    ),
                    F.substring(raw_line, 1, 200),
                ),
            )
        ]
        typed_columns = {}
        for field in fields.fields:
            typed, why = _typed(F.col(field.name), field.dataType, field.name)
            typed_columns[field.name] = typed
            reasons.extend(why)
        for name in required:
            value = F.col(name)
            missing = value.isNull() | (F.trim(value) == "")
            reasons.append(F.when(missing, F.lit(f"missing required field {name}")))
        # One flat coalesce: the first reason that applies wins. (One withColumn per
        # check nests the expressions and makes Spark's planning take seconds.)
        checked = _set_problem(df, F.coalesce(*reasons))
        return checked.withColumns(typed_columns)

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
        content = [c for c in df.columns if c not in schemas.BOOKKEEPING]
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
    good = df.filter(F.col(schemas.PROBLEM).isNull()).drop(
        schemas.PROBLEM, schemas.CORRUPT, schemas.RAW_LINE, schemas.ELEMENT, schemas.UNKNOWN
    )
    bad = df.filter(F.col(schemas.PROBLEM).isNotNull())
    return good, bad


def quarantine_records(bad: DataFrame, kind: str) -> DataFrame:
    """What the quarantine keeps of a rejected record: where it came from, why, and the record."""
    return bad.select(
        F.lit(kind).alias("kind"),
        F.col(schemas.SOURCE_FILE).alias("source_file"),
        F.col(schemas.DAY).alias("partition_day"),
        F.col(schemas.PROBLEM).alias("reason"),
        F.col(schemas.RAW_LINE).alias("record"),
        F.col(schemas.ELEMENT).alias("element"),
    )
