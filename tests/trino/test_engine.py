"""The Trino side of zfish itself: finding Java 24+, the install, the metastore mirror, --engine trino."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from tests.trino import differential as d
from tests.trino.conftest import Oracle
from zfish.catalog.query import run_query as run_duckdb
from zfish.cli import cli
from zfish.exceptions import PrerequisiteError
from zfish.trino import install, server
from zfish.trino.engine import athena_type
from zfish.trino.metastore import jsonl_copy
from zfish.trino.query import run_query as run_trino

if TYPE_CHECKING:
    from zfish.ml.notebooks import SmallLake


@pytest.mark.parametrize(
    ("trino_type", "athena"),
    [
        ("varchar(3)", "varchar"),
        ("decimal(2,1)", "decimal"),
        ("timestamp(3) with time zone", "timestamp with time zone"),
        ("array(row(a integer))", "array"),
        ("map(varchar(1), integer)", "map"),
        ("interval day to second", "interval day to second"),
        ("bigint", "bigint"),
    ],
)
def test_athena_type_names(trino_type: str, athena: str) -> None:
    assert athena_type(trino_type) == athena


def test_java_home_that_is_too_old_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "jdk17"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("")
    (home / "release").write_text('JAVA_VERSION="17.0.15"\n')
    monkeypatch.setenv(server.ENV_JAVA_HOME, str(home))
    with pytest.raises(PrerequisiteError, match="Java 24"):
        server.find_java()
    (home / "release").write_text('JAVA_VERSION="25.0.3"\n')
    assert server.find_java() == home / "bin" / "java"


def test_an_incomplete_trino_home_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lib").mkdir()
    monkeypatch.setenv(install.ENV_TRINO_HOME, str(tmp_path))
    with pytest.raises(PrerequisiteError, match="plugin"):
        install.find()


def test_jsonl_copy_gives_one_record_a_line(tmp_path: Path) -> None:
    source = tmp_path / "outcomes.json"
    records = [{"fish_id": "a", "condition_developed": True}, {"fish_id": "b"}]
    source.write_text(json.dumps(records) + "\n" + json.dumps({"fish_id": "c"}) + "\n")
    target = tmp_path / "copy" / "outcomes.json"
    jsonl_copy(source, target)
    lines = target.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [*records, {"fish_id": "c"}]


def test_as_of_is_refused_with_the_trino_engine(small_lake: SmallLake) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "--lake",
            str(small_lake.layout.root),
            "query",
            "--engine",
            "trino",
            "--as-of",
            "2025-05-20",
            "SELECT 1",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "--as-of" in result.output


def test_the_trino_engine_answers_as_the_corpus_says(small_lake: SmallLake, trino: Oracle) -> None:
    sql = (
        "SELECT treatment, count_if(condition_developed) AS positives, count(*) AS n "
        "FROM joined_fish_data GROUP BY treatment ORDER BY treatment"
    )
    theirs = run_trino(small_lake.layout, sql, server=trino.server)
    ours = run_duckdb(small_lake.layout, sql)
    assert theirs.table.column_names == ours.table.column_names
    assert theirs.table.to_pylist() == ours.table.to_pylist()
    assert any("Trino 476" in note for note in theirs.notes)
    outcome = d.trino_outcome(trino.engine, "SELECT count(*) FROM outcomes")
    assert outcome.rows == ((ours_count(small_lake),),)


def ours_count(lake: SmallLake) -> int:
    value = run_duckdb(lake.layout, "SELECT count(*) FROM outcomes").table.column(0)[0].as_py()
    assert isinstance(value, int)
    return value
