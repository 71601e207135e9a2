"""Random write sequences against a plain-Python model of the table, checked through hudi-rs.

A hypothesis ``RuleBasedStateMachine`` drives upserts (with duplicate keys in a
batch), inserts and bulk inserts of new keys, deletes, new partitions, failed
attempts (exception inside the transaction, explicit abort, bad input) and
abandoned attempts (a writer that dies holding a pending instant). After every
step hudi-rs must return exactly the model's rows, with the right
``_hoodie_commit_time``; time travel to each retained commit and incremental
reads between retained commits must match the model's history. Cleaning runs
with 3 commits retained, so it is exercised all the time.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest
from hudi_testlib import assert_clean_state, incremental, snapshot
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from zfish.exceptions import InputDataError
from zfish.hudi import (
    HudiTable,
    MergeMode,
    TableSpec,
    WriteOperation,
    WriteOptions,
    write_partitions,
)

RETAINED = 3
KEYS = st.sampled_from([f"k{i}" for i in range(8)])
PARTS = st.sampled_from(["p0", "p1", "p2", "p3", "p4", "p5"])
ROW = st.tuples(KEYS, PARTS, st.integers(0, 4))  # (id, day, ts)


@dataclass(frozen=True)
class Version:
    ts: int
    v: int
    commit_time: str


Model = dict[tuple[str, str], Version]


def table_of(rows: list[tuple[str, str, int, int]]) -> pa.Table:
    return pa.table(
        {
            "id": pa.array([r[0] for r in rows], pa.string()),
            "day": pa.array([r[1] for r in rows], pa.string()),
            "ts": pa.array([r[2] * 1_000_000 for r in rows], pa.timestamp("us", tz="UTC")),
            "v": pa.array([r[3] for r in rows], pa.int64()),
        }
    )


def read_model(table: pa.Table) -> Model:
    if table.num_rows == 0:
        return {}
    out: Model = {}
    for r in table.select(["id", "day", "ts", "v", "_hoodie_commit_time"]).to_pylist():
        key = (r["id"], r["day"])
        assert key not in out, f"duplicate record {key}"
        out[key] = Version(int(r["ts"].timestamp()), r["v"], r["_hoodie_commit_time"])
    return out


class HudiTableMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="zfish-hudi-sm-"))
        self.model: Model = {}
        self.history: list[tuple[str, Model]] = []
        self.counter = 0
        self.abandoned = False

    @initialize(mode=st.sampled_from(list(MergeMode)), hive=st.booleans())
    def create(self, mode: MergeMode, hive: bool) -> None:
        spec = TableSpec(
            name="sm",
            record_key_fields=("id",),
            partition_fields=("day",),
            precombine_field="ts",
            hive_style_partitioning=hive,
        )
        self.mode = mode
        self.options = WriteOptions(
            merge_mode=mode, bloom_num_entries=100, cleaner_commits_retained=RETAINED
        )
        self.table = HudiTable.create(str(self.dir / "t"), spec)

    def teardown(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- helpers ---

    def _numbered(self, batch: list[tuple[str, str, int]]) -> list[tuple[str, str, int, int]]:
        out = []
        for key, part, ts in batch:
            self.counter += 1
            out.append((key, part, ts, self.counter))
        return out

    def _committed(self, instant: str) -> None:
        self.history.append((instant, dict(self.model)))
        self.abandoned = False

    # --- rules ---

    @rule(batch=st.lists(ROW, min_size=1, max_size=8))
    def upsert(self, batch: list[tuple[str, str, int]]) -> None:
        rows = self._numbered(batch)
        result = self.table.upsert(table_of(rows), options=self.options)
        winners: dict[tuple[str, str], tuple[int, int]] = {}
        for key, part, ts, v in rows:  # dedup: largest ts wins, ties go to the later row
            if (key, part) not in winners or ts >= winners[(key, part)][0]:
                winners[(key, part)] = (ts, v)
        for rid, (ts, v) in winners.items():
            stored = self.model.get(rid)
            if stored is not None and self.mode is MergeMode.EVENT_TIME and stored.ts > ts:
                continue  # DefaultHoodieRecordPayload keeps the newer stored row
            self.model[rid] = Version(ts, v, result.instant)
        self._committed(result.instant)

    @rule(n=st.integers(1, 4), part=PARTS, bulk=st.booleans())
    def insert_new_keys(self, n: int, part: str, bulk: bool) -> None:
        rows = self._numbered([(f"new{self.counter + i}", part, 1) for i in range(n)])
        write = self.table.bulk_insert if bulk else self.table.insert
        result = write(table_of(rows), options=self.options)
        for key, p, ts, v in rows:
            self.model[(key, p)] = Version(ts, v, result.instant)
        self._committed(result.instant)

    @rule(keys=st.lists(st.tuples(KEYS, PARTS), min_size=1, max_size=5))
    def delete(self, keys: list[tuple[str, str]]) -> None:
        existing = [k for k in self.model if k[0].startswith("new")]
        keys = keys + existing[:1]
        result = self.table.delete(
            pa.table({"id": [k for k, _ in keys], "day": [p for _, p in keys]}),
            options=self.options,
        )
        for rid in keys:
            self.model.pop(rid, None)
        self._committed(result.instant)

    @rule(
        batch=st.lists(ROW, min_size=1, max_size=6),
        how=st.sampled_from(["exception", "abort", "bad_input", "abandon"]),
    )
    def failed_attempt(self, batch: list[tuple[str, str, int]], how: str) -> None:
        data = table_of(self._numbered(batch))
        if how == "bad_input":
            bad = data.set_column(0, "id", pa.array([None] * data.num_rows, pa.string()))
            with pytest.raises(InputDataError):
                self.table.upsert(bad, options=self.options)
            return
        txn = self.table.begin(WriteOperation.UPSERT, schema=data.schema, options=self.options)
        write_partitions(txn.context, data)
        if how == "abandon":
            txn.lock.release()  # the writer "dies": its pending instant stays for the next one
            self.abandoned = True
            return
        if how == "abort":
            txn.abort()
            return
        with pytest.raises(RuntimeError, match="task failed"), txn:
            raise RuntimeError("task failed")

    # --- checks ---

    @invariant()
    def snapshot_matches_model(self) -> None:
        if not hasattr(self, "table"):
            return
        assert read_model(snapshot(self.table.base_path)) == self.model
        if not self.abandoned:
            assert_clean_state(Path(self.table.base_path))

    @invariant()
    def history_matches_model(self) -> None:
        if not hasattr(self, "table"):
            return
        retained = self.history[-RETAINED:]
        for instant, expected in retained:
            assert read_model(snapshot(self.table.base_path, instant)) == expected, instant
        for (start, _), (end, expected) in itertools.pairwise(retained):
            changed = {k: v for k, v in expected.items() if start < v.commit_time <= end}
            assert read_model(incremental(self.table.base_path, start, end)) == changed


HudiTableMachine.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestHudiTableMachine = HudiTableMachine.TestCase
