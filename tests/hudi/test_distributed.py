"""The Spark path without Spark: a cloudpickled WriteContext used by separate task processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from hudi_testlib import FAST, assert_clean_state, fish_spec, id_values, rows, snapshot
from pyspark import cloudpickle  # the serializer Spark ships tasks with

from zfish.hudi import HudiTable, WriteContext, WriteOperation, WriteStat

TASK = """
import json, sys
from pyspark import cloudpickle  # the serializer Spark ships tasks with
import pyarrow as pa
from zfish.hudi import write_partitions

ctx = cloudpickle.loads(open(sys.argv[1], "rb").read())
with pa.ipc.open_file(sys.argv[2]) as reader:
    batches = [reader.get_batch(i) for i in range(reader.num_record_batches)]
stats = write_partitions(ctx, iter(batches), partition_id=int(sys.argv[3]), stage_id=4,
                         attempt_id=0)
print(json.dumps([s.to_json() for s in stats]))
"""


def run_task(tmp_path: Path, ctx_bytes: bytes, batch: pa.Table, partition_id: int) -> list[str]:
    """One "Spark task" in its own interpreter: unpickle the context, write, return stat JSON."""
    ctx_file = tmp_path / "ctx.pkl"
    ctx_file.write_bytes(ctx_bytes)
    data_file = tmp_path / f"part-{partition_id}.arrow"
    with pa.ipc.new_file(str(data_file), batch.schema) as writer:
        for b in batch.to_batches(max_chunksize=2):  # several record batches, like mapInArrow
            writer.write_batch(b)
    out = subprocess.run(
        [sys.executable, "-c", TASK, str(ctx_file), str(data_file), str(partition_id)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: list[str] = json.loads(out.stdout)
    return result


def test_driver_begins_tasks_write_driver_commits(tmp_path: Path) -> None:
    base = tmp_path / "table"
    table = HudiTable.create(str(base), fish_spec())
    table.upsert(rows(["a", "b"], ["d1", "d2"], 1, 1), options=FAST)
    batch = rows(["a", "c", "d", "e", "f"], ["d1", "d1", "d2", "d3", "d3"], 2, 2)
    with table.begin(WriteOperation.UPSERT, schema=batch.schema, options=FAST) as txn:
        ctx_bytes = cloudpickle.dumps(txn.context)
        assert len(ctx_bytes) < 20_000  # small: no data, no handles
        back = cloudpickle.loads(ctx_bytes)
        assert isinstance(back, WriteContext)
        assert back.instant == txn.instant
        # The caller repartitions by the partition field: d1+d2 to task 0, d3 to task 1.
        first = batch.filter(pc.is_in(batch["day"], pa.array(["d1", "d2"])))
        second = batch.filter(pc.equal(batch["day"], "d3"))
        stats_json = run_task(tmp_path, ctx_bytes, first, 0) + run_task(
            tmp_path, ctx_bytes, second, 1
        )
        stats = [WriteStat.from_json(j) for j in stats_json]
        assert {s.path.split("/")[0] for s in stats} == {"d1", "d2", "d3"}
        assert all("_1-4-0_" in s.path for s in stats if s.partition_path == "d3")
        result = txn.commit(stats, extra_metadata={"zfish.etl.end_date": "2024-01-02"})
    assert (result.num_inserts, result.num_updates) == (4, 1)
    assert id_values(snapshot(base)) == {"a": 2, "b": 1, "c": 2, "d": 2, "e": 2, "f": 2}
    assert table.commit_metadata()["extraMetadata"]["zfish.etl.end_date"] == "2024-01-02"
    assert_clean_state(base)


def test_write_stat_json_round_trip() -> None:
    stat = WriteStat(
        file_id="f-0",
        path="p/f-0_0-1-0_20240101000000000.parquet",
        partition_path="p",
        prev_commit="20231231000000000",
        num_writes=3,
        num_inserts=1,
        num_update_writes=2,
        total_write_bytes=10,
        file_size_in_bytes=10,
        runtime_stats={"totalUpsertTime": 5},
    )
    back = WriteStat.from_json(stat.to_json())
    assert back == WriteStat.from_hudi(stat.to_hudi())
    assert back.to_hudi() == stat.to_hudi()
    assert back.instant == "20240101000000000"
