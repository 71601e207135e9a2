"""The zfish command line: shared options before or after the subcommand, early failures, history."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.support import write_study
from zfish.cli import cli
from zfish.exceptions import EXIT_BAD_INPUT, EXIT_USAGE
from zfish.settings import ENV_DATA, ENV_LAKE, LakeLayout

SHARED = ("--data", "--lake", "--bucket", "--prefix")
DAYS = [date(2025, 5, 6), date(2025, 5, 7), date(2025, 5, 8)]


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def both(command: list[str], shared: list[str]) -> list[list[str]]:
    """The same command with the shared options before and after the subcommand's name."""
    return [[*shared, *command], [command[0], *shared, *command[1:]]]


@pytest.fixture
def study(tmp_path: Path) -> Path:
    return write_study(tmp_path / "study", DAYS)


@pytest.fixture(autouse=True)
def no_spark(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Starting Spark is a failure in these tests: every check must come before it."""
    from zfish.pipeline import job

    started: list[str] = []

    def refuse(writer: str, bundle: str | None) -> object:
        started.append(writer)
        raise AssertionError("Spark was started")

    monkeypatch.setattr(job, "session_for", refuse)
    return started


def test_every_subcommand_shows_the_shared_options_in_its_help() -> None:
    import click

    commands = [
        [name, *sub]
        for name, command in cli.commands.items()
        # a group (zfish job) holds the subcommands: each of them takes the options
        for sub in ([[s] for s in command.commands] if isinstance(command, click.Group) else [[]])
    ]
    assert ["job", "run"] in commands
    for command in commands:
        if command == ["bundle"]:  # the only subcommand that touches neither study nor lake
            continue
        help_text = run(*command, "--help").output
        for option in SHARED:
            assert option in help_text, f"zfish {' '.join(command)} --help lacks {option}"
    assert all(option in run("--help").output for option in SHARED)


@pytest.mark.parametrize("placement", [0, 1], ids=["before", "after"])
def test_generate_takes_data_before_or_after(tmp_path: Path, placement: int) -> None:
    data = tmp_path / "gen"
    args = both(
        ["generate", "--hatch-rate", "1", "--end", "2025-04-04", "--quiet"], ["--data", str(data)]
    )[placement]
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert (data / "_zfish_study.json").is_file()


@pytest.mark.parametrize("placement", [0, 1], ids=["before", "after"])
def test_upload_crawl_query_take_every_shared_option_before_or_after(
    study: Path, tmp_path: Path, placement: int
) -> None:
    lake = tmp_path / "lake"
    shared = ["--data", str(study), "--lake", str(lake), "--bucket", "b-1", "--prefix", "p/q"]
    layout = LakeLayout(root=lake, bucket="b-1", prefix="p/q")

    result = run(*both(["upload", "--until", "2025-05-08", "--quiet"], shared)[placement])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in layout.observations.iterdir()) == [
        "day=2025-05-06",
        "day=2025-05-07",
    ]

    result = run(*both(["crawl"], shared)[placement])
    assert result.exit_code == 0, result.output
    assert layout.catalog_db.is_file()

    sql = 'SELECT count(*) AS n FROM "zebra_fish_demo"."observations"'
    result = run(*both(["query", sql, "--format", "csv"], shared)[placement])
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ['"n"', '"6"']  # Athena's CSV quotes every value


@pytest.mark.parametrize("placement", [0, 1], ids=["before", "after"])
def test_timeline_and_etl_look_in_the_lake_given_before_or_after(
    tmp_path: Path, placement: int, no_spark: list[str]
) -> None:
    lake = tmp_path / "elsewhere"
    layout = LakeLayout(root=lake, prefix="x")
    shared = ["--lake", str(lake), "--prefix", "x"]

    result = run(*both(["timeline"], shared)[placement])
    assert result.exit_code == EXIT_USAGE
    assert str(layout.table) in result.output

    result = run(*both(["etl", "--end-date", "2025-05-10", "--quiet"], shared)[placement])
    assert result.exit_code == EXIT_USAGE, result.output
    assert str(layout.observations) in result.output
    assert no_spark == []


@pytest.mark.parametrize("placement", [0, 1], ids=["before", "after"])
def test_simulate_takes_data_and_lake_before_or_after(
    study: Path, tmp_path: Path, placement: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zfish import simulate
    from zfish.pipeline import job

    seen: list[tuple[Path, LakeLayout]] = []

    def evening(
        spark: object, data_dir: Path, layout: LakeLayout, day: date, **_: object
    ) -> object:
        seen.append((data_dir, layout))
        return simulate.EveningReport(day=day)

    monkeypatch.setattr(job, "session_for", lambda writer, bundle: None)
    monkeypatch.setattr(simulate, "evening", evening)
    lake = tmp_path / "lake"
    shared = ["--data", str(study), "--lake", str(lake), "--bucket", "b-2"]
    result = run(*both(["simulate", "--day", "2025-05-08", "--quiet"], shared)[placement])
    assert result.exit_code == 0, result.output
    assert seen == [(study, LakeLayout(root=lake, bucket="b-2"))]


def test_the_subcommands_value_wins_over_the_groups_and_both_over_the_environment(
    study: Path, tmp_path: Path
) -> None:
    group, mine, env_lake = tmp_path / "group", tmp_path / "mine", tmp_path / "env"
    env = {ENV_DATA: str(study), ENV_LAKE: str(env_lake)}
    result = run(
        "--lake",
        str(group),
        "upload",
        "--lake",
        str(mine),
        "--until",
        "2025-05-07",
        "--quiet",
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert LakeLayout(root=mine).observations.is_dir()
    assert not group.exists()

    result = run("--lake", str(group), "upload", "--until", "2025-05-07", "--quiet", env=env)
    assert result.exit_code == 0, result.output
    assert LakeLayout(root=group).observations.is_dir()
    assert not env_lake.exists()

    result = run("upload", "--until", "2025-05-07", "--quiet", env=env)  # only the environment
    assert result.exit_code == 0, result.output
    assert LakeLayout(root=env_lake).observations.is_dir()


def test_a_bad_bucket_is_a_usage_error_in_either_place(tmp_path: Path) -> None:
    for args in (["--bucket", "Bad_Bucket", "crawl"], ["crawl", "--bucket", "Bad_Bucket"]):
        result = run("--lake", str(tmp_path), *args)
        assert result.exit_code == EXIT_USAGE
        assert "not a valid S3 bucket name" in result.output


def test_etl_on_a_mistyped_lake_fails_at_once_and_creates_nothing(
    tmp_path: Path, no_spark: list[str]
) -> None:
    lake = tmp_path / "lkae"
    result = run("etl", "--lake", str(lake), "--end-date", "2025-05-10", "--quiet")
    assert result.exit_code == EXIT_USAGE
    assert f"no observations in {LakeLayout(root=lake).observations}" in result.output
    assert "--lake" in result.output
    assert "zfish upload" in result.output
    assert not lake.exists()  # no table, no catalog, no quarantine
    assert no_spark == []


def test_etl_before_the_first_observation_names_the_first_partition(
    study: Path, tmp_path: Path, no_spark: list[str]
) -> None:
    lake = tmp_path / "lake"
    assert (
        run(
            "upload", "--data", str(study), "--lake", str(lake), "--until", "2025-05-09", "--quiet"
        ).exit_code
        == 0
    )
    result = run("etl", "--lake", str(lake), "--end-date", "2025-05-01", "--quiet")
    assert result.exit_code == EXIT_USAGE
    assert "first partition is day=2025-05-06" in result.output
    assert not LakeLayout(root=lake).table.exists()
    assert no_spark == []


def test_the_job_script_checks_the_lake_before_spark_too(
    tmp_path: Path, no_spark: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from zfish.pipeline import job

    lake = tmp_path / "nowhere"
    assert (
        job.main(["--lake", str(lake), "--end-date", "2025-05-10T18:00:00", "--quiet"])
        == EXIT_USAGE
    )
    assert str(LakeLayout(root=lake).observations) in capsys.readouterr().err
    assert not lake.exists()
    assert no_spark == []


def test_simulate_an_evening_before_the_study_fails_before_spark(
    study: Path, tmp_path: Path, no_spark: list[str]
) -> None:
    lake = tmp_path / "lake"
    result = run("simulate", "--data", str(study), "--lake", str(lake), "--day", "2025-05-06")
    assert result.exit_code == EXIT_USAGE
    assert "no observations before 2025-05-06" in result.output
    assert "2025-05-07 or later" in result.output
    assert not lake.exists()
    assert no_spark == []


def test_crawl_on_an_empty_lake_says_where_it_looked_and_writes_nothing(tmp_path: Path) -> None:
    lake = tmp_path / "empty"
    result = run("crawl", "--lake", str(lake))
    assert result.exit_code == EXIT_USAGE
    assert "nothing to crawl" in result.output
    assert str(LakeLayout(root=lake).observations) in result.output
    assert not lake.exists()


def test_crawl_history_prints_every_version(study: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    layout = LakeLayout(root=lake)
    base = ["--data", str(study), "--lake", str(lake)]
    assert run("upload", *base, "--until", "2025-05-08", "--quiet").exit_code == 0
    assert run("crawl", *base).exit_code == 0
    path = next((study / "observations" / "day=2025-05-08").glob("*.json"))
    path.write_text(json.dumps({**json.loads(path.read_text()), "age_days": 1.5}))
    assert run("upload", *base, "--until", "2025-05-09", "--quiet").exit_code == 0
    crawled = run("crawl", *base)
    assert crawled.exit_code == 0, crawled.output
    assert "widened age_days int -> double in day=2025-05-08" in crawled.output
    assert "version 1" in crawled.output

    for name in (
        "observations",
        "zebra_fish_demo.observations",
        '"zebra_fish_demo"."observations"',
    ):
        result = run("crawl", "--lake", str(lake), "--history", name)
        assert result.exit_code == 0, result.output
        out = result.output
        assert "zebra_fish_demo.observations: 2 version(s), newest first" in out
        assert out.index("1 (current)") < out.index("created with 7 columns")
        assert "widened age_days int -> double" in out
        assert "age_days double" in out
        assert "age_days int" in out
        assert "genetic_markers struct<gene_a:boolean,gene_b:boolean,gene_c:boolean>" in out
    assert layout.catalog_db.is_file()

    unknown = run("crawl", "--lake", str(lake), "--history", "obsrvations")
    assert unknown.exit_code == EXIT_USAGE
    assert "zebra_fish_demo.observations, zebra_fish_demo.outcomes" in unknown.output


def test_crawl_with_a_conflict_exits_3_and_names_the_file(study: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    base = ["--data", str(study), "--lake", str(lake)]
    path = next((study / "observations" / "day=2025-05-07").glob("*.json"))
    path.write_text(json.dumps({**json.loads(path.read_text()), "genetic_markers": [1, 2]}))
    assert run("upload", *base, "--until", "2025-05-08", "--quiet").exit_code == 0
    result = run("crawl", *base)
    assert result.exit_code == EXIT_BAD_INPUT
    assert "conflict" in result.output
    assert path.name in result.output
    assert "observations.genetic_markers: the table has struct<" in result.output
