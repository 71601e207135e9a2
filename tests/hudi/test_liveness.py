"""zfish.hudi.liveness: a pending instant of another writer is rolled back only once it is dead.

The pending instants here are laid out by hand the way a JVM Hudi 0.15 writer
leaves them (requested, inflight, TIMELINE_SERVER_BASED markers, a data file
with its Hadoop ``.crc``; a heartbeat under the LAZY policy), so these run
without a JVM; tests/hudi/test_jvm_crash.py does the same with a real killed
JVM writer.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hudi_testlib import FAST, assert_clean_state, fish_spec, id_values, rows, snapshot

from zfish.exceptions import EXIT_LOCKED, TableLockedError
from zfish.hudi import HudiTable, WriteOptions
from zfish.hudi import options as o
from zfish.hudi.liveness import judge
from zfish.hudi.lock import TableLock
from zfish.hudi.timeline import format_instant

PENDING = "20300101000000000"
DATA = f"d1/0a1b2c3d-0000-4000-8000-000000000000-0_0-9-9_{PENDING}.parquet"


def foreign_pending(base: Path, heartbeat: bool = False, instant: str = PENDING) -> list[Path]:
    """A JVM-style pending commit: requested, inflight, markers, a (partial) data file."""
    hoodie = base / ".hoodie"
    data = DATA.replace(PENDING, instant)
    files = {
        hoodie / f"{instant}.commit.requested": b"",
        hoodie / f".{instant}.commit.requested.crc": b"crc",
        hoodie / f"{instant}.inflight": b'{"partitionToWriteStats":{},"operationType":"UPSERT"}',
        hoodie
        / ".temp"
        / instant
        / o.MARKERS_TYPE_FILE: o.MARKER_TYPE_TIMELINE_SERVER_BASED.encode(),
        hoodie / ".temp" / instant / "MARKERS0": f"{data}.marker.CREATE\n".encode(),
        base / data: b"PAR1 half a file",
        base / "d1" / f".{Path(data).name}.crc": b"crc",
    }
    if heartbeat:
        files[hoodie / ".heartbeat" / instant] = b""
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return list(files)


def age(paths: list[Path], seconds: float) -> None:
    then = time.time() - seconds
    for path in paths:
        os.utime(path, (then, then))


def table_with_rows(base: Path) -> HudiTable:
    table = HudiTable.create(str(base), fish_spec())
    table.upsert(rows(["a", "b"], ["d1", "d2"], 1, 1), options=FAST)
    return table


def test_a_fresh_foreign_pending_instant_is_refused_and_left_alone(tmp_path: Path) -> None:
    table = table_with_rows(tmp_path)
    files = foreign_pending(tmp_path)
    with pytest.raises(TableLockedError) as info:
        table.upsert(rows(["c"], "d1", 2, 2), options=FAST)
    assert info.value.exit_code == EXIT_LOCKED
    message = str(info.value)
    for part in (PENDING, "did not start", "no heartbeat", "newest file", "900 s", "Fix:"):
        assert part in message, part
    with pytest.raises(TableLockedError):
        table.rollback_pending()
    assert all(p.exists() for p in files)
    assert id_values(snapshot(tmp_path)) == {"a": 1, "b": 1}


def test_an_old_foreign_pending_instant_is_rolled_back_from_its_markers(tmp_path: Path) -> None:
    table = table_with_rows(tmp_path)
    files = foreign_pending(tmp_path)
    age(files, 3600)
    result = table.upsert(rows(["c"], "d1", 2, 2), options=FAST)
    assert result.rolled_back == [PENDING]
    assert result.instant > PENDING  # never before an instant that was on the timeline
    assert not any(p.exists() for p in files)
    assert id_values(snapshot(tmp_path)) == {"a": 1, "b": 1, "c": 2}
    assert_clean_state(tmp_path)


def test_the_threshold_is_an_option(tmp_path: Path) -> None:
    table = table_with_rows(tmp_path)
    files = foreign_pending(tmp_path)
    age(files, 120)
    with pytest.raises(TableLockedError):
        table.upsert(rows(["c"], "d1", 2, 2), options=FAST)
    now = WriteOptions(bloom_num_entries=500, foreign_pending_timeout_seconds=60)
    assert table.rollback_pending(now) == [PENDING]
    assert not any(p.exists() for p in files)


def test_a_heartbeat_decides_when_there_is_one(tmp_path: Path) -> None:
    table = table_with_rows(tmp_path)
    files = foreign_pending(tmp_path, heartbeat=True)
    heartbeat = tmp_path / ".hoodie" / ".heartbeat" / PENDING
    age([p for p in files if p != heartbeat], 3600)  # old files, a fresh heartbeat: live
    with pytest.raises(TableLockedError, match=r"heartbeat \S+ was refreshed \d+ s ago"):
        table.upsert(rows(["c"], "d1", 2, 2), options=FAST)
    age(files, 0)
    age([heartbeat], 121)  # fresh files, but no heartbeat for two missed beats: dead
    verdict = judge(table.storage, PENDING, WriteOptions())
    assert not verdict.live
    assert re.search(r"last refreshed 12\d s ago", verdict.evidence), verdict.evidence
    result = table.upsert(rows(["c"], "d1", 2, 2), options=FAST)
    assert result.rolled_back == [PENDING]
    assert not any(p.exists() for p in files)
    assert_clean_state(tmp_path)


def test_new_instants_sort_after_instants_seen_only_as_markers_or_heartbeats(
    tmp_path: Path,
) -> None:
    base = tmp_path / "a"
    table = table_with_rows(base)
    later = "20400101000000000"
    (base / ".hoodie" / ".temp" / later).mkdir(parents=True)
    result = table.upsert(rows(["c"], "d1", 2, 2), options=FAST)
    assert result.instant > later
    latest = "20500101000000000"
    (base / ".hoodie" / ".heartbeat").mkdir()
    (base / ".hoodie" / ".heartbeat" / latest).write_bytes(b"")
    assert table.upsert(rows(["d"], "d1", 3, 3), options=FAST).instant > latest
    # One table's timeline ahead of the clock does not push another table's instants ahead
    # (a JVM writer there, on the clock, would then commit "before" zfish's commits).
    other = table_with_rows(tmp_path / "b")
    assert other.upsert(rows(["e"], "d1", 4, 4), options=FAST).instant < later


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_dead_lock_holder_that_claimed_new_instants_takes_its_jvm_instant_along(
    tmp_path: Path,
) -> None:
    table = table_with_rows(tmp_path)
    now = datetime.now(UTC)
    jvm_instant = format_instant(now - timedelta(seconds=10))
    files = foreign_pending(tmp_path, instant=jvm_instant)  # fresh: it could be live
    # A zfish process held the lock around a JVM write (claiming its instants) and died.
    lock = TableLock(table.storage, "events")
    lock.acquire("JVM write")
    lock.claim_new_instants()
    path = tmp_path / ".hoodie" / "zfish.writer.lock"
    held = json.loads(path.read_text())
    assert len(held["claims_from"]) == 17
    held.update(pid=_dead_pid(), claims_from=format_instant(now - timedelta(seconds=60)))
    path.write_text(json.dumps(held))
    result = table.upsert(rows(["c"], "d1", 2, 2), options=FAST)
    assert result.rolled_back == [jvm_instant]
    assert not any(p.exists() for p in files)
    # An instant older than the claim was not the dead holder's: still judged by its age.
    older = format_instant(now - timedelta(seconds=120))
    foreign_pending(tmp_path, instant=older)
    path.write_text(json.dumps(held))
    with pytest.raises(TableLockedError, match=older):
        table.upsert(rows(["d"], "d1", 3, 3), options=FAST)
