"""Athena-style queries: the seed's SQL verbatim, readable output, and strictly read-only."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

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
        ("SELECT * FROM read_csv('/etc/hostname')", "FUNCTION_NOT_FOUND: line 1:15: Table function 'read_csv'"),
        ("SELECT read_text('/etc/hostname')", "FUNCTION_NOT_FOUND: line 1:8: Function 'read_text'"),
        ("SELECT * FROM '/etc/hostname'", "SYNTAX_ERROR"),
    ],
)
def test_files_outside_the_dataset_cannot_be_read(layout: LakeLayout, sql: str, error: str) -> None:
    with pytest.raises(QueryError, match=re.escape(error)):
        run_query(layout, sql)


def test_unknown_table_lists_the_catalogued_ones(layout: LakeLayout) -> None:
    with pytest.raises(QueryError, match=re.escape('"zebra_fish_demo"."observations"')):
        run_query(layout, 'SELECT * FROM "zebra_fish_demo"."nope"')


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
    assert csv_out.stdout.splitlines()[:2] == ["fish_id,condition_developed", "zfish_00000,True"]
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


def test_missing_catalog_says_to_crawl(tmp_path: Path) -> None:
    with pytest.raises(QueryError, match="zfish crawl"):
        run_query(LakeLayout(root=tmp_path / "empty"), "SELECT 1")


def test_athena_text_rendering() -> None:
    assert athena_text({"a": True, "b": None}) == "{a=true, b=}"
    assert athena_text(None) == ""
    assert athena_text([1, 2]) == "[1, 2]"


def test_timeline_without_a_table_says_what_to_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--lake", str(tmp_path / "lake"), "timeline"])
    assert result.exit_code == 2
    assert "zfish simulate" in result.output
