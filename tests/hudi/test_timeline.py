"""zfish.hudi.timeline: instant file names, states and instant times."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from zfish.hudi.storage import Storage
from zfish.hudi.timeline import (
    CLEAN,
    COMMIT,
    COMPACTION,
    REPLACE_COMMIT,
    State,
    Timeline,
    instant_file,
    next_instant_time,
    parse_instant_file,
)


def test_instant_file_names_of_layout_1() -> None:
    assert instant_file("20240101000000000", COMMIT, State.REQUESTED) == (
        "20240101000000000.commit.requested"
    )
    assert instant_file("20240101000000000", COMMIT, State.INFLIGHT) == "20240101000000000.inflight"
    assert instant_file("20240101000000000", COMMIT, State.COMPLETED) == "20240101000000000.commit"
    assert instant_file("1", CLEAN, State.INFLIGHT) == "1.clean.inflight"
    for action in (COMMIT, CLEAN, REPLACE_COMMIT):
        for state in State:
            name = instant_file("20240101000000000", action, state)
            assert parse_instant_file(name) == ("20240101000000000", action, state)
    assert parse_instant_file("hoodie.properties") is None
    assert parse_instant_file("zfish.writer.lock") is None
    assert parse_instant_file(".20240101000000000.commit.abc.tmp") is None


def test_fixture_timelines_load(sample) -> None:
    root = sample.root("cow_v6_simplekeygen_nonhivestyle_overwritetable")
    timeline = Timeline.load(Storage(str(root)))
    writes = timeline.completed_writes()
    assert [i.action for i in writes] == [COMMIT, COMMIT, REPLACE_COMMIT]
    stamps = [i.timestamp for i in writes]
    assert stamps == sorted(stamps)
    assert all(len(t) == 17 and t.isdigit() for t in stamps)
    assert timeline.pending() == []


def test_pending_and_compaction_detection(tmp_path: Path) -> None:
    hoodie = tmp_path / ".hoodie"
    hoodie.mkdir()
    for name in (
        "20240101000000000.commit.requested",
        "20240101000000000.inflight",
        "20240101000000000.commit",
        "20240102000000000.commit.requested",
        "20240103000000000.inflight",
        "20240104000000000.compaction.requested",
        "20240105000000000.compaction.requested",
        "20240105000000000.compaction.inflight",
        "20240105000000000.commit",
        "20240106000000000.clean.requested",
    ):
        (hoodie / name).write_bytes(b"")
    timeline = Timeline.load(Storage(str(tmp_path)))
    pending = [(i.timestamp, i.action, i.state) for i in timeline.pending()]
    assert pending == [
        ("20240102000000000", COMMIT, State.REQUESTED),
        ("20240103000000000", COMMIT, State.INFLIGHT),
        ("20240104000000000", COMPACTION, State.REQUESTED),
        ("20240106000000000", CLEAN, State.REQUESTED),
    ]
    assert [i.timestamp for i in timeline.completed_writes()] == [
        "20240101000000000",
        "20240105000000000",
    ]


def test_instant_times_are_17_digit_utc_and_strictly_increasing() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, 123_000, tzinfo=UTC)
    assert next_instant_time([], now) == "20240501120000123"
    # A clock behind the timeline (or the same millisecond) still moves forward.
    assert next_instant_time(["20240501120000123"], now) == "20240501120000124"
    assert next_instant_time(["20300101000000999"], now) == "20300101000001000"
    assert next_instant_time(["20300101000000"], now) == "20300101000000001"
    seen: list[str] = []
    for _ in range(50):
        seen.append(next_instant_time(seen, now))
    assert seen == sorted(set(seen))
    assert all(len(s) == 17 and s.isdigit() for s in seen)


def test_instants_are_never_reused_after_an_abort(tmp_path: Path) -> None:
    (tmp_path / ".hoodie").mkdir()
    storage = Storage(str(tmp_path))
    issued = []
    for _ in range(20):  # an attempt's instant files vanish on abort; times still move on
        issued.append(Timeline.load(storage).new_instant_time())
    assert issued == sorted(set(issued))
