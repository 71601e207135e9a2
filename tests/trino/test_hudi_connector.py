"""Trino's Hudi connector (Athena's read path for Hudi) reads the table zfish writes.

A short season of evenings, written in turn by zfish's native writer and by
the JVM Hudi writer (``--writer spark-hudi``), then read by Trino 476 through
the Hive catalog's redirect and through the Hudi catalog directly. Its
answers must equal hudi-rs's and zfish's: the row count, every column's
values and types, the ``$timeline`` metadata table and a partition-pruned
query.
"""

from __future__ import annotations

from datetime import UTC, date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.trino import differential as d
from tests.trino.conftest import Oracle
from zfish import fishtable
from zfish.pipeline import job
from zfish.settings import LakeLayout
from zfish.trino.metastore import mirror

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.spark, pytest.mark.slow]

DATABASE = "season"
# Native, JVM, native: each writer reads and extends the other's table.
EVENINGS = (
    (date(2025, 5, 8), job.WRITER_NATIVE),
    (date(2025, 5, 12), job.WRITER_SPARK_HUDI),
    (date(2025, 5, 16), job.WRITER_NATIVE),
)
KEY = "_hoodie_record_key"


@pytest.fixture(scope="module")
def season(
    spark_hudi: SparkSession,
    default_study: Path,
    trino: Oracle,
    tmp_path_factory: pytest.TempPathFactory,
) -> LakeLayout:
    from zfish.simulate import evening

    layout = LakeLayout(root=tmp_path_factory.mktemp("season") / "lake")
    for day, writer in EVENINGS:
        evening(spark_hudi, default_study, layout, day, writer=writer, show_progress=False)
    mirror(layout, trino.server.metastore, trino.copies / DATABASE, database_name=DATABASE)
    return layout


def _hudi_rs_rows(layout: LakeLayout) -> list[dict[str, Any]]:
    rows = fishtable.read(layout.table).to_pylist()
    for row in rows:  # Glue registers the column as timestamp without zone, in UTC
        row["timestamp"] = row["timestamp"].astimezone(UTC).replace(tzinfo=None)
    return sorted(rows, key=lambda r: r[KEY])


def test_the_season_used_both_writers(season: LakeLayout) -> None:
    commits = fishtable.commits(season.table)
    assert len(commits) == len(EVENINGS)


@pytest.mark.parametrize(
    "table", [f"awsdatacatalog.{DATABASE}.joined_fish_data", f"hudi.{DATABASE}.joined_fish_data"]
)
def test_every_row_and_column_equals_hudi_rs(season: LakeLayout, trino: Oracle, table: str) -> None:
    result = trino.engine.execute(f"SELECT * FROM {table} ORDER BY {KEY}")
    expected = _hudi_rs_rows(season)
    assert len(result.rows) == len(expected) > 0
    got = [dict(zip(result.names, row, strict=True)) for row in result.rows]
    assert [sorted(r) for r in got] == [sorted(r) for r in expected]
    assert got == expected


def test_column_types_equal_zfish(season: LakeLayout, trino: Oracle) -> None:
    sql = "SELECT * FROM joined_fish_data"
    ours = d.zfish_outcome(season, sql)
    theirs = trino.engine.execute(f"SELECT * FROM hudi.{DATABASE}.joined_fish_data")
    assert ours.error is None, ours.message
    assert list(ours.types) == theirs.athena_types
    assert len(ours.rows) == len(theirs.rows)


def test_counts_and_sums_equal_zfish(season: LakeLayout, trino: Oracle) -> None:
    sql = (
        "SELECT count(*), count(DISTINCT fish_id), sum(age_days), count_if(condition_developed), "
        "count(DISTINCT _hoodie_commit_time) FROM {t}"
    )
    ours = d.zfish_outcome(season, sql.format(t="joined_fish_data"))
    theirs = d.trino_outcome(trino.engine, sql.format(t=f"{DATABASE}.joined_fish_data"))
    assert ours.error is None, ours.message
    assert theirs.error is None, theirs.message
    assert ours == theirs


def test_timeline_lists_the_commits(season: LakeLayout, trino: Oracle) -> None:
    result = trino.engine.execute(
        f'SELECT timestamp, action, state FROM hudi.{DATABASE}."joined_fish_data$timeline" '
        "ORDER BY timestamp"
    )
    commits = fishtable.commits(season.table)
    completed = [(t, a) for t, a, s in result.rows if s == "COMPLETED"]
    assert [t for t, _ in completed] == [c.instant for c in commits]
    assert {a for _, a in completed} <= {"commit", "replacecommit", "clean"}


def test_partition_pruned_query_equals_hudi_rs(season: LakeLayout, trino: Oracle) -> None:
    rows = _hudi_rs_rows(season)
    day = sorted({r["day"] for r in rows})[len({r["day"] for r in rows}) // 2]
    sql = "SELECT count(*), min(image_id), max(length_mm) FROM {t} WHERE day = '" + day + "'"
    theirs = trino.engine.execute(sql.format(t=f"hudi.{DATABASE}.joined_fish_data"))
    ours = d.zfish_outcome(season, sql.format(t="joined_fish_data"))
    in_day = [r for r in rows if r["day"] == day]
    assert in_day, day
    expected = (
        len(in_day),
        min(r["image_id"] for r in in_day),
        max(r["length_mm"] for r in in_day),
    )
    assert theirs.rows == [expected]
    assert ours.rows == (expected,)
    plan = trino.engine.execute(
        "EXPLAIN ANALYZE " + sql.format(t=f"hudi.{DATABASE}.joined_fish_data")
    )
    text = "\n".join(str(r[0]) for r in plan.rows)
    # Pruned: the scan read only the partition's rows, and no filter was left to apply.
    scan = text[text.index("TableScan[") :]
    assert f"Input: {len(in_day)} rows" in scan, scan
    assert "Filter" not in text
