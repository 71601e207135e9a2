"""The crawler: tables, Glue types, exactly the partitions present at crawl time, and what changed."""

from __future__ import annotations

import json
import shutil
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
        "age_days": "int",  # Glue's JSON classifier: a number that fits 32 bits
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
    assert report.tables["observations"].schema_changes == [
        f"added column sex (string) in day=2025-05-08 ({src.name})"
    ]
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


# --- schema changes (UPDATE_IN_DATABASE), versions, deleted partitions (DELETE_FROM_DATABASE) ---

BASE = {"fish_id": "f1", "image_id": "f1_01", "age_days": 1, "genetic_markers": {"gene_a": True}}


def put(layout: LakeLayout, day: str, name: str, *records: dict[str, object]) -> Path:
    """One observation file in the lake (one compact record per line)."""
    folder = layout.observations / f"day={day}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def obs_types(layout: LakeLayout) -> dict[str, str]:
    return {c.name: c.glue_type for c in glue.load_tables(layout)["observations"].columns}


def test_a_new_field_in_a_later_partition_adds_a_column(layout: LakeLayout) -> None:
    put(layout, "2025-05-01", "a.json", BASE)
    crawler.crawl(layout)
    path = put(layout, "2025-05-02", "b.json", {**BASE, "weight_mg": 3})
    change = crawler.crawl(layout).tables["observations"]
    assert change.schema_changes == [
        f"added column weight_mg (int) in day=2025-05-02 ({path.name})"
    ]
    assert change.version == 1
    assert obs_types(layout)["weight_mg"] == "int"
    rows = run_query(
        layout, 'SELECT day, weight_mg FROM "zebra_fish_demo"."observations" ORDER BY day'
    ).table.to_pylist()
    assert rows == [{"day": "2025-05-01", "weight_mg": None}, {"day": "2025-05-02", "weight_mg": 3}]


@pytest.mark.parametrize(
    ("first", "later", "old", "new"),
    [
        (1, 2**40, "int", "bigint"),
        (2**40, 0.5, "bigint", "double"),
        (1, 0.5, "int", "double"),
        (1, "one", "int", "string"),
        (True, "yes", "boolean", "string"),
    ],
)
def test_a_type_change_in_a_later_partition_widens_the_column(
    layout: LakeLayout, first: object, later: object, old: str, new: str
) -> None:
    put(layout, "2025-05-01", "a.json", {**BASE, "v": first})
    crawler.crawl(layout)
    path = put(layout, "2025-05-02", "b.json", {**BASE, "v": later})
    report = crawler.crawl(layout)
    change = report.tables["observations"]
    assert change.schema_changes == [f"widened v {old} -> {new} in day=2025-05-02 ({path.name})"]
    assert obs_types(layout)["v"] == new
    assert not report.problems
    values = run_query(
        layout, 'SELECT v FROM "zebra_fish_demo"."observations" ORDER BY day'
    ).table.column("v")
    assert len(values) == 2
    assert values[1].as_py() is not None  # both partitions read with the widened type


def test_struct_fields_merge_and_widen_inside_the_struct(layout: LakeLayout) -> None:
    put(layout, "2025-05-01", "a.json", {**BASE, "m": {"w": 1}})
    crawler.crawl(layout)
    put(
        layout,
        "2025-05-02",
        "b.json",
        {**BASE, "genetic_markers": {"gene_a": False, "gene_d": True}, "m": {"w": 0.5}},
    )
    change = crawler.crawl(layout).tables["observations"]
    assert [n.split(" in ")[0] for n in change.schema_changes] == [
        "added field genetic_markers.gene_d (boolean)",
        "widened m.w int -> double",
    ]
    assert obs_types(layout)["genetic_markers"] == "struct<gene_a:boolean,gene_d:boolean>"
    result = run_query(
        layout,
        'SELECT genetic_markers.gene_d AS d, m.w AS w FROM "zebra_fish_demo"."observations" ORDER BY day',
    ).table.to_pylist()
    assert result == [{"d": None, "w": 1.0}, {"d": True, "w": 0.5}]


def test_a_conflict_names_table_column_types_partition_and_file_and_leaves_it_out(
    layout: LakeLayout,
) -> None:
    put(layout, "2025-05-01", "a.json", BASE)
    crawler.crawl(layout)
    put(layout, "2025-05-02", "ok.json", BASE)
    bad = put(layout, "2025-05-02", "bad.json", {**BASE, "genetic_markers": "none"})
    report = crawler.crawl(layout)
    change = report.tables["observations"]
    assert change.conflicts == [
        crawler.Conflict(
            "observations",
            "genetic_markers",
            "struct<gene_a:boolean>",
            "string",
            "2025-05-02",
            bad,
        )
    ]
    assert change.version is None  # the table did not change
    assert glue.load_tables(layout)["observations"].partitions == ("2025-05-01",)
    assert [p.path for p in report.problems] == [bad]
    assert (
        "observations.genetic_markers: the table has struct<gene_a:boolean>, this file has string"
        in report.problems[0].reason
    )
    assert "day=2025-05-02 is not catalogued" in report.problems[0].reason
    assert any(k == "  conflict" and "bad.json" in v for k, v in report.rows())

    bad.unlink()  # fixed: the partition is catalogued by the next crawl
    again = crawler.crawl(layout)
    assert again.tables["observations"].partitions_added == ["2025-05-02"]
    assert not again.problems


def test_a_conflict_between_partitions_keeps_the_earlier_type(layout: LakeLayout) -> None:
    put(layout, "2025-05-01", "a.json", {**BASE, "tags": ["x"]})
    clash = put(layout, "2025-05-02", "b.json", {**BASE, "tags": "x"})
    report = crawler.crawl(layout)
    (conflict,) = report.tables["observations"].conflicts
    assert (conflict.column, conflict.old, conflict.new, conflict.partition, conflict.file) == (
        "tags",
        "array<string>",
        "string",
        "2025-05-02",
        clash,
    )
    assert obs_types(layout)["tags"] == "array<string>"


def test_history_keeps_every_version_and_only_real_changes_make_one(layout: LakeLayout) -> None:
    put(layout, "2025-05-01", "a.json", BASE)
    crawler.crawl(layout)
    put(layout, "2025-05-02", "b.json", BASE)  # a new partition, same schema
    assert crawler.crawl(layout).tables["observations"].version is None
    assert crawler.crawl(layout).tables["observations"].version is None  # nothing at all
    put(layout, "2025-05-03", "c.json", {**BASE, "age_days": 0.5})
    assert crawler.crawl(layout).tables["observations"].version == 1

    versions = glue.load_versions(layout, "observations")
    assert [v.version_id for v in versions] == [0, 1]
    assert versions[0].changes == ("created with 4 columns",)
    assert versions[1].changes == ("widened age_days int -> double in day=2025-05-03 (c.json)",)
    assert {c.name: c.glue_type for c in versions[0].columns}["age_days"] == "int"
    assert {c.name: c.glue_type for c in versions[1].columns}["age_days"] == "double"
    assert versions[0].created_at <= versions[1].created_at


def test_a_version_lands_in_the_same_transaction_as_the_change(
    layout: LakeLayout, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(layout, "2025-05-01", "a.json", BASE)
    crawler.crawl(layout)
    put(layout, "2025-05-02", "b.json", {**BASE, "extra": 1})

    def boom(*args: object) -> None:
        raise RuntimeError("crash after the table was updated")

    monkeypatch.setattr(glue, "put_partitions", boom)
    with pytest.raises(RuntimeError):
        crawler.crawl(layout)
    assert "extra" not in obs_types(layout)
    assert [v.version_id for v in glue.load_versions(layout, "observations")] == [0]


def test_deleted_partitions_are_dropped_and_reported(layout: LakeLayout) -> None:
    for day in ("2025-05-01", "2025-05-02", "2025-05-03"):
        put(layout, day, "a.json", BASE)
    crawler.crawl(layout)
    shutil.rmtree(layout.observations / "day=2025-05-01")  # the folder is gone
    (layout.observations / "day=2025-05-02" / "a.json").unlink()  # only its files are gone
    report = crawler.crawl(layout)
    change = report.tables["observations"]
    assert change.partitions_removed == ["2025-05-01", "2025-05-02"]
    assert glue.load_tables(layout)["observations"].partitions == ("2025-05-03",)
    assert ("  removed partitions", "2025-05-01, 2025-05-02") in report.rows()


def test_a_column_only_deleted_partitions_held_is_removed(layout: LakeLayout) -> None:
    put(layout, "2025-05-01", "a.json", BASE)
    put(layout, "2025-05-02", "b.json", {**BASE, "sex": "F"})
    crawler.crawl(layout)
    shutil.rmtree(layout.observations / "day=2025-05-02")
    change = crawler.crawl(layout).tables["observations"]
    assert change.schema_changes == [
        "removed column sex: no catalogued partition holds it any more"
    ]
    assert "sex" not in obs_types(layout)


def test_a_table_with_no_partition_left_is_deleted(study: Path, layout: LakeLayout) -> None:
    upload(study, layout, date(2025, 5, 8), show_progress=False)
    crawler.crawl(layout)
    shutil.rmtree(layout.outcomes)
    report = crawler.crawl(layout)
    assert report.tables["outcomes"].deleted
    assert set(glue.load_tables(layout)) == {"observations"}
    assert ("zebra_fish_demo.outcomes", "deleted: no partition left in the lake") in report.rows()


def test_recrawl_reads_only_partitions_whose_files_changed(
    layout: LakeLayout, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zfish.catalog import jsontypes

    put(layout, "2025-05-01", "a.json", BASE)
    put(layout, "2025-05-02", "b.json", BASE)
    crawler.crawl(layout)
    read: list[str] = []
    original = jsontypes.infer_file

    def spy(path: Path, clashes: object = None) -> object:
        read.append(path.parent.name)
        return original(path, clashes)  # type: ignore[arg-type]

    monkeypatch.setattr(jsontypes, "infer_file", spy)
    crawler.crawl(layout)
    assert read == []
    # CRAWL_EVERYTHING: a changed file in an old partition is seen, and widens the column.
    put(layout, "2025-05-01", "a.json", {**BASE, "age_days": 2**40})
    change = crawler.crawl(layout).tables["observations"]
    assert read == ["day=2025-05-01"]
    assert change.schema_changes == ["widened age_days int -> bigint in day=2025-05-01 (a.json)"]


def test_an_invalid_file_is_reported_on_every_crawl_until_fixed(layout: LakeLayout) -> None:
    put(layout, "2025-05-01", "a.json", BASE)
    (layout.observations / "day=2025-05-01" / "broken.json").write_text('{"fish_id": ')
    for _ in range(2):
        report = crawler.crawl(layout)
        assert [p.path.name for p in report.problems] == ["broken.json"]
    assert glue.load_tables(layout)["observations"].partitions == ("2025-05-01",)


def test_nothing_to_crawl_fails_and_writes_nothing(tmp_path: Path) -> None:
    from zfish.exceptions import EXIT_USAGE, ValidationError

    mistyped = LakeLayout(root=tmp_path / "lkae")
    (mistyped.observations / "2025-05-01").mkdir(parents=True)  # not a day= folder
    with pytest.raises(ValidationError) as caught:
        crawler.crawl(mistyped)
    message = str(caught.value)
    assert str(mistyped.observations) in message
    assert "--lake" in message
    assert "2025-05-01" in message  # what was found instead
    assert caught.value.exit_code == EXIT_USAGE
    assert not mistyped.catalog_dir.exists()
