"""The unchanged job script on a Spark standalone cluster (a master and two workers on localhost).

The cluster is started by the test from the scripts the pyspark distribution
ships (``bin/spark-class`` with the Master and Worker classes; the pip package
has no ``sbin/start-*.sh``), with small memory settings, and stopped in a
``finally``. The job runs with ``spark-submit --master spark://...``: the
native writer writes its file groups in tasks on the workers' executors. The
table must hold the same rows and values as a ``local[2]`` run of the same job.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from zfish import fishtable
from zfish.lake.upload import upload
from zfish.pipeline import schemas
from zfish.settings import LakeLayout

pytestmark = [pytest.mark.spark, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "etl" / "joined_fish_data.py"
BIN = Path(sys.executable).parent
DATA_COLUMNS = schemas.TABLE.fieldNames()  # the table's columns without Hudi's


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "SPARK_HOME": str(_spark_home()),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_DAEMON_MEMORY": "256m",
        "TZ": "UTC",
    }


def _workers_alive(ui_port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=5) as resp:
            state = json.load(resp)
    except OSError:
        return 0
    return sum(1 for w in state.get("workers", []) if w.get("state") == "ALIVE")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[str]:
    """``spark://127.0.0.1:PORT`` of a master with two one-core workers of 1 GiB each."""
    spark_class = str(_spark_home() / "bin" / "spark-class")
    port, ui = _free_port(), _free_port()
    logs = tmp_path / "cluster-logs"
    logs.mkdir()
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> None:
        out = (logs / f"{name}.log").open("wb")
        procs.append(
            subprocess.Popen(
                [spark_class, *args],
                env=_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    url = f"spark://127.0.0.1:{port}"
    try:
        start(
            "master",
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(ui),
        )
        for i in (1, 2):
            work = tmp_path / f"worker{i}"
            start(
                f"worker{i}",
                "org.apache.spark.deploy.worker.Worker",
                "--cores",
                "1",
                "--memory",
                "1g",
                "--work-dir",
                str(work),
                "--webui-port",
                str(_free_port()),
                url,
            )
        deadline = time.monotonic() + 180
        while _workers_alive(ui) < 2:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                tails = {p.name: p.read_text()[-1500:] for p in logs.iterdir()}
                pytest.fail(f"the standalone cluster did not come up: {tails}")
            time.sleep(0.5)
        yield url
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def submit(master: str, lake: Path, end: str, *job_args: str) -> str:
    spark_submit = str(BIN / "spark-submit")
    run = subprocess.run(
        [
            spark_submit,
            "--master",
            master,
            "--conf",
            "spark.executor.memory=512m",
            "--conf",
            "spark.cores.max=2",
            str(SCRIPT),
            "--lake",
            str(lake),
            "--end-date",
            end,
            "--verbose",
            *job_args,
        ],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout


def table_rows(lake: Path) -> list[dict[str, object]]:
    rows = fishtable.read(LakeLayout(root=lake).table).select(DATA_COLUMNS).to_pylist()
    return sorted(rows, key=lambda r: str(r["image_id"]))


def lake_until(study: Path, root: Path, day: date) -> Path:
    upload(study, LakeLayout(root=root), day, show_progress=False)
    return root


def test_the_job_on_a_standalone_cluster_matches_local_mode(
    cluster: str, spark: object, default_study: Path, tmp_path: Path
) -> None:
    """The upsert evening (2025-05-11 onto 2025-05-10's table) on the cluster, native writer.

    The first evening and the ``local[2]`` reference run in this process (the
    session's Spark): what is proven on the cluster is the job's upsert, with
    file groups merged in tasks on the workers, not the cold start of six
    spark-submits (that cost CI about two minutes). The JVM writer's upsert on a
    cluster is the Hudi bundle's own distributed code; its spark-submit path
    (``--packages``, local[2]) is proven in test_job.py, and a cluster run of it cost
    CI another 40 s.
    """
    from zfish.simulate import evening

    lakes = {name: tmp_path / name for name in ("local", "native")}
    first = date(2025, 5, 10)
    for root in lakes.values():
        evening(spark, default_study, LakeLayout(root=root), first, show_progress=False)  # type: ignore[arg-type]
    assert len(table_rows(lakes["local"])) == 60
    second = date(2025, 5, 11)
    for root in lakes.values():
        lake_until(default_study, root, second)
    evening(spark, default_study, LakeLayout(root=lakes["local"]), second, show_progress=False)  # type: ignore[arg-type]
    end = f"{second.isoformat()}T18:00:00"
    out = submit(cluster, lakes["native"], end)
    # The native writer wrote its file groups in tasks on the workers, not in the driver.
    assert "file groups written in the tasks" in out, out
    expected = table_rows(lakes["local"])
    assert len(expected) == 75
    assert table_rows(lakes["native"]) == expected
