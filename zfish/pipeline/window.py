"""Which observation partitions a run reads: the seed's rolling window, widened so no label is lost.

The seed's Glue job re-reads the last 36 days of observations each evening so
that outcomes arriving 35 days after hatching find their fish. Skip an evening
and the outcomes of the missed days find observations that already left the
window: those rows are silently lost. zfish anchors the window at the end date
of the last successful commit (kept in the commit's metadata) when that is
earlier than this run's end date, so the window always reaches back far
enough; the very first run reads everything.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

DEFAULT_WINDOW_DAYS = 36


@dataclass(frozen=True)
class ReadWindow:
    end: datetime
    start_day: date | None  # None: every partition up to the end (first run)
    check_unknown_fish_since: date | None  # outcomes from this day on must match observations
    note: str

    def includes(self, day: date) -> bool:
        return (self.start_day is None or day >= self.start_day) and day <= self.end.date()

    def includes_up_to_end(self, day: date) -> bool:
        return day <= self.end.date()

    @property
    def days(self) -> int | None:
        return None if self.start_day is None else (self.end.date() - self.start_day).days


def plan(end: datetime, window_days: int, last_end: datetime | None) -> ReadWindow:
    """The partitions to read for a run ending at ``end``."""
    if window_days < 1:
        raise ValueError("window_days must be at least 1")
    if last_end is None:
        return ReadWindow(end, None, None, "first run: every partition up to the end date")
    # After a missed evening (more than a day since the last run), reach back from the
    # last run's end instead of this run's, so the outcomes of the missed days still
    # find their observations.
    anchor = last_end if end - last_end > timedelta(days=1) else end
    start = (anchor - timedelta(days=window_days)).date()
    # Outcomes from the day before the anchor on are new since the last run; their
    # fish's observations lie inside the window when window_days covers the label delay.
    since = anchor.date() - timedelta(days=1)
    span = (end.date() - start).days
    if anchor < end:
        note = (
            f"{span} days: widened from {window_days} to reach back from the last run's end "
            f"date {last_end.isoformat(sep=' ')}"
        )
    else:
        note = f"{window_days} days"
    return ReadWindow(end, start, since, note)


def reach_new_outcomes(
    window: ReadWindow, new_fish: set[str], first_observed: dict[str, date]
) -> ReadWindow:
    """Widen the window so every fish with a new outcome has all its observations inside.

    ``first_observed`` maps a fish to the day of its first observation (from
    file names, see ``sources.first_observation_days``). A label delay longer
    than the window (another study's ``--label-age``) then costs a wider read
    instead of lost rows; a fish that cannot be located makes the run read
    every partition.
    """
    if window.start_day is None or not new_fish:
        return window
    missing = sorted(f for f in new_fish if f not in first_observed)
    if missing:
        return replace(
            window,
            start_day=None,
            note=f"every partition: {len(missing)} fish with new outcomes could not be located by "
            f"file name (e.g. {missing[0]})",
        )
    earliest = min(first_observed[f] for f in new_fish)
    if earliest >= window.start_day:
        return window
    return replace(
        window,
        start_day=earliest,
        note=f"{(window.end.date() - earliest).days} days: widened from {window.note} to reach "
        f"the first observations of fish whose outcomes just arrived",
    )
