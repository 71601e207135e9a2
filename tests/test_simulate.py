"""End to end: simulated evenings give the seed's numbers and the table invariant holds."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyspark.sql import SparkSession

from tests.support import expected_joined_rows
from zfish import fishtable
from zfish.catalog import crawler
from zfish.cli import cli
from zfish.exceptions import ValidationError
from zfish.lake.upload import upload
from zfish.pipeline import job, schemas
from zfish.settings import LakeLayout
from zfish.simulate import evening, evenings_with_data, first_delivery

pytestmark = [pytest.mark.spark, pytest.mark.slow]

DATA_COLUMNS = schemas.TABLE.fieldNames()  # the table's columns without Hudi's


@pytest.fixture
def study(default_study: Path) -> Path:
    return default_study


@pytest.fixture(params=job.WRITERS)
def writer(request: pytest.FixtureRequest) -> str:
    """Each Hudi writer of the ETL: zfish's native one and the JVM Hudi datasource."""
    if request.param == job.WRITER_SPARK_HUDI:
        request.getfixturevalue("spark_hudi")  # without the bundle: fails on CI, skips elsewhere
    return str(request.param)


def table_rows(layout: LakeLayout) -> dict[str, dict[str, object]]:
    rows = fishtable.read(layout.table).select(DATA_COLUMNS).to_pylist()
    by_key = {row["image_id"]: row for row in rows}
    assert len(by_key) == len(rows), "duplicate image_id in joined_fish_data"
    return by_key


def assert_invariant(layout: LakeLayout, day: date) -> None:
    expected = expected_joined_rows(layout.dataset, day)
    for row in expected.values():
        ts = row["timestamp"]
        assert isinstance(ts, datetime)
        if ts.tzinfo is None:
            row["timestamp"] = ts.replace(tzinfo=UTC)
    assert table_rows(layout) == expected


def test_seed_numbers_on_consecutive_evenings(
    spark: SparkSession, study: Path, tmp_path: Path, writer: str
) -> None:
    layout = LakeLayout(root=tmp_path / "lake")
    first = evening(spark, study, layout, date(2025, 5, 10), writer=writer, show_progress=False)
    assert first.catalog_counts == {
        "zebra_fish_demo.observations": 540,
        "zebra_fish_demo.outcomes": 20,
        "zebra_fish_demo.joined_fish_data": 60,
    }
    assert first.etl is not None
    assert first.etl.commit is not None
    assert first.etl.commit.num_inserts == 60
    assert_invariant(layout, date(2025, 5, 10))

    # Uploading without crawling: Athena (and zfish) still see the old partitions.
    upload(study, layout, date(2025, 5, 11), show_progress=False)
    assert _count(layout, "outcomes") == 20
    crawler.crawl(layout)
    assert _count(layout, "outcomes") == 25

    second = evening(spark, study, layout, date(2025, 5, 11), writer=writer, show_progress=False)
    assert second.catalog_counts == {
        "zebra_fish_demo.observations": 555,
        "zebra_fish_demo.outcomes": 25,
        "zebra_fish_demo.joined_fish_data": 75,
    }
    assert second.etl is not None
    assert second.etl.commit is not None
    assert second.etl.commit.num_inserts == 15
    assert_invariant(layout, date(2025, 5, 11))
    # The catalog file itself answers too (DuckDB views over the latest Hudi snapshot).
    import duckdb

    con = duckdb.connect(str(layout.catalog_db), read_only=True)
    try:
        joined = con.execute('SELECT count(*) FROM "zebra_fish_demo"."joined_fish_data"').fetchone()
    finally:
        con.close()
    assert joined == (75,)
    # Time travel to the first evening still gives its 60 rows.
    assert fishtable.read(layout.table, as_of="2025-05-10").num_rows == 60


def _count(layout: LakeLayout, table: str) -> int:
    from zfish.catalog.query import run_query

    result = run_query(layout, f'SELECT count(*) AS n FROM "zebra_fish_demo"."{table}";')
    return int(result.table.column("n")[0].as_py())


def test_invariant_holds_over_skipped_and_repeated_evenings(
    spark: SparkSession, study: Path, tmp_path: Path, writer: str
) -> None:
    layout = LakeLayout(root=tmp_path / "lake")
    # A repeat, a three-day skip across label arrivals, a skip longer than the
    # 36-day window, and an evening after the study's last day.
    for day in [
        date(2025, 5, 6),
        date(2025, 5, 7),
        date(2025, 5, 7),
        date(2025, 5, 11),
        date(2025, 6, 20),
        date(2025, 7, 10),
    ]:
        evening(spark, study, layout, day, writer=writer, show_progress=False)
        assert_invariant(layout, day)
    assert len(table_rows(layout)) == 3 * 5 * len(
        [
            d
            for d in range(62)
            if (date(2025, 4, 1).toordinal() + d + 35) <= date(2025, 6, 1).toordinal()
        ]
    )


def test_rerun_of_an_evening_is_idempotent(
    spark: SparkSession, study: Path, tmp_path: Path
) -> None:
    layout = LakeLayout(root=tmp_path / "lake")
    evening(spark, study, layout, date(2025, 5, 12), show_progress=False)
    before = table_rows(layout)
    again = evening(spark, study, layout, date(2025, 5, 12), show_progress=False)
    assert again.upload is not None
    assert again.upload.files_copied == 0
    assert table_rows(layout) == before


def test_the_simulated_clock_cannot_go_back(
    spark: SparkSession, study: Path, tmp_path: Path
) -> None:
    layout = LakeLayout(root=tmp_path / "lake")
    evening(spark, study, layout, date(2025, 4, 20), show_progress=False)
    with pytest.raises(ValidationError, match="cannot go back"):
        evening(spark, study, layout, date(2025, 4, 19), show_progress=False)


def test_cli_simulate_prints_the_summary(spark: SparkSession, study: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "--data",
            str(study),
            "--lake",
            str(tmp_path / "lake"),
            "simulate",
            "--day",
            "2025-05-10",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "zebra_fish_demo.joined_fish_data" in result.output
    assert "60 rows" in result.output
    assert "540 rows" in result.output


def test_pipeline_on_the_seed_scripts_own_data(spark: SparkSession, tmp_path: Path) -> None:
    """A study written by the seed's own script (pretty JSON, timestamps without Z)."""
    from benchmarks.seed_baseline import run_seed_loop

    data = tmp_path / "synthetic_data"
    run_seed_loop(str(data), fish_hatch_rate=3, end_date=datetime(2025, 5, 20), seed=7)
    sample = next((data / "observations").glob("day=*/*.json")).read_text()
    assert '"timestamp": "2025-' in sample
    assert 'Z"' not in sample
    layout = LakeLayout(root=tmp_path / "lake")
    for day in (date(2025, 5, 10), date(2025, 5, 14)):
        report = evening(spark, data, layout, day, show_progress=False)
        assert not report.generated  # the foreign study is used as it is
        assert report.etl is not None
        assert report.etl.quarantined_total == 0
        assert_invariant(layout, day)
    assert len(table_rows(layout)) == 3 * 3 * 8  # fish hatched 04-01..04-08 have outcomes by 05-13


def test_simulate_killed_at_a_random_moment_then_rerun(
    spark: SparkSession, default_study: Path, tmp_path: Path
) -> None:
    import os
    import random
    import signal
    import subprocess
    import sys
    import time

    lake = tmp_path / "lake"
    base = [sys.executable, "-m", "zfish", "--data", str(default_study), "--lake", str(lake)]
    first = subprocess.run(
        [*base, "simulate", "--day", "2025-05-10", "--quiet"], capture_output=True
    )
    assert first.returncode == 0, first.stderr
    seed = int(os.environ.get("ZFISH_CRASH_SEED", time.time_ns() % 10_000))
    delay = random.Random(seed).uniform(0.5, 12.0)
    proc = subprocess.Popen(
        [*base, "simulate", "--day", "2025-05-12", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    rerun = subprocess.run(
        [*base, "simulate", "--day", "2025-05-12", "--quiet"], capture_output=True
    )
    assert rerun.returncode == 0, f"crash seed {seed} (delay {delay:.1f}s): {rerun.stderr!r}"
    layout = LakeLayout(root=lake)
    assert_invariant(layout, date(2025, 5, 12))
    leftovers = [p for p in layout.table.rglob("*") if p.name.endswith((".tmp", ".lock"))]
    assert leftovers == [], f"crash seed {seed}"


def test_a_label_delay_longer_than_the_window_loses_nothing(
    spark: SparkSession, tmp_path: Path
) -> None:
    """Another study's --label-age 50 with the default 36-day window: daily evenings still
    see every observation of the fish whose outcomes arrive."""
    from zfish.generator import StudySpec, generate

    data = tmp_path / "synthetic_data"
    generate(
        StudySpec(hatch_rate=2, end=date(2025, 6, 15), label_age=50), data, show_progress=False
    )
    layout = LakeLayout(root=tmp_path / "lake")
    for day in (date(2025, 5, 23), date(2025, 5, 24), date(2025, 5, 25), date(2025, 6, 1)):
        report = evening(spark, data, layout, day, show_progress=False)
        assert report.etl is not None
        assert report.etl.quarantined_total == 0
        assert_invariant(layout, day)
    assert report.etl is not None
    assert "widened" in report.etl.read_window.note
    assert len(table_rows(layout)) == 2 * 3 * 11  # fish hatched 04-01..04-11 are labelled by 05-31


def test_cli_simulates_a_range_of_evenings_in_one_process(
    spark: SparkSession, study: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    result = CliRunner().invoke(
        cli,
        [
            "--data",
            str(study),
            "--lake",
            str(lake),
            "simulate",
            "--from",
            "2025-05-09",
            "--to",
            "2025-05-11",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    for day in ("2025-05-09", "2025-05-10", "2025-05-11"):
        assert f"simulated evening {day}" in result.output
    assert [c.simulated_day for c in fishtable.commits(LakeLayout(root=lake).table)] == [
        date(2025, 5, 9),
        date(2025, 5, 10),
        date(2025, 5, 11),
    ]
    timeline = CliRunner().invoke(cli, ["--lake", str(lake), "timeline"])
    assert timeline.exit_code == 0
    assert "2025-05-11" in timeline.output
    bad = CliRunner().invoke(cli, ["--lake", str(lake), "simulate", "--from", "2025-05-12"])
    assert bad.exit_code == 2
    assert "--to" in bad.output


RANGE_DAYS = ("2025-05-09", "2025-05-10", "2025-05-13")  # a skipped evening, new labels on each


def _meta_times(layout: LakeLayout) -> dict[str, str]:
    table = fishtable.read(layout.table, columns=["image_id", "_hoodie_commit_time"])
    return dict(
        zip(
            table.column("image_id").to_pylist(),
            table.column("_hoodie_commit_time").to_pylist(),
            strict=True,
        )
    )


def test_a_range_in_one_process_ends_as_separate_runs_and_as_the_seeds_full_rewrite(
    spark: SparkSession, study: Path, tmp_path: Path
) -> None:
    """One process for the evenings, separate processes, and --reprocess-window: same table."""
    import subprocess
    import sys

    ranged = LakeLayout(root=tmp_path / "range")
    for day in RANGE_DAYS:
        evening(spark, study, ranged, date.fromisoformat(day), show_progress=False)
    separate = LakeLayout(root=tmp_path / "separate")
    base = [sys.executable, "-m", "zfish", "--data", str(study), "--lake", str(separate.root)]
    for day in RANGE_DAYS:
        run = subprocess.run([*base, "simulate", "--day", day, "--quiet"], capture_output=True)
        assert run.returncode == 0, run.stderr
    seed_like = LakeLayout(root=tmp_path / "reprocess")
    for day in RANGE_DAYS:
        report = evening(
            spark,
            study,
            seed_like,
            date.fromisoformat(day),
            reprocess_window=True,
            show_progress=False,
        )
    assert table_rows(separate) == table_rows(ranged)
    assert table_rows(seed_like) == table_rows(ranged)
    assert_invariant(ranged, date(2025, 5, 13))
    # The seed's rewrite gives every row of the window the last commit's time; by default
    # only the rows that arrived (new labels) carry it.
    assert report.etl is not None
    assert report.etl.commit is not None
    last_full = report.etl.commit
    assert last_full.num_updates > 0
    rewritten = sum(1 for t in _meta_times(seed_like).values() if t == last_full.instant)
    assert rewritten == last_full.num_inserts + last_full.num_updates == report.etl.labelled_rows
    ranged_commits = fishtable.commits(ranged.table)
    last = ranged_commits[-1]
    assert last.num_updates == 0
    changed = fishtable.read_incremental(ranged.table, ranged_commits[-2].instant)
    assert changed.num_rows == last.num_inserts == 3 * 5 * 3  # 3 evenings of 5 new labels
    assert sum(1 for t in _meta_times(ranged).values() if t == last.instant) == changed.num_rows


def test_an_evening_without_changes_is_still_recorded(
    spark: SparkSession, study: Path, tmp_path: Path
) -> None:
    layout = LakeLayout(root=tmp_path / "lake")
    first = evening(spark, study, layout, date(2025, 5, 10), show_progress=False)
    files = sorted(p.name for p in layout.table.rglob("*.parquet"))
    again = evening(spark, study, layout, date(2025, 5, 10), show_progress=False)  # nothing new
    assert again.etl is not None
    assert again.etl.commit is not None
    assert (again.etl.commit.files_written, again.etl.rows_changed) == (0, 0)
    # The rerun reads the 36-day window, the first run read everything.
    assert 0 < again.etl.labelled_rows < 60
    assert sorted(p.name for p in layout.table.rglob("*.parquet")) == files
    assert again.catalog_counts == first.catalog_counts
    history = fishtable.commits(layout.table)
    assert [c.simulated_day for c in history] == [date(2025, 5, 10), date(2025, 5, 10)]
    # The window widening reads the last end date from that empty commit.
    from zfish.pipeline.job import last_end_date

    assert last_end_date(layout.table) == datetime(2025, 5, 10, 18)


def _query(lake: Path, sql: str, *extra: str) -> list[dict[str, str]]:
    import csv
    import io

    result = CliRunner().invoke(cli, ["--lake", str(lake), "query", sql, "--format", "csv", *extra])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_zfish_reads_what_the_jvm_writer_wrote(
    spark_hudi: SparkSession, study: Path, tmp_path: Path
) -> None:
    """zfish simulate/etl --writer spark-hudi, then query, --as-of (day, instant) and timeline."""
    lake = tmp_path / "lake"
    result = CliRunner().invoke(
        cli,
        [
            "--data",
            str(study),
            "--lake",
            str(lake),
            "simulate",
            "--from",
            "2025-05-10",
            "--to",
            "2025-05-11",
            "--writer",
            "spark-hudi",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "zebra_fish_demo.joined_fish_data 60 rows" in text
    assert "zebra_fish_demo.joined_fish_data 75 rows" in text
    layout = LakeLayout(root=lake)
    first, second = fishtable.commits(layout.table)
    assert f"60 rows (60 inserted, 0 updated) in commit {first.instant}" in text
    assert (first.simulated_day, second.simulated_day) == (date(2025, 5, 10), date(2025, 5, 11))
    assert second.window_start == date(2025, 4, 5)
    # Hadoop's local file system leaves .crc sidecars next to every file it wrote.
    assert list(layout.table.glob(".hoodie/.*.commit.crc"))
    assert list(layout.table.glob("*/.*.parquet.crc"))
    assert_invariant(layout, date(2025, 5, 11))

    count = 'SELECT count(*) AS n FROM "zebra_fish_demo"."joined_fish_data"'
    assert _query(lake, count) == [{"n": "75"}]
    assert _query(lake, count, "--as-of", "2025-05-10") == [{"n": "60"}]
    assert _query(lake, count, "--as-of", first.instant) == [{"n": "60"}]
    assert _query(lake, count, "--as-of", second.instant) == [{"n": "75"}]
    labels = _query(
        lake,
        'SELECT condition_developed, count(*) AS n FROM "zebra_fish_demo"."joined_fish_data" '
        "GROUP BY 1 ORDER BY 1",
        "--as-of",
        "2025-05-10",
    )
    assert sum(int(r["n"]) for r in labels) == 60
    assert _query(lake, 'SELECT count(*) AS n FROM "zebra_fish_demo"."outcomes"') == [{"n": "25"}]

    timeline = CliRunner().invoke(cli, ["--lake", str(lake), "timeline"])
    assert timeline.exit_code == 0, timeline.output
    lines = [" ".join(line.strip("│ ").split()) for line in timeline.output.splitlines()]
    assert f"{first.instant} │ 2025-05-10 │ UPSERT │ 60 │ 0 │ 0 │ 8" in lines
    assert f"{second.instant} │ 2025-05-11 │ UPSERT │ 15 │ 40 │ 0 │ 6" in lines

    # zfish etl --writer spark-hudi later that evening: nothing new, every row of the window again.
    etl = CliRunner().invoke(
        cli,
        [
            "--lake",
            str(lake),
            "etl",
            "--end-date",
            "2025-05-11T21:00:00",
            "--writer",
            "spark-hudi",
            "--quiet",
        ],
    )
    assert etl.exit_code == 0, etl.output
    third = fishtable.commits(layout.table)[-1]
    assert third.end_date == datetime(2025, 5, 11, 21)
    assert (third.num_inserts, third.num_updates) == (0, 55)
    assert f"{third.instant} (0 inserted, 55 updated, 6 partitions, 6 files" in etl.output
    assert _query(lake, count, "--as-of", "2025-05-10") == [{"n": "60"}]
    assert_invariant(layout, date(2025, 5, 11))


def test_make_simulate_with_the_jvm_writer(
    spark_hudi: SparkSession, study: Path, tmp_path: Path
) -> None:
    """`make simulate DAY=2025-05-10 WRITER=spark-hudi`, the README's command, on a tmp lake."""
    import os
    import shutil
    import subprocess

    repo = Path(__file__).resolve().parents[1]
    stamp = repo / ".venv" / ".zfish-installed"
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    if not stamp.exists() or stamp.stat().st_mtime < (repo / "pyproject.toml").stat().st_mtime:
        pytest.skip(f"{stamp} is missing or older than pyproject.toml: make would rebuild .venv")
    lake = tmp_path / "lake"
    env = {**os.environ, "ZFISH_DATA": str(study), "ZFISH_LAKE": str(lake)}
    run = subprocess.run(
        ["make", "-C", str(repo), "simulate", "DAY=2025-05-10", "WRITER=spark-hudi"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "simulate --day 2025-05-10 --writer spark-hudi" in run.stdout
    text = " ".join(run.stdout.split())
    assert "zebra_fish_demo.observations 540 rows" in text
    assert "zebra_fish_demo.outcomes 20 rows" in text
    assert "zebra_fish_demo.joined_fish_data 60 rows" in text
    assert "# WARNING" not in run.stdout
    layout = LakeLayout(root=lake)
    (commit,) = fishtable.commits(layout.table)
    assert commit.simulated_day == date(2025, 5, 10)
    # The JVM wrote it: its Hadoop file system leaves .crc sidecars, zfish's writer does not.
    assert list(layout.table.glob(".hoodie/.*.commit.crc"))
    assert_invariant(layout, date(2025, 5, 10))


def test_the_first_evening_with_data_follows_the_hatch_days_empty_folder(study: Path) -> None:
    """The generator writes an empty folder for the hatch day: the first delivery is a day later."""
    assert not any((study / "observations" / "day=2025-04-01").glob("*.json"))
    assert first_delivery(study) == date(2025, 4, 2)
    assert first_delivery(study / "nothing-here") is None


def test_a_single_evening_before_the_first_delivery_is_refused_before_spark(
    study: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        cli,
        ["--data", str(study), "--lake", str(tmp_path / "lake"), "simulate", "--day", "2025-04-02"],
    )
    assert result.exit_code == 2
    assert "first are of 2025-04-02" in result.output
    assert "2025-04-03 or later" in result.output
    assert not (tmp_path / "lake").exists()


def test_a_range_from_the_seasons_first_evening_skips_what_had_no_delivery(
    spark: SparkSession, study: Path, tmp_path: Path
) -> None:
    """``--from 2025-04-02`` (the season): that evening had nothing delivered, the next ones run."""
    lake = tmp_path / "lake"
    args = ["--data", str(study), "--lake", str(lake), "simulate", "--quiet"]
    result = CliRunner().invoke(cli, [*args, "--from", "2025-04-02", "--to", "2025-04-03"])
    assert result.exit_code == 0, result.output
    assert "evening 2025-04-02 skipped: nothing was delivered before it" in result.output
    assert "simulated evening 2025-04-02" not in result.output
    assert "simulated evening 2025-04-03" in result.output
    assert _count(LakeLayout(root=lake), "observations") == 5
    days = [date(2025, 3, 30), date(2025, 4, 1), date(2025, 4, 2), date(2025, 4, 3)]
    assert evenings_with_data(study, LakeLayout(root=tmp_path / "empty"), days) == (
        days[:3],
        days[3:],
    )
    # Once the lake holds data nothing is skipped (the clock check refuses going back instead).
    assert evenings_with_data(study, LakeLayout(root=lake), days) == ([], days)
    empty = ["--data", str(study), "--lake", str(tmp_path / "empty"), "simulate"]
    before = CliRunner().invoke(cli, [*empty, "--from", "2025-03-30", "--to", "2025-04-02"])
    assert before.exit_code == 2
    assert "2025-04-03 or later" in before.output


def test_a_feed_with_then_crawl_etl_gives_the_seeds_numbers(
    spark: SparkSession, study: Path, tmp_path: Path
) -> None:
    """zfish feed --then crawl,etl: each delivered evening is crawled and joined (one session)."""
    from zfish.lake import feed
    from zfish.simulate import FeedSteps

    layout = LakeLayout(root=tmp_path / "lake")
    said: list[str] = []
    ticks = feed.run(
        study,
        feed.LakeDestination(layout),
        feed.FeedOptions(
            every=0.1, first=date(2025, 5, 10), last=date(2025, 5, 11), then=("crawl", "etl")
        ),
        say=said.append,
        then_step=FeedSteps(layout, job.WRITER_NATIVE, None),
    )
    assert [t.evening for t in ticks] == [date(2025, 5, 10), date(2025, 5, 11)]
    assert ticks[0].then == {"crawl": "catalogued", "etl": "60 labelled rows, 0 quarantined"}
    assert "etl: 60 labelled rows" in said[0]
    assert _count(layout, "outcomes") == 25
    assert fishtable.count_rows(layout.table) == 75
    assert_invariant(layout, date(2025, 5, 11))
