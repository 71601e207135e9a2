"""The JVM Hudi writer path: the commit read back from the timeline, zfish's lock, JVM errors."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from pyspark.sql import DataFrame, SparkSession

from zfish import fishtable
from zfish.cli import cli
from zfish.exceptions import EXIT_LOCKED, HudiError, PrerequisiteError, TableLockedError
from zfish.hudi import HudiTable
from zfish.hudi.lock import LOCK_PATH
from zfish.lake.upload import upload
from zfish.pipeline import job, sinks
from zfish.settings import LakeLayout

JVM = job.WRITER_SPARK_HUDI


def _run(spark: SparkSession, layout: LakeLayout, day: date) -> job.EtlReport:
    end = datetime.combine(day, datetime.min.time()).replace(hour=18)
    return job.run(spark, layout, job.EtlOptions(end_date=end, writer=JVM), show_progress=False)


def _commit_files(table: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted((table / ".hoodie").glob("*.commit"))]


@pytest.fixture
def jvm_lake(spark_hudi: SparkSession, default_study: Path, tmp_path: Path) -> LakeLayout:
    """A lake with the 2025-05-10 evening written by the JVM writer (60 rows)."""
    layout = LakeLayout(root=tmp_path / "lake")
    upload(default_study, layout, date(2025, 5, 10), show_progress=False)
    _run(spark_hudi, layout, date(2025, 5, 10))
    return layout


def _table_rows(spark: SparkSession, table: Path) -> DataFrame:
    """The table's data columns, read by the JVM datasource: rows the ETL would upsert again."""
    rows = spark.read.format("hudi").load(str(table))
    return rows.drop(*[c for c in rows.columns if c.startswith("_hoodie_")])


@pytest.mark.spark
@pytest.mark.slow
def test_the_report_comes_from_the_new_commit_and_its_extra_metadata_lands(
    spark_hudi: SparkSession, default_study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = LakeLayout(root=tmp_path / "lake")
    upload(default_study, layout, date(2025, 5, 10), show_progress=False)

    def no_counting(self: DataFrame) -> int:
        raise AssertionError("the JVM write path ran a Spark job of its own to count rows")

    with monkeypatch.context() as patch:
        patch.setattr(DataFrame, "count", no_counting)
        first = _run(spark_hudi, layout, date(2025, 5, 10))
    assert first.commit is not None
    table = layout.table
    (instant,) = [c.instant for c in fishtable.commits(table)]
    assert first.commit.instant == instant
    assert first.commit.operation == "UPSERT"
    assert (first.commit.num_inserts, first.commit.num_updates) == (60, 0)
    assert first.labelled_rows == 60
    assert first.commit.partitions_written == fishtable.partition_paths(table)
    assert len(first.commit.partitions_written) == 8
    assert first.commit.files_written == len(fishtable.latest_base_files(table)) == 8
    assert first.commit.bytes_written > 0
    assert first.table_rows == 60
    (meta,) = _commit_files(table)
    extra = meta["extraMetadata"]
    assert isinstance(extra, dict)
    assert extra[fishtable.END_DATE_KEY] == "2025-05-10T18:00:00"
    assert fishtable.WINDOW_START_KEY not in extra  # the first run reads everything
    # The commit line of the summary, as the native writer prints it.
    line = dict(first.rows())["commit"]
    assert line == f"{instant} (60 inserted, 0 updated, 8 partitions, 8 files, 0 old files cleaned)"
    # The first write went through a hidden folder beside the table; none is left.
    assert sorted(p.name for p in table.parent.iterdir()) == [table.name]
    assert not (table / LOCK_PATH).exists()

    upload(default_study, layout, date(2025, 5, 11), show_progress=False)
    second = _run(spark_hudi, layout, date(2025, 5, 11))
    assert second.commit is not None
    # The window was planned from the end date the JVM commit carries.
    assert second.read_window.start_day == date(2025, 4, 5)
    meta = _commit_files(table)[-1]
    extra = meta["extraMetadata"]
    assert isinstance(extra, dict)
    assert extra[fishtable.END_DATE_KEY] == "2025-05-11T18:00:00"
    assert extra[fishtable.WINDOW_START_KEY] == "2025-04-05"
    assert job.last_end_date(table) == datetime(2025, 5, 11, 18)
    assert second.commit.instant == fishtable.commits(table)[-1].instant
    assert second.commit.num_inserts == 15
    # Every labelled row of the window is upserted again: the new ones insert, the rest update.
    in_window = [d for d in fishtable.read(table).column("day").to_pylist() if d >= "2025-04-05"]
    assert second.commit.num_inserts + second.commit.num_updates == len(in_window)
    assert second.labelled_rows == len(in_window)
    assert second.table_rows == 75
    assert not (table / LOCK_PATH).exists()


@pytest.mark.spark
def test_a_config_conflict_names_the_table_and_the_keys_and_writes_nothing(
    spark_hudi: SparkSession, jvm_lake: LakeLayout
) -> None:
    table = jvm_lake.table
    before = sorted(p.name for p in (table / ".hoodie").iterdir())
    other = dataclasses.replace(fishtable.TABLE_SPEC, precombine_field="age_days")
    with pytest.raises(HudiError) as caught:
        sinks.write_spark_hudi(_table_rows(spark_hudi, table), table, other, {})
    message = str(caught.value)
    assert "'joined_fish_data'" in message
    assert str(table) in message
    assert "PreCombineKey: requested age_days, the table has timestamp" in message
    assert "Fix:" in message
    assert "\tat " not in message  # no Java stack trace
    assert "org.apache" not in message
    assert sorted(p.name for p in (table / ".hoodie").iterdir()) == before
    assert fishtable.count_rows(table) == 60


@pytest.mark.spark
def test_the_jvm_writer_waits_for_no_one_a_live_lock_holder_makes_it_exit_4(
    spark_hudi: SparkSession, jvm_lake: LakeLayout
) -> None:
    """A native writer (another process) holds the table: `zfish etl --writer spark-hudi` loses."""
    table = jvm_lake.table
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from zfish.hudi.lock import TableLock\n"
            "from zfish.hudi.storage import Storage\n"
            "TableLock(Storage(sys.argv[1]), 'joined_fish_data').acquire('native upsert')\n"
            "print('held', flush=True)\n"
            "time.sleep(600)\n",
            str(table),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        before = fishtable.commits(table)
        result = CliRunner().invoke(
            cli,
            [
                "--lake",
                str(jvm_lake.root),
                "etl",
                "--end-date",
                "2025-05-10T19:00:00",
                "--writer",
                "spark-hudi",
                "--quiet",
            ],
        )
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == EXIT_LOCKED, result.output
    text = " ".join(result.output.split())
    assert f"pid {holder.pid}" in text
    assert "native upsert" in text
    assert fishtable.commits(table) == before


@pytest.mark.spark
def test_a_native_writer_cannot_start_while_the_jvm_writes(
    spark_hudi: SparkSession, jvm_lake: LakeLayout, tmp_path: Path
) -> None:
    """While the JVM's own write job runs, zfish's lock is held: a native upsert gets exit 4."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import BooleanType

    table = jvm_lake.table
    seen = tmp_path / "native_attempt.txt"
    native_row = fishtable.read(table).slice(0, 1)
    native_row = native_row.select(
        [c for c in native_row.column_names if not c.startswith("_hoodie_")]
    )
    row_file = tmp_path / "row.arrow"
    with pa.OSFile(str(row_file), "wb") as sink, pa.ipc.new_file(sink, native_row.schema) as w:
        w.write_table(native_row)

    def try_native_write(_key: str) -> bool:
        # Runs in a Python worker while Hudi's Spark job evaluates the rows.
        if seen.exists():
            return True
        try:
            with pa.OSFile(str(row_file)) as source:
                data = pa.ipc.open_file(source).read_all()
            HudiTable.open(str(table)).upsert(data)
            outcome = "written"
        except TableLockedError as exc:
            outcome = f"locked {exc.exit_code}: {exc}"
        seen.write_text(outcome)
        return True

    probe = F.udf(try_native_write, BooleanType())
    rows = _table_rows(spark_hudi, table).filter(probe(F.col("image_id")))
    before = [c.instant for c in fishtable.commits(table)]
    result = sinks.write_spark_hudi(rows, table, fishtable.TABLE_SPEC, {})
    outcome = seen.read_text()
    assert outcome.startswith(f"locked {EXIT_LOCKED}: "), outcome
    assert f"pid {os.getpid()}" in outcome
    assert sinks.JVM_LOCK_PURPOSE in outcome
    after = [c.instant for c in fishtable.commits(table)]
    assert after == [*before, result.instant]  # only the JVM's commit
    assert (result.num_inserts, result.num_updates) == (0, 60)
    assert not (table / LOCK_PATH).exists()  # released after the write


@pytest.mark.spark
def test_a_table_created_meanwhile_by_another_writer_wins_over_the_first_jvm_write(
    spark_hudi: SparkSession, default_study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = LakeLayout(root=tmp_path / "lake")
    upload(default_study, layout, date(2025, 5, 10), show_progress=False)
    table = layout.table
    real_save = sinks._save

    def save_then_native_creates(rows: DataFrame, path: Path, *args: object) -> None:
        real_save(rows, path, *args)  # type: ignore[arg-type]
        native = HudiTable.open_or_create(str(table), fishtable.TABLE_SPEC)
        native.upsert(fishtable.read(path).select(["image_id", "timestamp", "day"]).slice(0, 3))

    monkeypatch.setattr(sinks, "_save", save_then_native_creates)
    with pytest.raises(TableLockedError) as caught:
        _run(spark_hudi, layout, date(2025, 5, 10))
    assert caught.value.exit_code == EXIT_LOCKED
    assert "created by another writer" in str(caught.value)
    assert fishtable.count_rows(table) == 3  # the other writer's table is untouched
    assert sorted(p.name for p in table.parent.iterdir()) == [table.name]


def test_an_abandoned_first_write_is_removed_and_a_live_one_kept(tmp_path: Path) -> None:
    target = tmp_path / "joined_fish_data"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    abandoned = tmp_path / f".joined_fish_data.{dead.stdout.strip()}.zfish-new"
    live = tmp_path / f".joined_fish_data.{os.getppid()}.zfish-new"
    for folder in (abandoned, live):
        (folder / ".hoodie").mkdir(parents=True)
    sinks._remove_abandoned_new_tables(target)
    assert not abandoned.exists()
    assert live.exists()


class _FakeJavaException:
    def __init__(self, text: str, cause: _FakeJavaException | None = None):
        self.text = text
        self.cause = cause

    def toString(self) -> str:
        return self.text

    def getCause(self) -> _FakeJavaException | None:
        return self.cause


class _FakePy4JError(Exception):
    def __init__(self, java: _FakeJavaException):
        super().__init__("An error occurred while calling o123.save.\n\tat org.apache...")
        self.java_exception = java


def test_jvm_errors_become_zfish_errors_without_the_trace() -> None:
    conflict = _FakePy4JError(
        _FakeJavaException(
            "org.apache.hudi.exception.HoodieException: \nConfig conflict(key\tcurrent value\t"
            "existing value):\nhoodie.datasource.write.recordkey.field:\tfish_id\timage_id\n"
            "RecordKey:\tfish_id\timage_id\n"
        )
    )
    error = sinks.jvm_error(conflict, "joined_fish_data", Path("/lake/t"))
    assert isinstance(error, HudiError)
    assert str(error).splitlines()[1:3] == [
        "  hoodie.datasource.write.recordkey.field: requested fish_id, the table has image_id",
        "  RecordKey: requested fish_id, the table has image_id",
    ]
    nested = _FakePy4JError(
        _FakeJavaException(
            "org.apache.hudi.exception.HoodieUpsertException: Failed to upsert for commit time 1",
            _FakeJavaException("java.io.IOException: No space left on device"),
        )
    )
    error = sinks.jvm_error(nested, "joined_fish_data", Path("/lake/t"))
    assert str(error) == (
        "the JVM Hudi writer failed on table 'joined_fish_data' at /lake/t: "
        "org.apache.hudi.exception.HoodieUpsertException: Failed to upsert for commit time 1\n"
        "  caused by: java.io.IOException: No space left on device"
    )
    missing = _FakePy4JError(
        _FakeJavaException(
            "org.apache.spark.SparkClassNotFoundException: [DATA_SOURCE_NOT_FOUND] Failed to "
            "find the data source: hudi. Please find packages at "
            "`https://spark.apache.org/third-party-projects.html`."
        )
    )
    error = sinks.jvm_error(missing, "joined_fish_data", Path("/lake/t"))
    assert isinstance(error, PrerequisiteError)
    assert "org.apache.hudi:hudi-spark3.5-bundle_2.12:0.15.0" in str(error)


@pytest.mark.spark
def test_the_jvm_writer_needs_hudi_in_the_session_and_says_so_before_reading(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from zfish import spark as zspark

    monkeypatch.setattr(zspark, "has_hudi", lambda _spark: False)
    with pytest.raises(PrerequisiteError, match="spark-submit --packages"):
        job.run(
            object(),  # type: ignore[arg-type]  # never used: the check comes first
            LakeLayout(root=tmp_path / "lake"),
            job.EtlOptions(end_date=datetime(2025, 5, 10, 18), writer=JVM),
            show_progress=False,
        )


def test_spark_hudi_timestamp_fields_are_what_zfish_reads() -> None:
    """The keys the JVM commit carries are the ones zfish's readers look for."""
    options = sinks.spark_hudi_options(fishtable.TABLE_SPEC, {fishtable.WINDOW_START_KEY: "d"})
    prefix = options["hoodie.datasource.write.commitmeta.key.prefix"]
    assert fishtable.END_DATE_KEY.startswith(prefix)
    assert fishtable.WINDOW_START_KEY.startswith(prefix)
    assert options[fishtable.WINDOW_START_KEY] == "d"
