"""zfish.hudi.clean: KEEP_LATEST_COMMITS, Avro clean instants, bounded storage over a season."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

from hudi_testlib import (
    assert_clean_state,
    fish_spec,
    id_values,
    incremental,
    parquet_files,
    rows,
    snapshot,
)

from zfish.hudi import HudiTable, WriteOptions
from zfish.hudi import avro_metadata as am
from zfish.hudi.fsview import parse_base_file


def slices_on_disk(base: Path) -> dict[str, list[str]]:
    """fileId -> instants of its base files on disk."""
    out: dict[str, list[str]] = defaultdict(list)
    for path in parquet_files(base):
        bf = parse_base_file("", path.name)
        assert bf is not None
        out[bf.file_id].append(bf.instant)
    return {k: sorted(v) for k, v in out.items()}


def test_keep_latest_commits_keeps_the_slices_queries_need(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    opts = WriteOptions(bloom_num_entries=200, cleaner_commits_retained=3)
    commits = []
    model: list[dict[str, int]] = []
    values: dict[str, int] = {}
    for i in range(6):
        commits.append(table.upsert(rows(["a", f"n{i}"], "d1", i, i), options=opts))
        values.update({"a": i, f"n{i}": i})
        model.append(dict(values))
    instants = [c.instant for c in commits]
    # ECTR is c4 (3rd latest): keep c4..c6 and c3, the newest slice before the ECTR.
    (group,) = slices_on_disk(tmp_path).values()
    assert group == instants[2:]
    assert [c.files_cleaned for c in commits] == [0, 0, 0, 0, 1, 1]
    clean_instant = commits[-1].clean_instant
    assert clean_instant is not None
    for suffix in ("clean.requested", "clean.inflight", "clean"):
        data = (tmp_path / ".hoodie" / f"{clean_instant}.{suffix}").read_bytes()
        assert data[:4] == b"Obj\x01"
    meta = am.deserialize((tmp_path / ".hoodie" / f"{clean_instant}.clean").read_bytes())
    assert meta["earliestCommitToRetain"] == instants[3]
    assert meta["lastCompletedCommitTimestamp"] == instants[5]
    assert meta["policy"] == "KEEP_LATEST_COMMITS"
    assert meta["partitionMetadata"]["d1"]["successDeleteFiles"] == [
        f for f in meta["partitionMetadata"]["d1"]["deletePathPatterns"]
    ]
    assert instants[1] in meta["partitionMetadata"]["d1"]["successDeleteFiles"][0]
    plan = am.deserialize((tmp_path / ".hoodie" / f"{clean_instant}.clean.requested").read_bytes())
    assert plan["earliestInstantToRetain"]["timestamp"] == instants[3]
    (info,) = plan["filePathsToBeDeletedPerPartition"]["d1"]
    assert info["filePath"].startswith(str(tmp_path) + "/d1/")
    # Every query at or after the ECTR is still served, and the last slice before it too.
    for k in range(2, 6):
        assert id_values(snapshot(tmp_path, instants[k])) == model[k]
    expected = {key: v for key, v in model[5].items() if v > 3}
    assert id_values(incremental(tmp_path, instants[3], instants[5])) == expected
    assert_clean_state(tmp_path)


def test_auto_clean_off_and_manual_clean(tmp_path: Path) -> None:
    table = HudiTable.create(str(tmp_path), fish_spec())
    off = WriteOptions(bloom_num_entries=200, cleaner_commits_retained=1, auto_clean=False)
    for i in range(4):
        assert table.upsert(rows(["a"], "d1", i, i), options=off).files_cleaned == 0
    assert len(parquet_files(tmp_path)) == 4
    removed = table.clean(WriteOptions(cleaner_commits_retained=1))
    # ECTR = the last commit; its slice and the newest one before it stay.
    assert removed == 2
    assert len(parquet_files(tmp_path)) == 2
    assert table.clean(WriteOptions(cleaner_commits_retained=1)) == 0  # nothing left to clean
    assert id_values(snapshot(tmp_path)) == {"a": 3}


def test_a_season_of_daily_upserts_keeps_storage_bounded(tmp_path: Path) -> None:
    """60 days: each day a new partition plus late corrections to the previous days."""
    table = HudiTable.create(str(tmp_path), fish_spec())
    opts = WriteOptions(bloom_num_entries=200)  # default retention: 10 commits
    rng = random.Random(7)
    model: dict[str, int] = {}
    days: list[str] = []
    instants: list[str] = []
    writers: dict[str, set[str]] = defaultdict(set)  # fileId -> instants that wrote it
    snapshots: dict[str, dict[str, int]] = {}
    for day in range(60):
        name = f"2024-{1 + day // 28:02d}-{1 + day % 28:02d}"
        days.append(name)
        ids = [f"{name}-img{i}" for i in range(8)]
        part = [name] * len(ids)
        for back in days[-4:-1]:  # corrections for three earlier days
            fix = f"{back}-img{rng.randrange(8)}"
            ids.append(fix)
            part.append(back)
        result = table.upsert(rows(ids, part, day, day), options=opts)
        instants.append(result.instant)
        model.update(dict.fromkeys(ids, day))
        snapshots[result.instant] = dict(model)
        meta = table.commit_metadata(result.instant)
        for stats in meta["partitionToWriteStats"].values():
            for s in stats:
                writers[s["fileId"]].add(result.instant)

    assert id_values(snapshot(tmp_path)) == model
    ectr = instants[-10]
    on_disk = slices_on_disk(tmp_path)
    assert set(on_disk) == set(writers)  # no file group lost
    for file_id, slices in on_disk.items():
        recent = {i for i in writers[file_id] if i >= ectr}
        # The retained slices: every slice written since the ECTR plus at most one older.
        assert set(slices) >= recent
        assert len(slices) <= len(recent) + 1, (file_id, slices)
    total_written = sum(len(v) for v in writers.values())
    assert len(parquet_files(tmp_path)) <= len(writers) + sum(
        len({i for i in v if i >= ectr}) for v in writers.values()
    )
    assert len(parquet_files(tmp_path)) < total_written / 2
    for instant in instants[-10:]:
        assert id_values(snapshot(tmp_path, instant)) == snapshots[instant]
    assert_clean_state(tmp_path)
