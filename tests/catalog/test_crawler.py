"""The crawler: tables, Glue types, exactly the partitions present at crawl time, and what changed."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.support import write_study
from zfish.catalog import crawler, glue
from zfish.catalog.query import run_query
from zfish.lake.upload import upload
from zfish.settings import LakeLayout

DAYS = [date(2025, 5, 6) + timedelta(days=i) for i in range(5)]  # 05-06 .. 05-10


@pytest.fixture
def study(tmp_path: Path) -> Path:
    return write_study(tmp_path / "synthetic_data", DAYS)


@pytest.fixture
def layout(tmp_path: Path) -> LakeLayout:
    return LakeLayout(root=tmp_path / "lake")


def count(layout: LakeLayout, table: str) -> int:
    result = run_query(layout, f'SELECT count(*) AS n FROM "zebra_fish_demo"."{table}"')
    return int(result.table.column("n")[0].as_py())


def test_crawl_registers_tables_with_glue_types_and_partitions(
    study: Path, layout: LakeLayout
) -> None:
    upload(study, layout, date(2025, 5, 9), show_progress=False)
    report = crawler.crawl(layout)
    assert report.tables["observations"].created
    assert report.tables["observations"].partitions_added == [
        "2025-05-06",
        "2025-05-07",
        "2025-05-08",
    ]
    tables = glue.load_tables(layout)
    assert set(tables) == {"observations", "outcomes"}
    obs = {c.name: c.glue_type for c in tables["observations"].columns}
    assert obs == {
        "fish_id": "string",
        "image_id": "string",
        "timestamp": "string",
        "age_days": "bigint",
        "treatment": "string",
        "genetic_markers": "struct<gene_a:boolean,gene_b:boolean,gene_c:boolean>",
        "length_mm": "double",
    }
    assert tables["observations"].partition_keys == ("day",)
    assert {c.name: c.glue_type for c in tables["outcomes"].columns} == {
        "fish_id": "string",
        "condition_developed": "boolean",
    }
    assert layout.catalog_db.is_file()


def test_new_partitions_are_invisible_until_the_next_crawl(study: Path, layout: LakeLayout) -> None:
    upload(study, layout, date(2025, 5, 9), show_progress=False)
    crawler.crawl(layout)
    assert count(layout, "outcomes") == 3 * 2
    assert count(layout, "observations") == 3 * 3

    upload(study, layout, date(2025, 5, 10), show_progress=False)
    assert count(layout, "outcomes") == 3 * 2  # uploaded, not crawled: Athena would not see it

    report = crawler.crawl(layout)
    assert report.tables["outcomes"].partitions_added == ["2025-05-09"]
    assert not report.tables["outcomes"].created
    assert count(layout, "outcomes") == 4 * 2

    again = crawler.crawl(layout)
    assert all(not t.partitions_added for t in again.tables.values())


def test_schema_changes_and_removed_partitions_are_reported(
    study: Path, layout: LakeLayout
) -> None:
    upload(study, layout, date(2025, 5, 8), show_progress=False)
    crawler.crawl(layout)
    src = next((study / "observations" / "day=2025-05-08").glob("*.json"))
    record = json.loads(src.read_text())
    record["sex"] = "female"
    src.write_text(json.dumps(record))
    upload(study, layout, date(2025, 5, 9), show_progress=False)
    for leftover in (layout.outcomes / "day=2025-05-06").iterdir():
        leftover.unlink()
    (layout.outcomes / "day=2025-05-06").rmdir()

    report = crawler.crawl(layout)
    assert report.tables["observations"].schema_changes == ["added column sex (string)"]
    assert report.tables["outcomes"].partitions_removed == ["2025-05-06"]
    assert count(layout, "outcomes") == 2 * 2
    rows = dict(report.rows())
    assert "zebra_fish_demo.outcomes" in rows


def test_folders_that_are_not_partitions_are_reported_not_catalogued(
    study: Path, layout: LakeLayout
) -> None:
    upload(study, layout, date(2025, 5, 8), show_progress=False)
    (layout.observations / "tmp").mkdir()
    report = crawler.crawl(layout)
    assert [p.path.name for p in report.problems] == ["tmp"]
    assert glue.load_tables(layout)["observations"].partitions == ("2025-05-06", "2025-05-07")


def test_catalog_survives_moving_the_lake(study: Path, layout: LakeLayout, tmp_path: Path) -> None:
    upload(study, layout, date(2025, 5, 8), show_progress=False)
    crawler.crawl(layout)
    moved = LakeLayout(root=tmp_path / "moved")
    layout.root.rename(moved.root)
    assert count(moved, "observations") == 6


def test_catalog_file_holds_views_anyone_can_query_with_duckdb(
    study: Path, layout: LakeLayout
) -> None:
    import duckdb

    upload(study, layout, date(2025, 5, 9), show_progress=False)
    crawler.crawl(layout)
    con = duckdb.connect(str(layout.catalog_db), read_only=True)
    try:
        outcomes = con.execute('SELECT count(*) FROM "zebra_fish_demo"."outcomes"').fetchone()
        days = con.execute(
            'SELECT DISTINCT day FROM "zebra_fish_demo"."observations" ORDER BY 1'
        ).fetchall()
        markers = con.execute(
            'SELECT genetic_markers.gene_a FROM "zebra_fish_demo"."observations" LIMIT 1'
        ).fetchone()
    finally:
        con.close()
    assert outcomes == (count(layout, "outcomes"),)
    assert days == [("2025-05-06",), ("2025-05-07",), ("2025-05-08",)]
    assert markers == (True,)
