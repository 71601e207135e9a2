"""Every ``zfish query`` example of README's Athena SQL section runs as written, and time travel."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from zfish.catalog.query import run_query
from zfish.cli import cli

if TYPE_CHECKING:
    from zfish.ml.notebooks import SmallLake

pytestmark = pytest.mark.spark

README = Path(__file__).resolve().parents[2] / "README.md"


def _examples() -> list[list[str]]:
    text = README.read_text()
    block = text.split("<!-- readme-query-examples", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [shlex.split(line)[1:] for line in block.strip().splitlines()]


def test_the_readme_has_query_examples() -> None:
    examples = _examples()
    assert len(examples) >= 8
    assert all(args[0] == "query" for args in examples)


@pytest.mark.parametrize("args", _examples(), ids=lambda a: re.sub(r"\W+", "_", a[1])[:40])
def test_readme_example_runs(small_lake: SmallLake, args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["--lake", str(small_lake.layout.root), *args])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines, result.output
    if "--format" in args and args[args.index("--format") + 1] == "json":
        assert all(isinstance(json.loads(line), dict) for line in lines)


def test_for_version_as_of_reads_an_evening_and_says_it_is_an_extension(
    small_lake: SmallLake,
) -> None:
    from zfish import fishtable

    table = small_lake.layout.table
    first = fishtable.resolve_as_of(table, "2025-05-10")
    expected = fishtable.read(table, as_of=first).num_rows
    latest = fishtable.read(table).num_rows
    assert expected < latest
    result = run_query(
        small_lake.layout,
        "SELECT count(*) FROM joined_fish_data FOR VERSION AS OF '2025-05-10'",
    )
    assert result.table.column(0).to_pylist() == [expected]
    assert result.as_of_instant == first
    assert any("zfish extension" in note and "Iceberg" in note for note in result.notes)
    by_instant = run_query(
        small_lake.layout, f"SELECT count(*) FROM joined_fish_data FOR VERSION AS OF {first}"
    )
    assert by_instant.table.column(0).to_pylist() == [expected]
    both = run_query(
        small_lake.layout,
        "SELECT (SELECT count(*) FROM joined_fish_data FOR VERSION AS OF '2025-05-10'), "
        "(SELECT count(*) FROM joined_fish_data)",
    )
    assert list(both.table.to_pylist()[0].values()) == [expected, latest]
    assert run_query(
        small_lake.layout, "SELECT count(*) FROM joined_fish_data", as_of="2025-05-10"
    ).table.column(0).to_pylist() == [expected]


def test_for_timestamp_as_of_uses_commit_time(small_lake: SmallLake) -> None:
    from zfish import fishtable

    commits = fishtable.commits(small_lake.layout.table)
    second = commits[1].instant
    stamp = f"{second[:4]}-{second[4:6]}-{second[6:8]} {second[8:10]}:{second[10:12]}:{second[12:14]}.{second[14:17]}"
    expected = fishtable.read(small_lake.layout.table, as_of=second).num_rows
    result = run_query(
        small_lake.layout,
        f"SELECT count(*) FROM joined_fish_data FOR TIMESTAMP AS OF TIMESTAMP '{stamp}'",
    )
    assert result.table.column(0).to_pylist() == [expected]
    assert result.as_of_instant == second
