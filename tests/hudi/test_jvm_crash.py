"""Crash interplay: a writer of one kind is SIGKILLed mid-write, a writer of the other kind recovers.

(a) A native attempt killed after its data files (``ZFISH_HUDI_FAULT``) is
rolled back by the next JVM write, from zfish's direct markers. (b) A JVM write
(its own Spark in a child process, default TIMELINE_SERVER_BASED markers) is
killed once its ``.inflight`` and a data file exist; the next native write
refuses to touch it while its files are fresh (it may be a live writer:
``TableLockedError``, exit 4) and rolls it back, from its ``MARKERS<n>`` files,
once they are old. Both end at the oracle, read by hudi-rs and the JVM, with
no file of the dead instant left: no data file, marker, instant file or
Hadoop ``.crc`` sidecar.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jvm_testlib as jvm
import pyarrow.parquet as pq
import pytest
from hudi_testlib import fish_spec, id_values, rows
from hudi_testlib import snapshot as rs_snapshot
from jvm_testlib import orphan_sidecars

from zfish.exceptions import EXIT_LOCKED, TableLockedError
from zfish.hudi import HudiTable, WriteOptions
from zfish.hudi import options as o
from zfish.hudi.fsview import parse_base_file
from zfish.hudi.storage import Storage
from zfish.hudi.timeline import Timeline

pytestmark = pytest.mark.spark

SPEC = fish_spec(name="crash_t")
OPTIONS = WriteOptions(bloom_num_entries=200)

NATIVE_CHILD = """
import sys
import pyarrow.parquet as pq
from zfish.hudi import HudiTable, WriteOptions
HudiTable.open(sys.argv[1]).upsert(pq.read_table(sys.argv[2]),
                                   options=WriteOptions(bloom_num_entries=200))
print("survived")
"""

JVM_CHILD = """
import json, sys
from zfish.spark import get_spark
spark = get_spark("zfish-killed-writer", hudi=True)
df = spark.read.parquet(sys.argv[2])
df.write.format("hudi").options(**json.loads(sys.argv[3])).mode("append").save(sys.argv[1])
print("survived")
"""


def traces(base: Path, instant: str) -> list[str]:
    """Every file or folder left of ``instant``: data files, sidecars, markers, instant files."""
    out = []
    for path in base.rglob("*"):
        rel = path.relative_to(base).as_posix()
        name = path.name.removeprefix(".").removesuffix(o.HADOOP_CRC_SUFFIX)
        base_file = parse_base_file("", name)
        if (base_file is not None and base_file.instant == instant) or name.startswith(instant):
            out.append(rel)
    return sorted(out)


def assert_no_pending(base: Path) -> None:
    timeline = Timeline.load(Storage(str(base)))
    assert timeline.pending() == [], timeline.pending()
    temp = base / ".hoodie" / ".temp"
    assert not temp.exists() or not any(temp.iterdir()), list(temp.rglob("*"))


def test_native_attempt_killed_is_rolled_back_by_the_next_jvm_write(
    spark_hudi, tmp_path: Path
) -> None:
    base = tmp_path / "t"
    table = HudiTable.create(str(base), SPEC)
    table.upsert(rows(["a", "b", "c"], ["d1", "d1", "d2"], 1, 1), options=OPTIONS)
    batch = tmp_path / "batch.parquet"
    pq.write_table(rows(["a", "n"], ["d1", "dnew"], 2, 2), batch)
    child = subprocess.run(
        [sys.executable, "-c", NATIVE_CHILD, str(base), str(batch)],
        env={**os.environ, "ZFISH_HUDI_FAULT": "after_data_files"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr
    (dead,) = Timeline.load(Storage(str(base))).pending()
    marked = sorted((base / ".hoodie" / ".temp" / dead.timestamp).rglob("*.marker.*"))
    assert sorted(m.name.rsplit(".", 1)[1] for m in marked) == ["CREATE", "MERGE"]
    assert len([t for t in traces(base, dead.timestamp) if t.endswith(".parquet")]) == 2

    instant = jvm.jvm_write(spark_hudi, base, rows(["b", "m"], ["d1", "d3"], 3, 3), SPEC)
    assert instant > dead.timestamp
    expected = {"a": 1, "b": 3, "c": 1, "m": 3}
    assert id_values(rs_snapshot(base)) == expected
    assert id_values(jvm.snapshot(spark_hudi, base)) == expected
    assert traces(base, dead.timestamp) == []
    assert orphan_sidecars(base) == []
    assert_no_pending(base)
    # Marker-based rollback deletes only marked files: the partition the dead attempt
    # created keeps its metafile (the JVM does the same to its own); readers ignore it.
    assert [p.name for p in (base / "dnew").iterdir()] == [".hoodie_partition_metadata"]
    # zfish takes over its dead writer's lock and writes on.
    result = HudiTable.open(str(base)).upsert(rows(["c"], "d2", 4, 4), options=OPTIONS)
    assert result.rolled_back == []
    assert id_values(rs_snapshot(base)) == {**expected, "c": 4}
    assert id_values(jvm.snapshot(spark_hudi, base)) == {**expected, "c": 4}


def _kill_jvm_mid_write(base: Path, batch: Path, options: dict[str, str]) -> str:
    """Start a JVM write in a child process; SIGKILL it once its inflight has a data file."""
    proc = subprocess.Popen(
        [sys.executable, "-c", JVM_CHILD, str(base), str(batch), json.dumps(options)],
        start_new_session=True,  # its own process group: the Python driver and its JVM
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    hoodie = base / ".hoodie"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            done = {p.name.split(".")[0] for p in hoodie.glob("*.commit")}
            pending = sorted(
                p.name.split(".")[0]
                for p in hoodie.glob("*.inflight")
                if p.name.split(".")[0] not in done
            )
            if pending and any(base.glob(f"*/*_{pending[-1]}.parquet")):
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return pending[-1]
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    pytest.fail(
        f"the JVM write was not caught mid-write (rc {proc.returncode}): {out}{err[-3000:]}"
    )


def test_jvm_attempt_killed_is_refused_while_fresh_then_rolled_back_by_native(
    spark_hudi, tmp_path: Path
) -> None:
    base = tmp_path / "t"
    before = {f"k{i}": 1 for i in range(40)}
    days = [f"d{i % 20}" for i in range(40)]
    HudiTable.create(str(base), SPEC).upsert(rows(list(before), days, 1, 1), options=OPTIONS)
    # Many partitions make a long write phase (one file each) to catch it in.
    many = [f"k{i}" for i in range(1200)]
    batch = tmp_path / "batch.parquet"
    pq.write_table(rows(many, [f"d{i % 30}" for i in range(1200)], 2, 2), batch)
    dead = _kill_jvm_mid_write(base, batch, jvm.write_options(SPEC))

    temp = base / ".hoodie" / ".temp" / dead
    assert (temp / o.MARKERS_TYPE_FILE).read_text() == o.MARKER_TYPE_TIMELINE_SERVER_BASED
    assert list(temp.glob(f"{o.MARKERS_FILE_PREFIX}[0-9]*"))
    written = [t for t in traces(base, dead) if t.endswith(".parquet")]
    assert written
    # Readers see the last commit only.
    assert id_values(rs_snapshot(base)) == before

    table = HudiTable.open(str(base))
    with pytest.raises(TableLockedError) as info:
        table.upsert(rows(["k1", "new"], ["d1", "d7"], 3, 3), options=OPTIONS)
    message = str(info.value)
    assert info.value.exit_code == EXIT_LOCKED
    for part in (dead, "did not start", "no heartbeat", "Fix:"):
        assert part in message, part
    assert traces(base, dead), "nothing was touched"
    assert id_values(rs_snapshot(base)) == before

    # Old enough to be abandoned (here: aged by hand, as after the default 15 minutes).
    old = time.time() - 3600
    for rel in traces(base, dead):
        for path in [base / rel, *(base / rel).rglob("*")]:
            os.utime(path, (old, old))
    result = table.upsert(rows(["k1", "new"], ["d1", "d7"], 3, 3), options=OPTIONS)
    assert result.rolled_back == [dead]
    expected = {**before, "k1": 3, "new": 3}
    assert id_values(rs_snapshot(base)) == expected
    assert id_values(jvm.snapshot(spark_hudi, base)) == expected
    assert traces(base, dead) == []
    assert orphan_sidecars(base) == []
    assert_no_pending(base)
    # And the JVM writes on after zfish's rollback.
    jvm.jvm_write(spark_hudi, base, rows(["k2"], "d2", 4, 4), SPEC)
    assert id_values(jvm.snapshot(spark_hudi, base)) == {**expected, "k2": 4}
    assert id_values(rs_snapshot(base)) == {**expected, "k2": 4}
