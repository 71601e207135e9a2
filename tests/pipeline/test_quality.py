"""Which records are quarantined, with which reason; good records pass untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from zfish.pipeline import quality, schemas, sources

pytestmark = pytest.mark.spark

GOOD = (
    '{"fish_id":"f1","image_id":"f1_01","timestamp":"2025-04-02T00:00:00Z","age_days":1,'
    '"treatment":"placebo","genetic_markers":{"gene_a":true,"gene_b":false,"gene_c":true},"length_mm":2.4}'
)


def read_lines(
    spark: SparkSession, lines: list[str], fields: T.StructType = schemas.OBSERVATION_FIELDS
) -> DataFrame:
    """Land inline JSON lines exactly as the reader lands a file's lines."""
    source = "file:///lake/observations/day=2025-04-02/x.json"
    df = spark.createDataFrame(
        [(line, "2025-04-02", source) for line in lines],
        f"value string, {schemas.DAY} string, {schemas.SOURCE_FILE} string",
    )
    return sources.parse_lines(df, fields)


def problems(df: DataFrame, key: str = "image_id") -> dict[object, str | None]:
    return {row[key]: row[schemas.PROBLEM] for row in df.collect()}


def obs_checks(df: DataFrame) -> DataFrame:
    return df.transform(
        quality.with_typed_fields(schemas.OBSERVATION_FIELDS, schemas.REQUIRED_OBSERVATION_FIELDS)
    ).transform(quality.with_timestamp_problems)


def test_good_record_has_no_problem(spark: SparkSession) -> None:
    checked = read_lines(spark, [GOOD]).transform(obs_checks)
    assert problems(checked) == {"f1_01": None}


def test_wrong_type_names_the_field_and_the_value(spark: SparkSession) -> None:
    lines = [
        GOOD.replace('"age_days":1', '"age_days":"one"').replace("f1_01", "a"),
        GOOD.replace('"gene_b":false', '"gene_b":"no"').replace("f1_01", "b"),
        GOOD.replace('"length_mm":2.4', '"length_mm":"long"').replace("f1_01", "c"),
    ]
    found = problems(read_lines(spark, lines).transform(obs_checks))
    assert found["a"] == "field age_days: expected an integer, got one"
    assert found["b"] == "field genetic_markers.gene_b: expected true or false, got no"
    assert found["c"] == "field length_mm: expected a number, got long"


def test_malformed_line_is_named_as_such(spark: SparkSession) -> None:
    checked = read_lines(spark, ['{"fish_id": "f9", ', GOOD]).transform(obs_checks)
    reasons = [r[schemas.PROBLEM] for r in checked.collect()]
    assert reasons[1] is None
    assert reasons[0].startswith("malformed JSON line")
    assert '{"fish_id": "f9"' in reasons[0]


def test_missing_or_empty_required_fields(spark: SparkSession) -> None:
    lines = [
        GOOD.replace('"fish_id":"f1",', "").replace("f1_01", "a"),
        GOOD.replace('"age_days":1,', "").replace("f1_01", "b"),
        GOOD.replace('"image_id":"f1_01"', '"image_id":"  "'),
    ]
    checked = read_lines(spark, lines).transform(obs_checks)
    reasons = sorted(r[schemas.PROBLEM] for r in checked.collect())
    assert reasons == [
        "missing required field age_days",
        "missing required field fish_id",
        "missing required field image_id",
    ]


def test_unparseable_timestamp(spark: SparkSession) -> None:
    line = GOOD.replace("2025-04-02T00:00:00Z", "yesterday")
    assert problems(read_lines(spark, [line]).transform(obs_checks)) == {
        "f1_01": "field timestamp: cannot parse yesterday as an ISO 8601 time"
    }


def test_conflicting_duplicates_are_all_rejected_identical_ones_collapse(
    spark: SparkSession,
) -> None:
    lines = [
        GOOD,
        GOOD.replace('"length_mm":2.4', '"length_mm":9.9'),
        GOOD.replace("f1_01", "f1_03"),
        GOOD.replace("f1_01", "f1_03"),
    ]
    checked = (
        read_lines(spark, lines)
        .transform(obs_checks)
        .transform(quality.with_conflicting_duplicates("image_id"))
    )
    good, bad = quality.split(checked)
    assert good.transform(quality.drop_identical_duplicates("image_id")).select(
        "image_id"
    ).collect() == [("f1_03",)]
    reasons = [r[schemas.PROBLEM] for r in bad.collect()]
    assert len(reasons) == 2
    assert all(
        r.startswith("duplicate image_id f1_01 with different content in file:///lake")
        for r in reasons
    )


def test_outcomes_for_unknown_fish_only_from_the_given_day(spark: SparkSession) -> None:
    observations = read_lines(spark, [GOOD]).transform(obs_checks)
    outcomes = spark.createDataFrame(
        [("f1", True, "2025-05-07"), ("ghost", False, "2025-05-07"), ("old", True, "2025-04-01")],
        "fish_id string, condition_developed boolean, day string",
    )
    checked = outcomes.transform(quality.with_unknown_fish(observations, "2025-05-01"))
    assert problems(checked, "fish_id") == {
        "f1": None,
        "ghost": "outcome for unknown fish ghost: no observation of this fish in the partitions read",
        "old": None,
    }


def test_quarantine_record_keeps_source_reason_and_raw_record(spark: SparkSession) -> None:
    checked = read_lines(
        spark, ['{"fish_id": ', GOOD.replace('"age_days":1', '"age_days":true')]
    ).transform(obs_checks)
    _, bad = quality.split(checked)
    records = quality.quarantine_records(bad, "observations").collect()
    assert {r.kind for r in records} == {"observations"}
    assert {r.source_file for r in records} == {"file:///lake/observations/day=2025-04-02/x.json"}
    assert {r.record for r in records} == {
        '{"fish_id": ',
        GOOD.replace('"age_days":1', '"age_days":true'),
    }
    assert sorted(r.reason.split(":")[0] for r in records) == [
        "field age_days",
        "malformed JSON line (each line must hold one whole JSON record; compact files with `zfish upload` or jq -c)",
    ]


def test_one_bad_element_of_an_array_line_spoils_only_itself(spark: SparkSession) -> None:
    line = '[{"fish_id":"f1","condition_developed":true},{"fish_id":"f2","condition_developed":"maybe"}]'
    checked = read_lines(spark, [line], schemas.OUTCOME_FIELDS).transform(
        quality.with_typed_fields(schemas.OUTCOME_FIELDS, schemas.REQUIRED_OUTCOME_FIELDS)
    )
    good, bad = quality.split(checked)
    assert [(r.fish_id, r.condition_developed) for r in good.collect()] == [("f1", True)]
    [record] = quality.quarantine_records(bad, "outcomes").collect()
    assert record.reason == "field condition_developed: expected true or false, got maybe"
    assert record.record == line
    assert record.element == 1


def test_split_drops_bookkeeping_from_good_rows_and_keeps_the_reason_on_bad(
    spark: SparkSession,
) -> None:
    from chispa import assert_df_equality

    df = spark.createDataFrame(
        [
            ("a", None, None, "l1", 0, "f"),
            ("b", "missing required field fish_id", None, "l2", 0, "f"),
        ],
        f"image_id string, {schemas.PROBLEM} string, {schemas.CORRUPT} string, "
        f"{schemas.RAW_LINE} string, {schemas.ELEMENT} int, {schemas.SOURCE_FILE} string",
    )
    good, bad = quality.split(df)
    assert_df_equality(
        good, spark.createDataFrame([("a", "f")], f"image_id string, {schemas.SOURCE_FILE} string")
    )
    assert_df_equality(bad, df.filter("image_id = 'b'"))


def test_drop_identical_duplicates_keeps_one_row_per_key(spark: SparkSession) -> None:
    from chispa import assert_df_equality

    df = spark.createDataFrame([("k1", 1), ("k1", 1), ("k2", 2)], "image_id string, v int")
    expected = spark.createDataFrame([("k1", 1), ("k2", 2)], "image_id string, v int")
    assert_df_equality(
        df.transform(quality.drop_identical_duplicates("image_id")), expected, ignore_row_order=True
    )


def test_unknown_fish_as_a_dataframe(spark: SparkSession) -> None:
    from chispa import assert_df_equality

    observations = spark.createDataFrame(
        [("f1", None), ("f2", "missing required field image_id")],
        f"fish_id string, {schemas.PROBLEM} string",
    )
    outcomes = spark.createDataFrame(
        [("f1", "2025-05-07"), ("f2", "2025-05-07")], f"fish_id string, {schemas.DAY} string"
    )
    expected = spark.createDataFrame(
        [
            ("f1", "2025-05-07", None),
            (
                "f2",
                "2025-05-07",
                "outcome for unknown fish f2: no observation of this fish in the partitions read",
            ),
        ],
        f"fish_id string, {schemas.DAY} string, {schemas.PROBLEM} string",
    )
    assert_df_equality(
        outcomes.transform(quality.with_unknown_fish(observations, None)),
        expected,
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_a_newer_timestamp_supersedes_and_only_the_newest_versions_can_conflict(
    spark: SparkSession,
) -> None:
    newer = GOOD.replace('"length_mm":2.4', '"length_mm":2.45').replace("04-02T", "04-06T")
    lines = [
        GOOD,
        newer,  # a corrected re-send of f1_01: it wins, the old one goes without a reason
        GOOD.replace("f1_01", "f1_03"),
        GOOD.replace("f1_01", "f1_03").replace("2.4", "7.7"),  # same time: a real conflict
        GOOD.replace("f1_01", "f1_03").replace("04-02T", "04-01T"),  # older: superseded
    ]
    checked = (
        read_lines(spark, lines)
        .transform(obs_checks)
        .transform(quality.with_conflicting_duplicates("image_id", newest="timestamp"))
    )
    good, bad = quality.split(checked)
    kept = good.transform(quality.drop_superseded("timestamp")).collect()
    assert [(r["image_id"], r["length_mm"]) for r in kept] == [("f1_01", 2.45)]
    assert quality.NEWEST not in good.transform(quality.drop_superseded("timestamp")).columns
    rejected = sorted(r["image_id"] for r in bad.collect())
    assert rejected == ["f1_03", "f1_03", "f1_03"]  # every version of a conflicting key


def test_a_re_sent_file_keeps_its_first_partition(spark: SparkSession, tmp_path: Path) -> None:
    from zfish.lake import partitions

    for day in ("2025-04-02", "2025-04-05"):
        (tmp_path / f"day={day}").mkdir()
        (tmp_path / f"day={day}" / "f1_01.json").write_text(GOOD)
    (tmp_path / "day=2025-04-05" / "f2_01.json").write_text(GOOD)
    found, _ = partitions.scan(tmp_path)
    first = sources.first_partitions_of_resent(found)
    assert first == {"f1_01.json": "2025-04-02"}
    df = spark.createDataFrame(
        [
            ("file:/x/day=2025-04-05/f1_01.json", "2025-04-05"),
            ("file:/x/day=2025-04-05/f2_01.json", "2025-04-05"),
        ],
        f"{schemas.SOURCE_FILE} string, {schemas.DAY} string",
    )
    moved = df.transform(quality.with_first_partition(first)).collect()
    assert [r[schemas.DAY] for r in moved] == ["2025-04-02", "2025-04-05"]
    assert df.transform(quality.with_first_partition({})) is df
