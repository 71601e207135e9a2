"""zfish.hudi.write: ``skip_unchanged`` rewrites only the file groups with real changes.

Every table is read back with hudi-rs; the snapshot's data must equal what a
plain upsert (Hudi's full rewrite) gives on a twin table.
"""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pytest
from hudi_testlib import (
    FAST,
    assert_clean_state,
    completed_commits,
    data_rows,
    fish_spec,
    incremental,
    parquet_files,
    rows,
    snapshot,
)

from zfish.hudi import HudiTable, MergeMode, WriteOptions
from zfish.hudi.write import same_rows

SKIP = WriteOptions(bloom_num_entries=500, skip_unchanged=True)


def commit_times(base: Path) -> dict[str, str]:
    got = snapshot(base)
    return dict(
        zip(
            got.column("id").to_pylist(), got.column("_hoodie_commit_time").to_pylist(), strict=True
        )
    )


def test_same_rows_treats_null_as_equal_and_nan_as_changed() -> None:
    a = pa.table({"x": [1, None, 3, None], "f": [0.5, 1.0, float("nan"), None]})
    b = pa.table({"x": [1, None, 4, 2], "f": [0.5, 1.0, float("nan"), None]})
    assert same_rows(a, b).tolist() == [True, True, False, False]
    nested = pa.table({"s": [{"g": True}, {"g": None}, None]})
    other = pa.table({"s": [{"g": True}, {"g": False}, None]})
    assert same_rows(nested, other).tolist() == [True, False, True]


def test_an_identical_upsert_writes_no_file_and_an_empty_commit(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    batch = rows(["a", "b", "c"], ["d1", "d1", "d2"], 1, [1, 2, 3])
    first = table.upsert(batch, options=SKIP)
    files = parquet_files(tmp_path)
    again = table.upsert(batch, extra_metadata={"k": "evening 2"}, options=SKIP)
    assert (again.files_written, again.num_inserts, again.num_updates) == (0, 0, 0)
    assert parquet_files(tmp_path) == files
    assert completed_commits(tmp_path) == [first.instant, again.instant]
    assert table.commit_metadata(again.instant)["extraMetadata"]["k"] == "evening 2"
    assert commit_times(tmp_path) == {"a": first.instant, "b": first.instant, "c": first.instant}
    assert incremental(tmp_path, first.instant, again.instant).num_rows == 0
    assert_clean_state(tmp_path)


def test_only_the_file_group_with_a_change_is_rewritten(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    first = table.upsert(rows(["a", "b", "c"], ["d1", "d1", "d2"], 1, [1, 2, 3]), options=SKIP)
    d2_before = sorted(p.name for p in (tmp_path / "d2").glob("*.parquet"))
    # b changes, a and c are re-delivered as they are, x is new in d1.
    second = table.upsert(
        rows(["a", "b", "c", "x"], ["d1", "d1", "d2", "d1"], [1, 5, 1, 5], [1, 20, 3, 9]),
        options=SKIP,
    )
    assert (second.num_inserts, second.num_updates, second.files_written) == (1, 1, 1)
    assert second.partitions_written == ["d1"]
    assert sorted(p.name for p in (tmp_path / "d2").glob("*.parquet")) == d2_before
    assert commit_times(tmp_path) == {
        "a": first.instant,  # copied into the rewritten file group, unchanged: keeps its time
        "b": second.instant,
        "c": first.instant,
        "x": second.instant,
    }
    changed = incremental(tmp_path, first.instant, second.instant)
    assert sorted(changed.column("id").to_pylist()) == ["b", "x"]


@pytest.mark.parametrize("mode", [MergeMode.COMMIT_TIME, MergeMode.EVENT_TIME])
def test_random_upserts_give_the_same_snapshot_as_full_rewrites(
    tmp_path: Path, mode: MergeMode
) -> None:
    rng = random.Random(7)
    full = HudiTable.create(str(tmp_path / "full"), fish_spec())
    skip = HudiTable.create(str(tmp_path / "skip"), fish_spec())
    full_opts = WriteOptions(bloom_num_entries=500, merge_mode=mode)
    skip_opts = WriteOptions(bloom_num_entries=500, merge_mode=mode, skip_unchanged=True)
    state: dict[str, tuple[str, int, int]] = {}
    for _round in range(8):
        ids = rng.sample([f"k{i:02d}" for i in range(40)], 15)
        batch_days, batch_ts, batch_v = [], [], []
        for key in ids:
            day, ts, v = state.get(key, (rng.choice(["d1", "d2", "d3"]), 1, 0))
            if rng.random() < 0.3:  # a real change; otherwise re-delivered as stored
                ts, v = ts + rng.choice([-1, 1]), v + 1
            state[key] = (day, ts, v)
            batch_days.append(day)
            batch_ts.append(ts)
            batch_v.append(v)
        batch = rows(ids, batch_days, batch_ts, batch_v)
        full.upsert(batch, options=full_opts)
        skip.upsert(batch, options=skip_opts)
        assert data_rows(snapshot(tmp_path / "skip"), "id") == data_rows(
            snapshot(tmp_path / "full"), "id"
        )
    assert_clean_state(tmp_path / "skip")
    assert len(parquet_files(tmp_path / "skip")) <= len(parquet_files(tmp_path / "full"))


def test_without_the_option_every_matched_row_is_rewritten(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    batch = rows(["a", "b"], "d1", 1, [1, 2])
    table.upsert(batch, options=FAST)
    again = table.upsert(batch, options=FAST)
    assert (again.num_updates, again.files_written) == (2, 1)
    assert set(commit_times(tmp_path).values()) == {again.instant}
