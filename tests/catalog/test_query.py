"""Athena-style queries: the seed's SQL verbatim, readable output, and strictly read-only."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner

from tests.support import write_study
from zfish.catalog import crawler
from zfish.catalog.query import run_query
from zfish.catalog.render import athena_text
from zfish.cli import cli
from zfish.exceptions import QueryError
from zfish.lake.upload import upload
from zfish.settings import LakeLayout


@pytest.fixture
def layout(tmp_path: Path) -> LakeLayout:
    study = write_study(tmp_path / "synthetic_data", [date(2025, 5, 7), date(2025, 5, 8)])
    lake = LakeLayout(root=tmp_path / "lake")
    upload(study, lake, date(2025, 5, 9), show_progress=False)
    crawler.crawl(lake)
    return lake


def test_seed_statements_run_verbatim(layout: LakeLayout) -> None:
    obs = run_query(layout, 'SELECT * FROM "zebra_fish_demo"."observations" limit 10;').table
    assert obs.num_rows == 6
    assert obs.column_names == [
        "fish_id",
        "image_id",
        "timestamp",
        "age_days",
        "treatment",
        "genetic_markers",
        "length_mm",
        "day",
    ]
    outcomes = run_query(layout, 'SELECT * FROM "zebra_fish_demo"."outcomes" limit 3;').table
    assert outcomes.column_names == ["fish_id", "condition_developed", "day"]
    assert outcomes.num_rows == 3
    assert set(outcomes.column("day").to_pylist()) <= {"2025-05-07", "2025-05-08"}


@pytest.mark.parametrize(
    "sql",
    [
        "COPY (SELECT 1) TO '/tmp/zfish-should-not-exist.csv'",
        'INSERT INTO "zebra_fish_demo"."outcomes" VALUES (1)',
        'DROP VIEW "zebra_fish_demo"."outcomes"',
        "ATTACH '/tmp/other.duckdb'",
        "SET threads = 1",
        "SELECT 1; SELECT 2",
    ],
)
def test_only_single_read_statements_are_allowed(layout: LakeLayout, sql: str) -> None:
    with pytest.raises(QueryError):
        run_query(layout, sql)
    assert not Path("/tmp/zfish-should-not-exist.csv").exists()


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        (
            "SELECT * FROM read_csv('/etc/hostname')",
            "FUNCTION_NOT_FOUND: line 1:15: Table function 'read_csv'",
        ),
        ("SELECT read_text('/etc/hostname')", "FUNCTION_NOT_FOUND: line 1:8: Function 'read_text'"),
        ("SELECT * FROM '/etc/hostname'", "TABLE_NOT_FOUND"),
    ],
)
def test_files_outside_the_dataset_cannot_be_read(layout: LakeLayout, sql: str, error: str) -> None:
    with pytest.raises(QueryError, match=re.escape(error)):
        run_query(layout, sql)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            'SELECT * FROM "zebra_fish_demo"."nope"',
            "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.zebra_fish_demo.nope' does not exist",
        ),
        (
            "SELECT * FROM other.outcomes",
            "SCHEMA_NOT_FOUND: line 1:15: Schema 'other' does not exist",
        ),
        (
            "SELECT * FROM hive.zebra_fish_demo.outcomes",
            "CATALOG_NOT_FOUND: line 1:15: Catalog 'hive' does not exist",
        ),
        ("SELECT foo(1)", "FUNCTION_NOT_FOUND: line 1:8: Function 'foo' not registered"),
        (
            "SELECT fish_id,\n       nope\nFROM outcomes",
            "COLUMN_NOT_FOUND: line 2:8: Column 'nope' cannot be resolved or requester is not "
            "authorized to access requested resources",
        ),
        ("SELECT fish_id FROM", "SYNTAX_ERROR: line 1:"),
        ("SELECT * FROM outcomes WHERE", "SYNTAX_ERROR"),
        ("SELECT 1; SELECT 2", "NOT_SUPPORTED: only one SQL statement is allowed, got 2"),
        (
            "INSERT INTO outcomes VALUES (1)",
            "NOT_SUPPORTED: line 1:1: INSERT is refused: queries are read-only",
        ),
        ("CREATE TABLE x AS SELECT 1", "NOT_SUPPORTED: line 1:1: CREATE is refused"),
        ("DROP TABLE outcomes", "NOT_SUPPORTED: line 1:1: DROP is refused"),
        ("DELETE FROM outcomes", "NOT_SUPPORTED: line 1:1: DELETE is refused"),
        ("UPDATE outcomes SET fish_id = 'x'", "NOT_SUPPORTED: line 1:1: UPDATE is refused"),
        (
            "MERGE INTO outcomes t USING outcomes s ON t.fish_id = s.fish_id WHEN MATCHED THEN DELETE",
            "NOT_SUPPORTED: line 1:1: MERGE is refused",
        ),
        ("ALTER TABLE outcomes ADD COLUMNS (x int)", "NOT_SUPPORTED: line 1:1: ALTER is refused"),
        ("  SET threads = 1", "NOT_SUPPORTED: line 1:3: SET statements are not supported"),
        (
            "SELECT * FROM outcomes FOR VERSION AS OF 1",
            "NOT_SUPPORTED: line 1:15: FOR VERSION AS OF needs a table with history",
        ),
        (
            "SELECT approx_percentile(fish_id, 2, 0.5) FROM outcomes",
            "NOT_SUPPORTED: zfish cannot emulate this",
        ),
    ],
)
def test_athena_error_names_and_positions(layout: LakeLayout, sql: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        run_query(layout, sql)
    assert str(info.value).startswith(message)


def test_as_of_without_the_hudi_table_is_a_clear_error(layout: LakeLayout) -> None:
    with pytest.raises(QueryError, match="joined_fish_data"):
        run_query(layout, 'SELECT * FROM "zebra_fish_demo"."outcomes"', as_of="2025-05-08")


def test_cli_formats(layout: LakeLayout) -> None:
    runner = CliRunner()
    base = ["--lake", str(layout.root), "query"]
    csv_out = runner.invoke(
        cli,
        [
            *base,
            'SELECT fish_id, condition_developed FROM "zebra_fish_demo"."outcomes" ORDER BY fish_id, day',
            "--format",
            "csv",
        ],
    )
    assert csv_out.exit_code == 0, csv_out.output
    assert csv_out.stdout.splitlines()[:2] == [
        '"fish_id","condition_developed"',
        '"zfish_00000","true"',
    ]
    json_out = runner.invoke(
        cli,
        [
            *base,
            'SELECT genetic_markers FROM "zebra_fish_demo"."observations" LIMIT 1',
            "--format",
            "json",
        ],
    )
    assert json.loads(json_out.stdout.splitlines()[0]) == {
        "genetic_markers": {"gene_a": True, "gene_b": False, "gene_c": True}
    }
    table_out = runner.invoke(
        cli, [*base, 'SELECT genetic_markers FROM "zebra_fish_demo"."observations" LIMIT 1']
    )
    assert "{gene_a=true, gene_b=false, gene_c=true}" in table_out.stdout
    refused = runner.invoke(cli, [*base, "DELETE FROM x"])
    assert refused.exit_code == 1
    assert "read-only" in refused.output
    counts = runner.invoke(
        cli,
        [
            *base,
            'SELECT count_if(condition_developed) AS n, count(*), "$path" FROM outcomes GROUP BY 3 ORDER BY 3',
            "--format",
            "json",
        ],
    )
    assert counts.exit_code == 0, counts.output
    first = json.loads(counts.stdout.splitlines()[0])
    assert first == {
        "n": 1,
        "_col1": 2,
        "$path": "s3://my-data-bucket/use-cases/fish-demo/outcomes/day=2025-05-07/outcomes.json",
    }
    typed = runner.invoke(
        cli,
        [
            *base,
            "SELECT from_iso8601_timestamp('2025-05-10T12:00:00Z') AS z, TIMESTAMP '2025-05-10 12:00:00' AS t, "
            "DATE '2025-05-10' AS d, CAST(1.5 AS decimal(4, 2)) AS m, ARRAY[1, 3, 5] AS a, NULL AS x, '' AS e",
            "--format",
            "csv",
        ],
    )
    assert typed.stdout.splitlines() == [
        '"z","t","d","m","a","x","e"',
        '"2025-05-10 12:00:00.000 UTC","2025-05-10 12:00:00.000","2025-05-10","1.50","[1, 3, 5]",,""',
    ]
    as_json = runner.invoke(
        cli,
        [
            *base,
            "SELECT CAST(1.5 AS decimal(4, 2)) AS m, sum(age_days) AS s FROM observations",
            "--format",
            "json",
        ],
    )
    assert as_json.stdout.strip() == '{"m": 1.5, "s": 6}'


def test_missing_catalog_says_to_crawl(tmp_path: Path) -> None:
    with pytest.raises(QueryError, match="zfish crawl"):
        run_query(LakeLayout(root=tmp_path / "empty"), "SELECT 1")


def test_athena_text_rendering() -> None:
    assert athena_text({"a": True, "b": None}) == "{a=true, b=}"
    assert athena_text(None) == ""
    assert athena_text([1, 2]) == "[1, 2]"
    assert athena_text([("k", 1)], pa.map_(pa.string(), pa.int64())) == "{k=1}"


def test_output_column_names_follow_trino(layout: LakeLayout) -> None:
    table = run_query(
        layout,
        "SELECT count(*), fish_id, o.genetic_markers.gene_a, 1 + 1 AS two FROM observations o "
        "GROUP BY fish_id, o.genetic_markers.gene_a ORDER BY 2",
    ).table
    assert table.column_names == ["_col0", "fish_id", "gene_a", "two"]


def test_unqualified_and_case_insensitive_names(layout: LakeLayout) -> None:
    a = run_query(layout, "SELECT count(*) FROM OUTCOMES").table.column(0).to_pylist()
    b = run_query(layout, 'SELECT count(*) FROM "ZEBRA_FISH_DEMO"."outcomes"').table
    assert a == b.column(0).to_pylist() == [4]


def test_timeline_without_a_table_says_what_to_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--lake", str(tmp_path / "lake"), "timeline"])
    assert result.exit_code == 2
    assert "zfish simulate" in result.output
