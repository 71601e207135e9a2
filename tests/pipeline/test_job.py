"""The ETL job on a real lake: bad input is quarantined with its reason, good rows still land."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyspark.sql import SparkSession

from tests.support import SLF4J_API, pom_only_entry
from zfish import fishtable
from zfish.cli import cli
from zfish.exceptions import EXIT_BAD_INPUT, ValidationError
from zfish.lake.upload import upload
from zfish.pipeline import job, schemas, sinks
from zfish.settings import LakeLayout

pytestmark = pytest.mark.spark

EVENING = datetime(2025, 5, 10, 18)


@pytest.fixture
def lake(default_study: Path, tmp_path: Path) -> LakeLayout:
    layout = LakeLayout(root=tmp_path / "lake")
    upload(default_study, layout, EVENING.date(), show_progress=False)
    return layout


def obs_record(layout: LakeLayout, image_id: str) -> tuple[Path, dict[str, object]]:
    path = next(layout.observations.glob(f"day=*/{image_id}.json"))
    return path, json.loads(path.read_text())


def test_bad_records_are_quarantined_with_reason_and_source(
    spark: SparkSession, lake: LakeLayout
) -> None:
    part = lake.observations / "day=2025-05-08"
    (part / "broken.json").write_text('{"fish_id": "zfish_00100", \n')
    _, good = obs_record(lake, "zfish_00000_01")
    (part / "wrong_type.json").write_text(
        json.dumps({**good, "image_id": "zfish_09999_01", "age_days": "three"}) + "\n"
    )
    (part / "no_image.json").write_text(
        json.dumps({k: v for k, v in good.items() if k != "image_id"}) + "\n"
    )
    # zfish_00001_01 delivered twice with different content: both copies rejected.
    _, twin = obs_record(lake, "zfish_00001_01")
    (part / "zfish_00001_01.json").write_text(json.dumps({**twin, "length_mm": 99.0}) + "\n")
    # zfish_00002_03 delivered twice, identical: counted once, not quarantined.
    src, _ = obs_record(lake, "zfish_00002_03")
    shutil.copy(src, src.parent / "copy_of_zfish_00002_03.json")
    outcomes = lake.outcomes / "day=2025-05-09"
    (outcomes / "late.json").write_text(
        json.dumps(
            [
                {"fish_id": "ghost_fish", "condition_developed": True},
                {"fish_id": "zfish_00019", "condition_developed": "maybe"},
            ]
        )
        + "\n"
    )

    report = job.run(spark, lake, job.EtlOptions(end_date=EVENING), show_progress=False)

    assert report.quarantined == {"observations": 5, "outcomes": 2}
    assert report.quarantine_path is not None
    lines = [
        json.loads(line)
        for f in report.quarantine_path.glob("*.json")
        for line in f.read_text().splitlines()
    ]
    reasons = sorted(r["reason"].split(":")[0] for r in lines)
    assert reasons == sorted(
        [
            "duplicate image_id zfish_00001_01 with different content in file",
            "duplicate image_id zfish_00001_01 with different content in file",
            "field age_days",
            "field condition_developed",
            "malformed JSON line (each line must hold one whole JSON record; compact files with `zfish upload` or jq -c)",
            "missing required field image_id",
            "outcome for unknown fish ghost_fish",
        ]
    )
    assert {Path(r["source_file"].removeprefix("file:")).name for r in lines} >= {
        "broken.json",
        "late.json",
        "wrong_type.json",
    }
    broken = next(r for r in lines if r["reason"].startswith("malformed"))
    assert broken["record"] == '{"fish_id": "zfish_00100", '
    assert broken["kind"] == "observations"

    # Everything else landed: 20 labelled fish x 3 observations, minus the conflicting twin.
    # zfish_00019's first (valid) outcome still labels it; ghost_fish's good record was not lost.
    rows = fishtable.read(lake.table).column("image_id").to_pylist()
    assert "zfish_00001_01" not in rows
    assert rows.count("zfish_00002_03") == 1
    assert len([r for r in rows if r.startswith("zfish_00019_")]) == 3
    assert len(rows) == 60 - 1


def test_cli_exit_code_says_something_was_quarantined(
    spark: SparkSession, lake: LakeLayout
) -> None:
    (lake.observations / "day=2025-05-08" / "broken.json").write_text("{nope\n")
    result = CliRunner().invoke(
        cli, ["--lake", str(lake.root), "etl", "--end-date", "2025-05-10T18:00:00", "--quiet"]
    )
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "quarantined" in result.output
    assert "1 observations" in result.output


def test_clean_run_exits_zero_and_records_its_end_date(
    spark: SparkSession, lake: LakeLayout
) -> None:
    result = CliRunner().invoke(
        cli, ["--lake", str(lake.root), "etl", "--end-date", "2025-05-10T18:00:00", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert "60" in result.output
    assert job.last_end_date(lake.table) == EVENING
    commit = fishtable.commits(lake.table)[-1]
    assert commit.end_date == EVENING
    assert commit.operation == "UPSERT"


def test_file_groups_written_in_tasks_or_in_the_driver_give_the_same_table(
    spark: SparkSession, lake: LakeLayout, tmp_path: Path
) -> None:
    columns = [f.name for f in schemas.TABLE.fields]
    tables = {}
    for where in (sinks.WRITE_IN_TASKS, sinks.WRITE_IN_DRIVER):
        table = tmp_path / f"table-{where}"
        options = job.EtlOptions(end_date=EVENING, table_path=table, write_in=where)
        report = job.run(spark, lake, options, show_progress=False)
        assert report.written_in == where
        assert report.labelled_rows == 60
        assert report.spark_jobs >= 2
        assert "spark jobs" in dict(report.rows(verbose=True))
        tables[where] = fishtable.read(table).select(columns).sort_by("image_id").to_pylist()
    assert tables[sinks.WRITE_IN_TASKS] == tables[sinks.WRITE_IN_DRIVER]
    assert sinks.writes_in_driver(spark, sinks.WRITE_IN_AUTO)  # the test session is local[2]
    with pytest.raises(ValidationError, match="--write-in"):
        job.EtlOptions(end_date=EVENING, write_in="gpu")


def test_end_date_parsing() -> None:
    assert job.parse_end_date("2025-05-11") == datetime(2025, 5, 11, 18)
    assert job.parse_end_date("2025-05-11T18:00:00Z") == datetime(2025, 5, 11, 18)
    assert job.parse_end_date("2025-05-11T20:00:00+02:00") == datetime(2025, 5, 11, 18)
    with pytest.raises(Exception, match="ISO 8601"):
        job.parse_end_date("yesterday")


def test_spark_hudi_options_keep_the_seed_options_and_disable_the_metadata_table() -> None:
    options = sinks.spark_hudi_options(fishtable.TABLE_SPEC, {fishtable.END_DATE_KEY: "x"})
    assert options["hoodie.datasource.write.recordkey.field"] == "image_id"
    assert options["hoodie.datasource.write.partitionpath.field"] == "day"
    assert options["hoodie.datasource.write.precombine.field"] == "timestamp"
    assert options["hoodie.metadata.enable"] == "false"
    assert options["hoodie.datasource.write.hive_style_partitioning"] == "false"
    assert options["hoodie.datasource.write.commitmeta.key.prefix"] == "zfish."
    assert options[fishtable.END_DATE_KEY] == "x"


def test_spark_hudi_writer_produces_the_same_rows(
    spark_hudi: SparkSession, default_study: Path, tmp_path: Path
) -> None:
    """The JVM Hudi datasource and the native writer, one evening each: the same rows."""
    tables = {}
    for writer in job.WRITERS:
        layout = LakeLayout(root=tmp_path / writer)
        upload(default_study, layout, EVENING.date(), show_progress=False)
        job.run(
            spark_hudi, layout, job.EtlOptions(end_date=EVENING, writer=writer), show_progress=False
        )
        rows = fishtable.read(layout.table).select(schemas.TABLE.fieldNames()).to_pylist()
        tables[writer] = sorted(rows, key=lambda r: str(r["image_id"]))
    assert len(tables[job.WRITER_NATIVE]) == 60
    assert tables[job.WRITER_SPARK_HUDI] == tables[job.WRITER_NATIVE]


def test_fields_the_etl_schema_does_not_know_are_reported_and_rows_still_land(
    spark: SparkSession, lake: LakeLayout
) -> None:
    files = sorted(lake.observations.glob("day=2025-05-0[789]/*.json"))[:40]
    assert len(files) == 40
    for i, path in enumerate(files):
        record = json.loads(path.read_text())
        record["weight_mg"] = 12.5
        if i % 2:
            record["tank_id"] = "T1"
        if i == 0:
            record["genetic_markers"]["gene_d"] = True
        path.write_text(json.dumps(record) + "\n")

    report = job.run(spark, lake, job.EtlOptions(end_date=EVENING), show_progress=False)

    assert report.unknown_fields == {
        "observations": (40, ["genetic_markers.gene_d", "tank_id", "weight_mg"]),
        "outcomes": (0, []),
    }
    assert report.quarantined_total == 0
    assert report.labelled_rows == 60  # nothing dropped: the rows land with the known fields
    assert (
        "unknown fields (observations)",
        "3 unknown fields in 40 records: genetic_markers.gene_d, tank_id, weight_mg "
        "(not in the ETL schema; the rows landed without them)",
    ) in report.rows()
    stored = [
        n
        for n in fishtable.schema_with_meta_fields(lake.table).names
        if not n.startswith("_hoodie")
    ]
    assert stored == [f.name for f in schemas.TABLE.fields]  # the table schema did not change
    assert "weight_mg" not in fishtable.read(lake.table).column_names


def test_a_clean_run_reports_no_unknown_fields(spark: SparkSession, lake: LakeLayout) -> None:
    report = job.run(spark, lake, job.EtlOptions(end_date=EVENING), show_progress=False)
    assert report.unknown_fields == {"observations": (0, []), "outcomes": (0, [])}
    assert not [k for k, _ in report.rows() if k.startswith("unknown fields")]


def _spark_submit_env() -> dict[str, str]:
    import os
    import sys

    return {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}


@pytest.mark.slow
def test_the_job_runs_under_spark_submit_packages_as_a_glue_job_would(
    spark_hudi: SparkSession, lake: LakeLayout, default_study: Path, tmp_path: Path
) -> None:
    """`zfish bundle`, then spark-submit --packages <the bundle> etl/joined_fish_data.py.

    The submitted evening is the upsert (2025-05-11) onto the JVM writer's table of
    2025-05-10, written in this process: the upsert is where the bundle's own chatter
    showed up, and a second cold spark-submit for the first evening cost CI 40 s.

    On a new user's machine: an empty zfish cache, and a ``~/.m2`` that holds a
    pom without its jar for one of the bundle's dependencies (slf4j-api
    1.7.36), as a machine used for Maven often does (issue 20). `zfish bundle`
    resolves the bundle into zfish's Ivy home; the README's spark-submit
    command, pointed at that Ivy home, then resolves from it and downloads nothing.
    """
    import subprocess
    import sys
    import time

    from zfish import jars

    bin_dir = Path(sys.executable).parent
    script = Path(__file__).resolve().parents[2] / "etl" / "joined_fish_data.py"
    home = tmp_path / "home"
    pom_only_entry(home, SLF4J_API)
    cache = tmp_path / "zfish-cache"
    ivy = cache / "ivy"
    # Java's user.home does not follow $HOME: without this, Ivy finds the real ~/.m2.
    env = {
        k: v
        for k, v in _spark_submit_env().items()
        if k not in (jars.ENV_HUDI_BUNDLE, "XDG_CACHE_HOME")
    }
    env.update(HOME=str(home), ZFISH_CACHE=str(cache), JAVA_TOOL_OPTIONS=f"-Duser.home={home}")
    try:
        started = time.perf_counter()
        bundle = subprocess.run(
            [str(bin_dir / "zfish"), "bundle"], capture_output=True, text=True, env=env, timeout=900
        )
        print(f"zfish bundle into an empty cache: {time.perf_counter() - started:.1f}s")
        assert bundle.returncode == 0, bundle.stderr[-3000:]
        assert bundle.stdout.strip() == str(cache / "jars" / jars.HUDI_BUNDLE.jar_name)
        assert "trying Maven" not in bundle.stderr, bundle.stderr[-3000:]
        # The README's `--conf spark.jars.ivySettings=$(.venv/bin/zfish bundle --ivy-settings)`.
        settings = subprocess.run(
            [str(bin_dir / "zfish"), "bundle", "--ivy-settings"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout.strip()
        assert Path(settings) == jars.ivy_settings()

        def submit(end_date: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [
                    str(bin_dir / "spark-submit"),
                    "--master",
                    "local[2]",
                    "--packages",
                    jars.HUDI_BUNDLE.coordinate,
                    "--conf",
                    f"spark.jars.ivy={ivy}",
                    "--conf",
                    f"spark.jars.ivySettings={settings}",
                    str(script),
                    "--writer",
                    "spark-hudi",
                    "--lake",
                    str(lake.root),
                    "--end-date",
                    end_date,
                    "--quiet",
                ],
                capture_output=True,
                text=True,
                env=env,
                timeout=900,
            )

        first = job.run(
            spark_hudi,
            lake,
            job.EtlOptions(end_date=EVENING, writer=job.WRITER_SPARK_HUDI),
            show_progress=False,
        )
        assert first.labelled_rows == 60
        upload(default_study, lake, date(2025, 5, 11), show_progress=False)
        second = submit("2025-05-11T18:00:00")
        assert second.returncode == 0, second.stderr[-3000:]
        ivy_lines = [line for line in second.stderr.splitlines() if "artifacts" in line]
        print("Ivy:", *ivy_lines, sep="\n  ")
        assert "downloading https://" not in second.stderr
        assert any("0 artifacts copied" in line for line in ivy_lines), ivy_lines
        commits = fishtable.commits(lake.table)
        assert [c.end_date for c in commits] == [EVENING, datetime(2025, 5, 11, 18)]
        assert commits[-1].num_inserts == 15
        assert f"{commits[-1].instant} (15 inserted, " in second.stdout, second.stdout
        assert fishtable.count_rows(lake.table) == 75
        # The JVM's own chatter (the bundle's JOL prints to stdout in the first upsert) stays out.
        assert "# WARNING" not in second.stdout
    finally:
        # 2 x 109 MB (Ivy's cache and its retrieved copy): not kept in pytest's tmp folders.
        shutil.rmtree(cache, ignore_errors=True)


@pytest.mark.slow
def test_offline_the_jvm_writer_fails_fast_with_exit_5_naming_coordinate_cache_and_fix(
    lake: LakeLayout, tmp_path: Path
) -> None:
    """No network (a namespace with loopback only) and empty caches: exit 5 and what to do."""
    import shutil
    import subprocess
    import sys
    import time

    from zfish import jars

    unshare, ip = shutil.which("unshare"), shutil.which("ip") or "/usr/sbin/ip"
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed: cannot cut the network for one test")
    probe = subprocess.run([unshare, "-n", ip, "link", "set", "lo", "up"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"network namespaces are not permitted here (unshare -n): {probe.stderr!r}")
    home = tmp_path / "home"
    home.mkdir()
    cache = home / ".cache" / "zfish"
    env = {
        k: v
        for k, v in _spark_submit_env().items()
        if k not in (jars.ENV_HUDI_BUNDLE, "XDG_CACHE_HOME", "SPARK_HOME")
    }
    # Java's user.home does not follow $HOME: without this, Ivy and Maven find /root/.m2.
    env.update(HOME=str(home), ZFISH_CACHE=str(cache), JAVA_TOOL_OPTIONS=f"-Duser.home={home}")
    zfish = Path(sys.executable).with_name("zfish")
    command = (
        f"{ip} link set lo up && exec {zfish} --lake {lake.root} etl "
        "--end-date 2025-05-10T18:00:00 --writer spark-hudi --quiet"
    )
    started = time.perf_counter()
    run = subprocess.run(
        [unshare, "-n", "sh", "-c", command],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
    print(
        f"offline: zfish etl --writer spark-hudi gave up after {time.perf_counter() - started:.0f}s"
    )
    message = " ".join(run.stderr.split())
    print(run.stderr[-2000:])
    assert run.returncode == 5, run.stderr[-3000:]
    assert jars.HUDI_BUNDLE.coordinate in message
    assert f"cache: {cache / 'jars' / jars.HUDI_BUNDLE.jar_name}" in message
    assert "fix: on a machine that reaches Maven Central run `make bundle`" in message
    assert jars.ENV_HUDI_BUNDLE in message
    assert not fishtable.exists(lake.table)
    assert not (cache / "jars" / jars.HUDI_BUNDLE.jar_name).exists()
