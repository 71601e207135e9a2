"""Glue scripts run as Glue runs them: ``zfish job run`` and the endpoint's StartJobRun, both spark-submit."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.aws.conftest import Live, start_in_thread
from tests.support import write_study
from zfish import jobrun
from zfish.catalog import crawler
from zfish.exceptions import EXIT_USAGE, ValidationError
from zfish.lake.upload import upload
from zfish.settings import LakeLayout

BIN = Path(sys.executable).parent
DAYS = [date(2025, 5, 6), date(2025, 5, 7), date(2025, 5, 8)]

# Reads s3 JSON, writes Parquet, then exits with the code it is given (to see it come back).
COPY_SCRIPT = """
import sys
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

args = getResolvedOptions(sys.argv, ["JOB_NAME", "SOURCE", "TARGET", "EXIT_CODE"])
glue = GlueContext(SparkContext.getOrCreate())
job = Job(glue)
job.init(args["JOB_NAME"], args)
frame = glue.create_dynamic_frame.from_options(
    connection_type="s3", connection_options={"paths": [args["SOURCE"]]}, format="json"
)
glue.write_dynamic_frame.from_options(
    frame=frame.rename_field("n", "number"),
    connection_type="s3",
    connection_options={"path": args["TARGET"]},
    format="parquet",
)
print(f"job {args['JOB_NAME']} run {args['JOB_RUN_ID']} copied {frame.count()}")
job.commit()
sys.exit(int(args["EXIT_CODE"]))
"""

# A catalog read pruned by a run argument, written where the job's default arguments say.
CATALOG_SCRIPT = """
import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

args = getResolvedOptions(sys.argv, ["JOB_NAME", "DAY", "OUTPUT"])
glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)
observations = glueContext.create_dynamic_frame.from_catalog(
    database="zebra_fish_demo",
    table_name="observations",
    push_down_predicate=f"day = '{args['DAY']}'",
    transformation_ctx="observations",
)
picked = SelectFields.apply(frame=observations, paths=["image_id", "genetic_markers.gene_a", "day"])
glueContext.write_dynamic_frame.from_options(
    frame=picked,
    connection_type="s3",
    connection_options={"path": args["OUTPUT"], "partitionKeys": ["day"]},
    format="parquet",
)
job.commit()
"""


def test_arguments_are_glues_name_value_pairs() -> None:
    tokens = ["--A", "1", "--B=x=y", "C", "--A", "2"]
    with pytest.raises(ValidationError, match="'C' is not --KEY value"):
        jobrun.parse_arguments(tokens)
    assert jobrun.parse_arguments(["--A", "1", "--B=x=y", "--A", "2"]) == {"--A": "2", "--B": "x=y"}
    with pytest.raises(ValidationError, match="--LAST has no value"):
        jobrun.parse_arguments(["--LAST"])


def test_the_reserved_arguments_come_first_and_once(tmp_path: Path) -> None:
    argv = jobrun.submit_argv(
        tmp_path / "s.py",
        {"END_DATE": "2025-05-11", "--JOB_NAME": "other", "--W": "native"},
        job_name="nightly",
        run_id="jr_1",
        bundle=tmp_path / "hudi.jar",
    )
    after = argv[argv.index(str(tmp_path / "s.py")) + 1 :]
    assert after == [
        "--JOB_NAME",
        "nightly",
        "--JOB_RUN_ID",
        "jr_1",
        "--END_DATE",
        "2025-05-11",
        "--W",
        "native",
    ]
    assert argv[argv.index("--jars") + 1] == str(tmp_path / "hudi.jar")


def test_zfish_job_run_refuses_a_missing_script_or_a_bare_key_before_spark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from zfish.cli import cli

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("spark-submit was started")

    monkeypatch.setattr(jobrun, "start", refuse)
    lake = str(tmp_path / "lake")
    missing = CliRunner().invoke(cli, ["--lake", lake, "job", "run", str(tmp_path / "nope.py")])
    assert missing.exit_code == EXIT_USAGE
    assert "no job script at" in missing.output
    script = tmp_path / "job.py"
    script.write_text("")
    bare = CliRunner().invoke(cli, ["job", "run", str(script), "--END_DATE"])
    assert bare.exit_code == EXIT_USAGE
    assert "--END_DATE has no value" in bare.output


@pytest.mark.spark
@pytest.mark.slow
def test_zfish_job_run_passes_the_arguments_and_returns_the_scripts_exit_code(
    tmp_path: Path, hudi_bundle: Path
) -> None:
    lake = tmp_path / "lake"
    source = lake / "my-data-bucket" / "in"
    source.mkdir(parents=True)
    (source / "a.json").write_text(
        "".join(json.dumps({"n": i, "s": f"r{i}"}) + "\n" for i in range(3))
    )
    script = tmp_path / "tiny_job.py"
    script.write_text(COPY_SCRIPT)
    result = subprocess.run(
        [
            str(BIN / "zfish"),
            "--lake",
            str(lake),
            "job",
            "run",
            str(script),
            "--SOURCE",
            "s3://my-data-bucket/in/",
            "--TARGET=s3://my-data-bucket/out/copy/",
            "--EXIT_CODE",
            "7",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 7, result.stderr[-3000:]
    assert "job tiny_job run jr_" in result.stdout  # JOB_NAME from the file name, a run id
    assert "copied 3" in result.stdout
    assert "(tiny_job): FAILED (exit code 7) in " in result.stdout
    assert "job run jr_" in result.stderr  # the progress line
    rows = pq.read_table(lake / "my-data-bucket" / "out" / "copy").to_pylist()
    assert sorted((r["number"], r["s"]) for r in rows) == [(0, "r0"), (1, "r1"), (2, "r2")]


@pytest.fixture
def crawled(tmp_path: Path) -> Iterator[Live]:
    """A small crawled study behind a live endpoint."""
    layout = LakeLayout(root=tmp_path / "lake")
    upload(write_study(tmp_path / "study", DAYS), layout, date(2025, 5, 9), show_progress=False)
    crawler.crawl(layout)
    running = start_in_thread(layout.root)
    try:
        yield Live(running.url, running.context.layout, tmp_path / "aws-home")
    finally:
        running.stop()


@pytest.mark.spark
@pytest.mark.slow
def test_a_glue_script_through_create_job_and_start_job_run(
    crawled: Live, hudi_bundle: Path
) -> None:
    s3 = crawled.client("s3")
    s3.put_object(Bucket="my-data-bucket", Key="scripts/pick_day.py", Body=CATALOG_SCRIPT.encode())
    glue = crawled.client("glue")
    glue.create_job(
        Name="pick_day",
        Role="arn:aws:iam::000000000000:role/glue",
        Command={"Name": "glueetl", "ScriptLocation": "s3://my-data-bucket/scripts/pick_day.py"},
        DefaultArguments={"--OUTPUT": "s3://my-data-bucket/exports/pick_day/"},
        GlueVersion="5.0",
    )
    run_id = glue.start_job_run(JobName="pick_day", Arguments={"--DAY": "2025-05-07"})["JobRunId"]
    deadline = time.monotonic() + 600
    while True:
        run = glue.get_job_run(JobName="pick_day", RunId=run_id)["JobRun"]
        if run["JobRunState"] not in ("STARTING", "RUNNING") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    listed = s3.list_objects_v2(Bucket="my-data-bucket", Prefix="exports/pick_day/")
    keys = [o["Key"] for o in listed.get("Contents", [])]
    assert keys
    assert all(
        k.startswith("exports/pick_day/day=2025-05-07/") for k in keys if k.endswith(".parquet")
    )
    table = pq.read_table(crawled.root / "my-data-bucket" / "exports" / "pick_day")
    rows = table.to_pylist()
    expected = sorted(
        p.stem for p in (crawled.layout.observations / "day=2025-05-07").glob("*.json")
    )
    assert sorted(r["image_id"] for r in rows) == expected
    assert {r["day"] for r in rows} == {"2025-05-07"}
    assert all(r["genetic_markers"] == {"gene_a": True} for r in rows)
