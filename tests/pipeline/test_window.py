"""The read window: the seed's 36 days, widened after missed runs, everything on the first run."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from zfish.pipeline.window import DEFAULT_WINDOW_DAYS, plan

EVENING = datetime(2025, 5, 11, 18)


def test_first_run_reads_everything_up_to_the_end() -> None:
    window = plan(EVENING, DEFAULT_WINDOW_DAYS, None)
    assert window.start_day is None
    assert window.includes(date(2025, 4, 1))
    assert window.includes(date(2025, 5, 11))
    assert not window.includes(date(2025, 5, 12))
    assert window.check_unknown_fish_since is None


def test_daily_runs_use_the_seed_window() -> None:
    window = plan(EVENING, 36, datetime(2025, 5, 10, 18))
    assert window.start_day == date(2025, 4, 5)  # the seed's end_date - timedelta(days=36)
    assert not window.includes(date(2025, 4, 4))
    assert window.note == "36 days"
    # the outcomes uploaded since the last run (day 2025-05-10) are checked against observations
    assert window.check_unknown_fish_since == date(2025, 5, 10)


def test_rerun_of_the_same_evening_uses_the_plain_window() -> None:
    window = plan(EVENING, 36, EVENING)
    assert window.start_day == date(2025, 4, 5)
    assert window.note == "36 days"


def test_missed_evenings_widen_the_window_back_from_the_last_run() -> None:
    window = plan(EVENING, 36, datetime(2025, 5, 1, 18))
    assert window.start_day == date(2025, 3, 26)
    assert window.days == 46
    assert "widened" in window.note
    # An outcome of 2025-05-02 (the first day the last run had not seen) belongs to a fish
    # hatched 35 days earlier, observed from 2025-03-29 on: inside the window.
    assert window.includes(date(2025, 3, 29))
    assert window.check_unknown_fish_since == date(2025, 4, 30)


def test_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        plan(EVENING, 0, None)


def test_new_outcomes_of_long_lived_fish_widen_the_window() -> None:
    from zfish.pipeline.window import reach_new_outcomes

    window = plan(EVENING, 36, datetime(2025, 5, 10, 18))
    first_seen = {"old": date(2025, 3, 20), "young": date(2025, 4, 20)}
    widened = reach_new_outcomes(window, {"old", "young"}, first_seen)
    assert widened.start_day == date(2025, 3, 20)
    assert "widened" in widened.note
    assert reach_new_outcomes(window, {"young"}, first_seen) == window
    everything = reach_new_outcomes(window, {"nowhere"}, first_seen)
    assert everything.start_day is None
    assert "could not be located" in everything.note


def test_first_observation_days_come_from_file_names(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from zfish.lake.partitions import Partition
    from zfish.pipeline.sources import first_observation_days

    parts = []
    for day, names in [
        (date(2025, 4, 3), ["zfish_00001_03.json", "notes.txt"]),
        (date(2025, 4, 1), ["zfish_00001_01.json", "odd.json"]),
    ]:
        folder = tmp_path / f"day={day}"
        folder.mkdir()
        for name in names:
            (folder / name).write_text("{}")
        parts.append(Partition(day, folder))
    assert first_observation_days(parts) == {"zfish_00001": date(2025, 4, 1)}
