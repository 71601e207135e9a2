"""``zfish feed``: ticks on a schedule, the three diff strategies, restarts and a SIGKILL mid-delivery."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.support import write_study
from zfish.lake import feed
from zfish.lake.upload import upload
from zfish.settings import LakeLayout

DAYS = [date(2025, 4, 1) + timedelta(days=i) for i in range(8)]
PER_DAY = 7  # write_study's 3 observations, 3 images and 1 outcomes file a day


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "_zfish" not in p.parts
    }


def _expected_set(study: Path, evening: date) -> int:
    """Objects due by ``evening``, counted from the files (every partition before it)."""
    return sum(
        1
        for kind in ("observations", "images", "outcomes")
        for path in (study / kind).glob("day=*/*")
        if date.fromisoformat(path.parent.name.removeprefix("day=")) < evening
    )


@pytest.mark.parametrize("diff", feed.DIFFS)
def test_five_ticks_at_one_second_deliver_what_the_strategy_says(tmp_path: Path, diff: str) -> None:
    study = write_study(tmp_path / "study", DAYS)
    layout = LakeLayout(root=tmp_path / "lake")
    options = feed.FeedOptions(every=1.0, first=DAYS[1], diff=diff, max_ticks=5)
    changed = study / "observations" / f"day={DAYS[0]}"
    target = sorted(changed.glob("*.json"))[0]
    runner = feed.Feed(study, feed.LakeDestination(layout), options, say=lambda _: None)
    delivered, times = [], []
    for n, tick in enumerate(runner.ticks(), start=1):
        delivered.append((tick.evening, tick.delivered))
        times.append(time.monotonic())
        if n == 2:  # a delivered object changes at the source: a corrected record
            record = json.loads(target.read_text())
            record["length_mm"] = 9.75
            target.write_text(json.dumps(record))
    evenings = [DAYS[k] for k in range(1, 6)]
    assert [e for e, _ in delivered] == evenings
    due = [_expected_set(study, e) for e in evenings]
    assert due == [PER_DAY * k for k in range(1, 6)]
    if diff == feed.DIFF_NONE:
        assert [n for _, n in delivered] == due
    elif diff == feed.DIFF_ROTATING:
        assert [n for _, n in delivered] == [7, 7, 8, 7, 7]  # the corrected record again
    else:
        assert [n for _, n in delivered] == [7, 7, 7, 7, 7]  # new keys only
    assert 3.8 <= times[-1] - times[0] <= 6.0  # a tick a second
    reference = LakeLayout(root=tmp_path / "reference")
    upload(study, reference, DAYS[5], show_progress=False)
    lake, ref = _tree(layout.dataset), _tree(reference.dataset)
    key = f"observations/day={DAYS[0]}/{target.name}"
    if diff == feed.DIFF_APPEND:
        assert json.loads(lake[key])["length_mm"] == 2.5  # never delivered again
        lake.pop(key)
        ref.pop(key)
    assert lake == ref


def test_a_restart_resumes_at_the_next_evening_and_catches_up(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study", DAYS)
    layout = LakeLayout(root=tmp_path / "lake")
    destination = feed.LakeDestination(layout)
    quiet = {"say": lambda _: None}
    first = feed.run(
        study, destination, feed.FeedOptions(every=0.2, first=DAYS[1], max_ticks=2), **quiet
    )
    assert [t.evening for t in first] == DAYS[1:3]
    # Stopped for 3.5 ticks: the three missed go out one after another, then the schedule holds.
    state_path = layout.dataset / feed.STATE_KEY
    state = json.loads(state_path.read_text())
    state["last_tick_at"] = time.time() - 3.5
    state_path.write_text(json.dumps(state))
    started = time.monotonic()
    again = feed.Feed(study, destination, feed.FeedOptions(every=1.0, max_ticks=4), **quiet)
    stamps = []
    for tick in again.ticks():
        stamps.append((tick.evening, tick.delivered, time.monotonic() - started))
    assert [e for e, _, _ in stamps] == DAYS[3:7]
    assert [n for _, n, _ in stamps] == [PER_DAY] * 4  # nothing delivered twice
    assert stamps[2][2] < 0.9  # the three missed ticks at once
    assert stamps[3][2] >= 0.4  # the fourth on the schedule


def test_without_catch_up_the_missed_evenings_are_skipped(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study", DAYS)
    layout = LakeLayout(root=tmp_path / "lake")
    destination = feed.LakeDestination(layout)
    said: list[str] = []
    feed.run(
        study, destination, feed.FeedOptions(every=1.0, first=DAYS[1], max_ticks=1), say=said.append
    )
    state_path = layout.dataset / feed.STATE_KEY
    state = json.loads(state_path.read_text())
    state["last_tick_at"] = time.time() - 4.5  # four ticks missed
    state_path.write_text(json.dumps(state))
    ticks = feed.run(
        study,
        destination,
        feed.FeedOptions(every=1.0, catch_up=False, max_ticks=1),
        say=said.append,
    )
    assert [t.evening for t in ticks] == [DAYS[5]]  # DAYS[2..4] skipped, the latest delivered
    assert ticks[0].delivered == 3 * PER_DAY + PER_DAY  # rotating: all that the skip left out
    assert "skipping 3 missed evening(s) (--no-catch-up)" in said


def test_a_feed_of_another_diff_is_refused(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study", DAYS)
    destination = feed.LakeDestination(LakeLayout(root=tmp_path / "lake"))
    feed.run(study, destination, feed.FeedOptions(every=0.1, first=DAYS[1], max_ticks=1), say=print)
    with pytest.raises(feed.ValidationError, match="--diff rotating, not append"):
        feed.run(study, destination, feed.FeedOptions(every=0.1, diff="append"), say=print)
    with pytest.raises(feed.ValidationError, match="30s, 2m, 1h"):
        feed.parse_every("soon")
    assert feed.parse_every("2m") == 120.0


def test_sigterm_stops_between_deliveries(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study", DAYS)
    lake = tmp_path / "lake"
    zfish = Path(sys.executable).with_name("zfish")
    args = [str(zfish), "--data", str(study), "--lake", str(lake), "feed", "--every", "0.5s"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped by SIGTERM between deliveries" in out
    ticks = [line for line in out.splitlines() if line.startswith("evening ")]
    assert 2 <= len(ticks) <= 6, out
    state = json.loads((LakeLayout(root=lake).dataset / feed.STATE_KEY).read_text())
    assert state["last"] == ticks[-1].split()[1].rstrip(":")


def test_sigkill_mid_delivery_then_restart_loses_and_halves_nothing(tmp_path: Path) -> None:
    days = [date(2025, 4, 1) + timedelta(days=i) for i in range(12)]
    study = write_study(tmp_path / "study", days, per_day=150)  # deliveries long enough to cut
    lake = tmp_path / "lake"
    zfish = Path(sys.executable).with_name("zfish")
    base = [str(zfish), "--data", str(study), "--lake", str(lake), "feed", "--every", "0.01s"]
    seed = int(os.environ.get("ZFISH_CRASH_SEED", time.time_ns() % 10_000))
    delay = random.Random(seed).uniform(0.0, 0.25)
    state_path = LakeLayout(root=lake).dataset / feed.STATE_KEY
    proc = subprocess.Popen(base, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Killed while it delivers: once two evenings are in, at a random moment of the next ones.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if json.loads(state_path.read_text())["last"] >= days[2].isoformat():
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.01)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the feed ended before it could be killed"
    rerun = subprocess.run(base, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, f"crash seed {seed} (delay {delay:.2f}s): {rerun.stderr}"
    assert "evening " in rerun.stdout  # the restart had evenings left to deliver
    layout = LakeLayout(root=lake)
    reference = LakeLayout(root=tmp_path / "reference")
    last = days[-1] + timedelta(days=1)
    upload(study, reference, last, show_progress=False)
    assert _tree(layout.dataset) == _tree(reference.dataset), f"crash seed {seed}"
    leftovers = [p for p in lake.rglob("*") if ".zfish-tmp" in p.name]
    assert leftovers == [], f"crash seed {seed}"
    assert json.loads((layout.dataset / feed.STATE_KEY).read_text())["last"] == last.isoformat()


def test_a_partition_with_bad_json_is_held_back_and_named(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study", DAYS)
    bad = sorted((study / "observations" / f"day={DAYS[1]}").glob("*.json"))[0]
    bad.write_text('{"fish_id": "zfish_1",')
    layout = LakeLayout(root=tmp_path / "lake")
    said: list[str] = []
    ticks = feed.run(
        study,
        feed.LakeDestination(layout),
        feed.FeedOptions(every=0.1, first=DAYS[3], max_ticks=1),
        say=said.append,
    )
    assert ticks[0].delivered == 3 * PER_DAY - 3  # the bad day's 3 observations held back
    assert not (layout.observations / f"day={DAYS[1]}").exists()
    assert (layout.images / f"day={DAYS[1]}").is_dir()  # another kind's partition still lands
    assert any(str(bad) in line and "invalid JSON" in line for line in said), said
