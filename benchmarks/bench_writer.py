"""Both Hudi writers on the same rows: zfish's native writer against the JVM Hudi datasource.

The rows have the columns of ``joined_fish_data`` (record key ``image_id``,
partition ``day``, precombine ``timestamp``), generated deterministically: a
first load of 100,000 rows into 60 day partitions, then 10 upserts of 10%
changed rows each (every changed row has a later timestamp and a new length).
Each writer runs in its own process (``--quick``: 5,000 rows, 1 upsert):

* native: ``HudiTable.upsert`` on an Arrow table, in one Python process;
* JVM: the Hudi Spark datasource (``hudi-spark3.5-bundle_2.12:0.15.0``) in a
  ``local[2]`` session from ``zfish.spark.get_spark(hudi=True)`` with
  ``zfish.pipeline.sinks.spark_hudi_options``; the JVM keeps its default
  tiered JIT here (a long write is what C2 is for). Each batch is cached in
  Spark before its write is timed, so only the write is measured.

Throughput is rows written per second of write calls (session start-up and
data generation excluded); peak memory is the whole process tree's (the JVM
included). Goal: native >= 3x the JVM's rows/s at no more than its peak memory.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from benchmarks import measure

ROWS, QUICK_ROWS = 100_000, 5_000
DAYS = 60
UPSERTS, QUICK_UPSERTS = 10, 1
CHANGED = 0.10
GOAL = 3.0

DATA = """
import numpy as np, pyarrow as pa
from datetime import datetime, timedelta, timezone

def batches(n, days, upserts, changed):
    rng = np.random.default_rng(42)
    start = datetime(2025, 4, 1, tzinfo=timezone.utc)
    day_of = rng.integers(0, days, n)
    base_ts = np.array([int((start + timedelta(days=int(d), seconds=int(s))).timestamp() * 1e6)
                        for d, s in zip(day_of, rng.integers(0, 86400, n))], dtype=np.int64)
    def table(idx, ts, length):
        return pa.table({
            "image_id": pa.array([f"zfish_{i:07d}_01" for i in idx]),
            "fish_id": pa.array([f"zfish_{i:07d}" for i in idx]),
            "timestamp": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "age_days": pa.array((idx % 40).astype(np.int32)),
            "treatment": pa.array(np.where(idx % 2 == 0, "control", "drug_x")),
            "gene_a": pa.array(idx % 3 == 0), "gene_b": pa.array(idx % 5 == 0),
            "gene_c": pa.array(idx % 7 == 0),
            "length_mm": pa.array(length),
            "sex": pa.array(np.where(idx % 2 == 0, "M", "F")),
            "condition_developed": pa.array(idx % 4 == 0),
            "outcome_day": pa.array([f"2025-06-{1 + i % 28:02d}" for i in idx]),
            "day": pa.array([(start + timedelta(days=int(d))).strftime("%Y-%m-%d")
                             for d in day_of[idx]]),
        })
    idx = np.arange(n)
    length = rng.uniform(1.0, 5.0, n)
    out = [table(idx, base_ts, length)]
    ts = base_ts.copy()
    for u in range(upserts):
        pick = np.sort(rng.choice(n, int(n * changed), replace=False))
        ts[pick] += 3_600_000_000
        length[pick] += 0.1
        out.append(table(pick, ts[pick], length[pick]))
    return out
"""

NATIVE = (
    DATA
    + """
import json, sys, time
from zfish import fishtable
from zfish.hudi import HudiTable
n, path = int(sys.argv[1]), sys.argv[2]
data = batches(n, @DAYS@, @UPSERTS@, @CHANGED@)
table = HudiTable.create(path, fishtable.TABLE_SPEC)
times = []
for batch in data:
    t = time.perf_counter()
    result = table.upsert(batch)
    times.append(time.perf_counter() - t)
    assert result.num_inserts + result.num_updates == batch.num_rows
print("WRITER" + json.dumps({"seconds": times, "rows": [b.num_rows for b in data]}))
"""
)

JVM = (
    DATA
    + """
import json, os, sys, time
from zfish import fishtable
from zfish.pipeline import sinks
from zfish.spark import get_spark
n, path = int(sys.argv[1]), sys.argv[2]
data = batches(n, @DAYS@, @UPSERTS@, @CHANGED@)
spark = get_spark("bench-writer", hudi=True)
options = sinks.spark_hudi_options(fishtable.TABLE_SPEC, {})
times = []
for batch in data:
    df = spark.createDataFrame(batch.to_pandas()).cache()
    df.count()
    t = time.perf_counter()
    df.write.format("hudi").options(**options).mode("append").save(path)
    times.append(time.perf_counter() - t)
    df.unpersist()
print("WRITER" + json.dumps({"seconds": times, "rows": [b.num_rows for b in data]}))
spark.stop()
"""
)


def _run(
    code: str, rows: int, upserts: int, path: Path, env: dict[str, str]
) -> tuple[dict, measure.Measured]:
    script = (
        code.replace("@DAYS@", str(DAYS))
        .replace("@UPSERTS@", str(upserts))
        .replace("@CHANGED@", repr(CHANGED))
    )
    got = measure.python(script, str(rows), str(path), env=env, timeout=1800)
    return json.loads(got.stdout.split("WRITER", 1)[1]), got


def main(quick: bool = False) -> None:
    rows = QUICK_ROWS if quick else ROWS
    upserts = QUICK_UPSERTS if quick else UPSERTS
    base = measure.work_dir("zfish-bench-writer-", 1 << 30)
    try:
        from zfish import jars
        from zfish.exceptions import PrerequisiteError

        try:
            jars.hudi_bundle(download=False)
        except PrerequisiteError as exc:
            print(f"skipped: the JVM writer needs the Hudi bundle ({exc}); run `make bundle`")
            return
        results = {}
        for name, code, env in (
            ("native", NATIVE, {}),
            ("jvm", JVM, {"ZFISH_SPARK_JIT": "tiered"}),
        ):
            results[name] = _run(code, rows, upserts, base / name, env)
        print(
            f"{rows:,} rows into {DAYS} day partitions, then {upserts} upserts of "
            f"{CHANGED:.0%} changed rows; {measure.load_note()}"
        )
        print(
            f"  {'writer':8} {'first load':>11} {'upserts':>9} {'rows/s':>9} {'wall s':>8} {'peak MiB':>9}"
        )
        rate = {}
        for name, (data, got) in results.items():
            seconds = data["seconds"]
            total_rows = sum(data["rows"])
            rate[name] = total_rows / sum(seconds)
            print(
                f"  {name:8} {seconds[0]:10.2f}s {sum(seconds[1:]):8.2f}s {rate[name]:9,.0f} "
                f"{got.wall:8.1f} {got.peak_mib:9.0f}"
            )
        ratio = rate["native"] / rate["jvm"]
        memory = results["native"][1].peak_mib / results["jvm"][1].peak_mib
        print(f"  throughput native / JVM: {measure.verdict(ratio, GOAL, lower_is_better=False)}")
        print(f"  peak memory native / JVM: {measure.verdict(memory, 1.0)}")
    finally:
        shutil.rmtree(base, ignore_errors=True)
