"""Native timeline archival: trigger, choice of instants, constraints, bounded timeline, fs view.

Tables here are small (one or two rows per commit); an oracle dict ``id -> v``
says what every snapshot must read. Keys live in fixed partitions, so the
table holds exactly one row per key.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from archive_testlib import OPTIONS, active_commits, build, commit_n
from hudi_testlib import (
    assert_clean_state,
    completed_commits,
    fish_spec,
    id_values,
    parquet_files,
    rows,
    snapshot,
)

from zfish.hudi import HudiTable, WriteOptions
from zfish.hudi import archive as arch
from zfish.hudi import avro_metadata as am
from zfish.hudi.options import (
    KEEP_MAX_COMMITS_DEFAULT,
    KEEP_MIN_COMMITS_DEFAULT,
)
from zfish.hudi.storage import Storage
from zfish.hudi.timeline import (
    CLEAN,
    COMMIT,
    REPLACE_COMMIT,
    SAVEPOINT,
    Instant,
    State,
    Timeline,
    instant_path,
)


def archived_commits(table: HudiTable) -> list[str]:
    return [r.timestamp for r in table.archived_instants() if r.state == "COMPLETED"]


def test_defaults_are_hudi_0_15s() -> None:
    assert (KEEP_MIN_COMMITS_DEFAULT, KEEP_MAX_COMMITS_DEFAULT) == (20, 30)
    opts = WriteOptions()
    assert (opts.keep_min_commits, opts.keep_max_commits, opts.auto_archive) == (20, 30, True)
    config = opts.hoodie_config()
    assert config["hoodie.keep.min.commits"] == "20"
    assert config["hoodie.keep.max.commits"] == "30"
    assert config["hoodie.archive.automatic"] == "true"
    with pytest.raises(ValueError, match="must be greater"):
        WriteOptions(keep_min_commits=30, keep_max_commits=30)


def test_nothing_is_archived_up_to_keep_max(tmp_path: Path) -> None:
    base = tmp_path / "t"
    _table, _oracle, instants = build(base, 30)
    assert active_commits(base) == instants
    assert arch.archive_files(Storage(str(base)), ".hoodie/archived") == []


def test_one_commit_over_keep_max_archives_down_to_keep_min(tmp_path: Path) -> None:
    base = tmp_path / "t"
    table, oracle, instants = build(base, 30)
    before = {ts: json.loads((base / ".hoodie" / f"{ts}.commit").read_text()) for ts in instants}
    instants.append(commit_n(table, oracle, 30))

    assert active_commits(base) == instants[11:]  # 31 - 20 = 11 oldest commits moved
    names = [f.name for f in arch.archive_files(Storage(str(base)), ".hoodie/archived")]
    assert names == [".commits_.archive.1_1-0-1"]
    for ts in instants[:11]:
        assert not list((base / ".hoodie").glob(f"{ts}.*")), ts
    records = table.archived_instants()
    # every state file of each instant is one record, requested -> inflight -> completed
    assert [(r.timestamp, r.state) for r in records] == [
        (ts, state) for ts in instants[:11] for state in ("REQUESTED", "INFLIGHT", "COMPLETED")
    ]
    assert {r.action for r in records} == {COMMIT}
    for record in records[2::3]:
        meta = record.commit_metadata()
        assert meta is not None
        original = before[record.timestamp]
        assert meta["operationType"] == original["operationType"]
        assert meta["extraMetadata"] == original["extraMetadata"]
        got = {
            p: [(s["fileId"], s["path"], s["numWrites"], s["prevCommit"]) for s in stats]
            for p, stats in meta["partitionToWriteStats"].items()
        }
        want = {
            p: [(s["fileId"], s["path"], s["numWrites"], s["prevCommit"]) for s in stats]
            for p, stats in original["partitionToWriteStats"].items()
        }
        assert got == want
    # readers of the active timeline still read everything, and time travel within it
    assert id_values(snapshot(base)) == oracle
    assert completed_commits(base) == instants[11:]
    # (as of commits the cleaner still retains: older slices are cleaned, archived or not)
    as_of = 27
    expected = {}
    for n in range(as_of + 1):
        expected.update(dict.fromkeys([f"k{n % 9}", f"n{n}"], n))
    assert id_values(snapshot(base, instants[as_of])) == expected
    assert_clean_state(base)


def test_archival_can_be_turned_off_and_run_by_hand(tmp_path: Path) -> None:
    base = tmp_path / "t"
    off = dataclasses.replace(OPTIONS, auto_archive=False)
    table, oracle, instants = build(base, 35, off)
    assert active_commits(base) == instants
    assert not list((base / ".hoodie" / "archived").iterdir())
    result = table.archive(OPTIONS)
    assert result.archived == instants[:15]
    assert active_commits(base) == instants[15:]
    assert id_values(snapshot(base)) == oracle


def test_timeline_stays_bounded_over_sixty_upserts(tmp_path: Path) -> None:
    base = tmp_path / "t"
    table = HudiTable.create(str(base), fish_spec())
    oracle: dict[str, int] = {}
    instants = []
    for n in range(60):
        instants.append(commit_n(table, oracle, n))
        timeline = Timeline.load(Storage(str(base)))
        assert len(timeline.completed_writes()) <= KEEP_MAX_COMMITS_DEFAULT
        assert len(timeline.completed_cleans()) <= KEEP_MAX_COMMITS_DEFAULT
    active = active_commits(base)
    archived = archived_commits(table)
    archived_writes = [r.timestamp for r in arch.archived_writes(table.storage, table.properties)]
    assert sorted(archived_writes + active) == instants  # every commit in exactly one place
    assert set(archived_writes).isdisjoint(active)
    assert len(active) >= KEEP_MIN_COMMITS_DEFAULT
    # cleans were archived too once more than keep.max of them piled up
    cleans_archived = [r for r in table.archived_instants() if r.action == CLEAN]
    assert cleans_archived
    assert all(r.timestamp < active[0] for r in cleans_archived)
    assert len(set(archived)) == len(archived)
    files = arch.archive_files(table.storage, ".hoodie/archived")
    assert [f.version for f in files] == list(range(1, len(files) + 1))
    # .hoodie holds a bounded number of files: 3 per active commit and per active clean
    timeline = Timeline.load(table.storage)
    instant_files = [p for p in (base / ".hoodie").iterdir() if p.is_file() and p.name[0].isdigit()]
    assert len(instant_files) == 3 * (len(active) + len(timeline.completed_cleans()))
    assert id_values(snapshot(base)) == oracle
    assert_clean_state(base)


def test_upsert_into_file_groups_whose_instants_were_archived(tmp_path: Path) -> None:
    """The fs view treats slices older than the active timeline as committed (no duplicates)."""
    base = tmp_path / "t"
    table = HudiTable.create(str(base), fish_spec())
    old = ["o1", "o2", "o3", "o4"]
    first = table.upsert(rows(old, "old", 0, 0), options=OPTIONS)
    oracle = dict.fromkeys(old, 0)
    for n in range(1, 36):
        commit_n(table, oracle, n)
    assert first.instant not in active_commits(base)
    assert first.instant in archived_commits(table)
    [old_file] = [p for p in parquet_files(base) if p.parent.name == "old"]
    assert first.instant in old_file.name  # the slice's instant is archived, the file stays

    result = table.upsert(rows(["o1", "o3", "o9"], "old", 99, 99), options=OPTIONS)
    oracle.update({"o1": 99, "o3": 99, "o9": 99})
    assert result.num_updates == 2
    assert result.num_inserts == 1
    assert id_values(snapshot(base)) == oracle  # id_values fails on duplicate keys
    meta = json.loads((base / ".hoodie" / f"{result.instant}.commit").read_text())
    [stat] = meta["partitionToWriteStats"]["old"]
    assert stat["prevCommit"] == first.instant  # merged into the archived slice's file group


def test_incremental_cleaning_falls_back_to_all_partitions_past_archived_ectr(
    tmp_path: Path,
) -> None:
    """CleanPlanner: a last clean whose ECTR was archived means a full partition scan."""
    base = tmp_path / "t"
    small = dataclasses.replace(
        OPTIONS, cleaner_commits_retained=2, keep_min_commits=3, keep_max_commits=4
    )
    no_clean = dataclasses.replace(small, auto_clean=False)
    no_archive = dataclasses.replace(small, auto_archive=False)
    table = HudiTable.create(str(base), fish_spec())
    table.upsert(rows(["p1"], "P", 0, 0), options=no_archive)
    for n in range(1, 5):
        table.upsert(rows(["q1"], "Q", n, n), options=no_archive)
    cleans = Timeline.load(table.storage).completed_cleans()
    assert cleans  # a clean with an early ECTR
    last = am.deserialize((base / ".hoodie" / f"{cleans[-1].timestamp}.clean").read_bytes())
    ectr = last["earliestCommitToRetain"]
    # P gets two more slices; then only Q is written, without cleaning, and archived
    table.upsert(rows(["p1"], "P", 5, 5), options=no_clean)
    last_p = table.upsert(rows(["p1"], "P", 6, 6), options=no_clean).instant
    for n in range(7, 15):
        table.upsert(rows(["q1"], "Q", n, n), options=no_clean)
    assert active_commits(base)[0] > ectr  # the last clean's ECTR is archived
    assert len([p for p in parquet_files(base) if p.parent.name == "P"]) == 3

    table.clean(small)
    left = [p.name for p in parquet_files(base) if p.parent.name == "P"]
    assert len(left) == 1
    assert last_p in left[0]
    assert id_values(snapshot(base)) == {"p1": 6, "q1": 14}


# --- the choice of instants on synthetic timelines ---------------------------------------------


def ts(n: int) -> str:
    return f"2025010100{n:05d}000"[:17]


def completed(n: int, action: str = COMMIT) -> Instant:
    return Instant(ts(n), action, State.COMPLETED)


def timeline_of(*instants: Instant) -> Timeline:
    return Timeline(list(instants), {i.timestamp for i in instants})


def chosen(
    timeline: Timeline, opts: WriteOptions = OPTIONS, storage: Storage | None = None
) -> list:
    store = storage or Storage("/nonexistent-zfish-table")
    return [(i.timestamp, i.action) for i in arch.instants_to_archive(store, timeline, opts)]


def test_a_pending_write_stops_archival_before_the_last_commit_preceding_it() -> None:
    commits = [completed(n) for n in range(40)]
    # a pending write between commit 9 and 10 (as a concurrent JVM writer leaves)
    pending = Instant(ts(9)[:-1] + "5", COMMIT, State.INFLIGHT)
    # the cleaner's ECTR stops at commit 9 too, which raises keep.min to 32: nothing goes
    assert arch.instants_to_keep(timeline_of(*commits, pending), OPTIONS) == (32, 42)
    assert chosen(timeline_of(*commits, pending)) == []
    # with a cleaner that retains everything, the pending-instant rule is what binds
    lenient = dataclasses.replace(OPTIONS, cleaner_commits_retained=50)
    got = chosen(timeline_of(*commits, pending), lenient)
    assert got == [(ts(n), COMMIT) for n in range(9)]  # commit 9 is kept, and all after


def test_archival_stops_at_the_first_savepoint() -> None:
    commits = [completed(n) for n in range(40)]
    savepoint = Instant(ts(5), SAVEPOINT, State.COMPLETED)
    assert chosen(timeline_of(*commits, savepoint)) == [(ts(n), COMMIT) for n in range(5)]


def test_keep_min_and_max_rise_with_the_cleaner_retention() -> None:
    opts = dataclasses.replace(OPTIONS, cleaner_commits_retained=25)
    assert arch.instants_to_keep(timeline_of(*(completed(n) for n in range(40))), opts) == (26, 36)
    assert chosen(timeline_of(*(completed(n) for n in range(36))), opts) == []
    got = chosen(timeline_of(*(completed(n) for n in range(37))), opts)
    assert got == [(ts(n), COMMIT) for n in range(11)]


def test_cleans_are_archived_on_their_own_count() -> None:
    commits = [completed(2 * n) for n in range(25)]
    cleans = [completed(2 * n + 1, CLEAN) for n in range(31)]
    got = chosen(timeline_of(*commits, *cleans))
    assert got == [(ts(2 * n + 1), CLEAN) for n in range(11)]
    assert chosen(timeline_of(*commits, *cleans[:30])) == []


def test_replacecommits_after_the_last_cleans_retained_instant_are_kept(tmp_path: Path) -> None:
    storage = Storage(str(tmp_path))
    storage.mkdirs(".hoodie")
    commits = [completed(n, REPLACE_COMMIT if n in (4, 8) else COMMIT) for n in range(40)]
    clean = completed(100, CLEAN)
    plan = am.cleaner_plan(ts(6), ts(39), "KEEP_LATEST_COMMITS", {})
    storage.write_atomic(
        instant_path(clean.timestamp, CLEAN, State.REQUESTED),
        am.serialize(plan, am.HOODIE_CLEANER_PLAN),
    )
    got = chosen(timeline_of(*commits, clean), storage=storage)
    # the replacecommit at 8 is the first one at or after the ECTR 6: nothing from it on goes
    assert got == [(ts(n), REPLACE_COMMIT if n == 4 else COMMIT) for n in range(8)]
