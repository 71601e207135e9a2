"""Athena and Glue on ``zfish serve``: query round trips, concurrent clients and a job run, against baselines in the same run.

* Round trip: StartQueryExecution -> SUCCEEDED -> GetQueryResults through
  boto3 (polling every 5 ms), p50 over repeats, for the seed's
  ``SELECT count(*)`` (default study, data up to 2025-05-10) and for a
  GROUP BY over the 100x study (hatch rate 500). Baseline: the same
  statement's engine time in ``zfish query``'s own engine in this process.
  Goal: p50 at most 50 ms above it.
* Concurrency: 8 clients, 10 queries each, queries per second.
* Job run: a Glue StartJobRun of ``etl/joined_fish_data.py`` for evening
  2025-05-10 in the endpoint's warm driver (:mod:`zfish.warmjob`; the run
  before it, evening 2025-05-09, started the driver) against ``zfish etl``
  of the same evening on a copy of the lake. Goal: at most 1 s of overhead.

``--quick``: hatch rate 50 and fewer repeats; no job run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks import measure

SEED_SQL = 'SELECT count(*) FROM "zebra_fish_demo"."observations"'
GROUP_SQL = (
    'SELECT day, treatment, count(*) AS n, avg(length_mm) AS mean_length FROM "zebra_fish_demo"."observations" '
    "GROUP BY day, treatment ORDER BY day, treatment"
)
GOAL_MS = 50
CLIENTS, PER_CLIENT = 8, 10


def _lake(work: Path, name: str, hatch_rate: int, until: date) -> Path:
    from zfish.catalog import crawler
    from zfish.generator import StudySpec, generate
    from zfish.lake.upload import upload
    from zfish.settings import LakeLayout

    data = work / f"{name}-data"
    generate(StudySpec(hatch_rate=hatch_rate), data, show_progress=False)
    root = work / f"{name}-lake"
    layout = LakeLayout(root=root)
    upload(data, layout, until, show_progress=False)
    crawler.crawl(layout)
    return root


def _client(url: str, service: str) -> Any:
    import boto3

    return boto3.session.Session().client(
        service,
        endpoint_url=url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )


def _round_trip(athena: Any, sql: str) -> tuple[float, float]:
    """Seconds from StartQueryExecution to the results, and Athena's own overhead (total - engine)."""
    started = time.perf_counter()
    query_id = athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": "zebra_fish_demo"}
    )["QueryExecutionId"]
    while True:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        state = execution["Status"]["State"]
        if state not in ("QUEUED", "RUNNING"):
            break
        time.sleep(0.005)
    if state != "SUCCEEDED":
        raise RuntimeError(f"{sql!r} ended {state}")
    athena.get_query_results(QueryExecutionId=query_id)
    stats = execution["Statistics"]
    overhead = (stats["TotalExecutionTimeInMillis"] - stats["EngineExecutionTimeInMillis"]) / 1000
    return time.perf_counter() - started, overhead


def _serve(root: Path) -> Any:
    """``zfish serve`` over the lake in its own process (as users run it: no GIL shared with the clients)."""
    from benchmarks.bench_s3 import Server, _free_port

    port = _free_port()
    zfish = str(Path(sys.executable).parent / "zfish")
    return Server(
        [zfish, "--lake", str(root), "serve", "--port", str(port)], f"http://127.0.0.1:{port}"
    )


def _queries(root: Path, label: str, sql: str, repeats: int) -> None:
    from zfish.catalog.query import run_query
    from zfish.settings import LakeLayout

    layout = LakeLayout(root=root)
    running = _serve(root)
    try:
        athena = _client(running.url, "athena")
        run_query(layout, sql)
        _round_trip(athena, sql)
        engine, trips, overheads = [], [], []
        # Interleaved, so a change of the machine's load falls on both alike.
        for _ in range(repeats):
            engine.append(run_query(layout, sql).seconds)
            trip, overhead = _round_trip(athena, sql)
            trips.append(trip)
            overheads.append(overhead)
    finally:
        running.stop()
    p50_engine, p50_trip = 1000 * measure.median(engine), 1000 * measure.median(trips)
    over = p50_trip - p50_engine
    served = 1000 * measure.median(overheads)
    print(
        f"  {label}: Athena round trip p50 {p50_trip:.0f} ms, zfish query engine {p50_engine:.0f} ms: "
        f"+{over:.0f} ms (goal <= +{GOAL_MS} ms: {'met' if over <= GOAL_MS else 'NOT met'}); "
        f"ratio {p50_trip / p50_engine:.2f}; Athena's own total - engine time p50 {served:.0f} ms"
    )


def _concurrency(root: Path) -> None:
    running = _serve(root)
    try:
        clients = [_client(running.url, "athena") for _ in range(CLIENTS)]
        _round_trip(clients[0], SEED_SQL)
        serial_started = time.perf_counter()
        for _ in range(PER_CLIENT):
            _round_trip(clients[0], SEED_SQL)
        serial = PER_CLIENT / (time.perf_counter() - serial_started)
        started = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(
                pool.map(
                    lambda c: [_round_trip(c, SEED_SQL) for _ in range(PER_CLIENT)],
                    clients,
                )
            )
        qps = CLIENTS * PER_CLIENT / (time.perf_counter() - started)
    finally:
        running.stop()
    print(
        f"  {CLIENTS} concurrent clients x {PER_CLIENT} queries: {qps:.1f} queries/s "
        f"(one client alone {serial:.1f} queries/s; ratio {qps / serial:.2f})"
    )


def _job_run(work: Path, root: Path) -> None:
    """Evening 2025-05-10 after 2025-05-09, by ``zfish etl`` and by job runs (cold, then warm)."""
    job_lake = work / "job-lake"
    etl_lake = work / "etl-lake"
    shutil.copytree(root, job_lake)
    shutil.copytree(root, etl_lake)
    zfish = str(Path(sys.executable).parent / "zfish")

    def etl(end: str) -> float:
        started = time.perf_counter()
        subprocess.run(
            [zfish, "--lake", str(etl_lake), "etl", "--end-date", end],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - started

    etl("2025-05-09T18:00:00")
    baseline = etl("2025-05-10T18:00:00")
    running = _serve(job_lake)
    try:
        s3, glue = _client(running.url, "s3"), _client(running.url, "glue")
        s3.upload_file(
            str(measure.REPO / "etl" / "joined_fish_data.py"),
            "my-data-bucket",
            "scripts/joined_fish_data.py",
        )
        glue.create_job(
            Name="bench",
            Role="zfish",
            Command={
                "Name": "glueetl",
                "ScriptLocation": "s3://my-data-bucket/scripts/joined_fish_data.py",
            },
        )

        def job(end: str) -> float:
            started = time.perf_counter()
            run_id = glue.start_job_run(JobName="bench", Arguments={"--END_DATE": end})["JobRunId"]
            while True:
                run = glue.get_job_run(JobName="bench", RunId=run_id)["JobRun"]
                if run["JobRunState"] not in ("STARTING", "RUNNING", "STOPPING"):
                    break
                time.sleep(0.05)
            if run["JobRunState"] != "SUCCEEDED":
                raise RuntimeError(f"job run ended {run['JobRunState']}: {run.get('ErrorMessage')}")
            return time.perf_counter() - started

        first = job("2025-05-09T18:00:00")
        warm = job("2025-05-10T18:00:00")
    finally:
        running.stop()
    print(
        f"  job run of evening 2025-05-10 on a warm driver {warm:.1f} s vs zfish etl {baseline:.1f} s: "
        f"{warm - baseline:+.1f} s (goal <= +1 s: {'met' if warm - baseline <= 1 else 'NOT met'}); "
        f"ratio {warm / baseline:.2f}; the first run (driver starting) took {first:.1f} s"
    )


def main(*, quick: bool = False) -> None:
    hatch = 50 if quick else 500
    repeats = 5 if quick else 20
    work = measure.work_dir("bench-athena", (400 if quick else 4000) * 2**20)
    try:
        print(f"  {measure.load_note()}; work dir {work}")
        seed = _lake(work, "seed", 5, date(2025, 5, 10))
        big = _lake(work, "x100", hatch, date(2025, 6, 2))
        _queries(seed, "seed SELECT count(*)", SEED_SQL, repeats)
        _queries(big, f"GROUP BY over the study at hatch rate {hatch}", GROUP_SQL, repeats)
        _concurrency(seed)
        if not quick:
            _job_run(work, seed)
    finally:
        shutil.rmtree(work, ignore_errors=True)
