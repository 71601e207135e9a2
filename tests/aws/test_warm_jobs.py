"""Glue job runs in the endpoint's warm Spark driver: one JVM for run after run, cold runs when it is busy."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.aws.conftest import Live, start_in_thread

SCRIPT = """\
import os, sys
from pyspark.sql import SparkSession
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["JOB_NAME", "ROWS"])
spark = SparkSession.builder.getOrCreate()
n = spark.range(int(args["ROWS"])).count()
print(f"driver-pid={os.getpid()} rows={n} job={args['JOB_NAME']}")
spark.stop()  # a Glue script's habit: the warm driver keeps its session anyway
if int(args["ROWS"]) == 13:
    sys.exit(3)
"""


@pytest.fixture
def live(tmp_path: Path, hudi_bundle: Path) -> Iterator[Live]:
    running = start_in_thread(tmp_path / "lake")
    try:
        yield Live(running.url, running.context.layout, tmp_path / "aws-home")
    finally:
        running.stop()


def _wait(glue: Any, run_id: str, job: str = "warm") -> dict[str, Any]:
    for _ in range(3000):
        run = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
        if run["JobRunState"] not in ("STARTING", "RUNNING", "STOPPING"):
            return dict(run)
        time.sleep(0.1)
    raise AssertionError("the job run did not finish")


def _log(live: Live, run_id: str) -> str:
    from zfish.aws.state import Records

    runs = Records(live.layout.root, "glue", "job-runs")
    return str(runs.items[run_id].get("Log", ""))


def test_runs_share_one_warm_driver_and_keep_their_own_results(live: Live, tmp_path: Path) -> None:
    script = tmp_path / "count.py"
    script.write_text(SCRIPT)
    live.client().create_bucket(Bucket="my-data-bucket")
    live.client().upload_file(str(script), "my-data-bucket", "scripts/count.py")
    glue = live.client("glue")
    glue.create_job(
        Name="warm",
        Role="zfish",
        Command={"Name": "glueetl", "ScriptLocation": "s3://my-data-bucket/scripts/count.py"},
        DefaultArguments={"--ROWS": "5"},
    )
    pids = []
    for rows in ("7", "11"):
        run_id = glue.start_job_run(JobName="warm", Arguments={"--ROWS": rows})["JobRunId"]
        run = _wait(glue, run_id)
        assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
        log = _log(live, run_id)
        assert f"rows={rows} job=warm" in log
        pids.append(log.split("driver-pid=")[1].split()[0])
    # The same Python driver served both runs (the second did not start a JVM).
    assert pids[0] == pids[1]
    failed = _wait(glue, glue.start_job_run(JobName="warm", Arguments={"--ROWS": "13"})["JobRunId"])
    assert failed["JobRunState"] == "FAILED"
    assert "3" in failed["ErrorMessage"]
    # A stop during a warm run ends it; the next run still succeeds.
    slow = tmp_path / "slow.py"
    slow.write_text("import time\ntime.sleep(300)\n")
    live.client().upload_file(str(slow), "my-data-bucket", "scripts/slow.py")
    glue.create_job(
        Name="slow",
        Role="zfish",
        Command={"Name": "glueetl", "ScriptLocation": "s3://my-data-bucket/scripts/slow.py"},
    )
    run_id = glue.start_job_run(JobName="slow")["JobRunId"]
    for _ in range(300):
        if glue.get_job_run(JobName="slow", RunId=run_id)["JobRun"]["JobRunState"] == "RUNNING":
            break
        time.sleep(0.1)
    glue.batch_stop_job_run(JobName="slow", JobRunIds=[run_id])
    assert _wait(glue, run_id, "slow")["JobRunState"] == "STOPPED"
    again = _wait(glue, glue.start_job_run(JobName="warm", Arguments={"--ROWS": "3"})["JobRunId"])
    assert again["JobRunState"] == "SUCCEEDED", again.get("ErrorMessage")
