"""The active timeline of a v6 table (layout 1): instant files flat in ``.hoodie/``.

==============  ==========================  ===================  ====================
action          requested                   inflight             completed
==============  ==========================  ===================  ====================
commit          ``<t>.commit.requested``    ``<t>.inflight``     ``<t>.commit`` (JSON)
replacecommit   ``.replacecommit.requested``  ``.replacecommit.inflight``  ``.replacecommit``
clean           ``.clean.requested`` (Avro)  ``.clean.inflight``  ``.clean`` (Avro)
compaction      ``.compaction.requested``   ``.compaction.inflight``  ``<t>.commit``
==============  ==========================  ===================  ====================

(and deltacommit, rollback, savepoint, restore, indexing, logcompaction, which
zfish never writes but recognises so it can refuse them). Instant times are
``yyyyMMddHHmmssSSS`` in UTC and every new one sorts after every instant on the
timeline, in any state and action.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from zfish.exceptions import HudiError
from zfish.hudi.options import METAFOLDER
from zfish.hudi.storage import Storage

COMMIT = "commit"
DELTA_COMMIT = "deltacommit"
REPLACE_COMMIT = "replacecommit"
CLEAN = "clean"
ROLLBACK = "rollback"
SAVEPOINT = "savepoint"
RESTORE = "restore"
COMPACTION = "compaction"
LOG_COMPACTION = "logcompaction"
INDEXING = "indexing"
SCHEMA_COMMIT = "schemacommit"

# Actions whose completed instants make data visible (the "commits timeline" of a COW table).
WRITE_ACTIONS = (COMMIT, REPLACE_COMMIT, DELTA_COMMIT)

INSTANT_FORMAT = "%Y%m%d%H%M%S"


class State(StrEnum):
    REQUESTED = "REQUESTED"
    INFLIGHT = "INFLIGHT"
    COMPLETED = "COMPLETED"


_STATE_ORDER = {State.REQUESTED: 0, State.INFLIGHT: 1, State.COMPLETED: 2}

# File-name suffix -> (action, state). Layout 1 keeps them all flat in .hoodie/.
_SUFFIXES: dict[str, tuple[str, State]] = {
    "commit": (COMMIT, State.COMPLETED),
    "commit.requested": (COMMIT, State.REQUESTED),
    "inflight": (COMMIT, State.INFLIGHT),
    "deltacommit": (DELTA_COMMIT, State.COMPLETED),
    "deltacommit.requested": (DELTA_COMMIT, State.REQUESTED),
    "deltacommit.inflight": (DELTA_COMMIT, State.INFLIGHT),
    "replacecommit": (REPLACE_COMMIT, State.COMPLETED),
    "replacecommit.requested": (REPLACE_COMMIT, State.REQUESTED),
    "replacecommit.inflight": (REPLACE_COMMIT, State.INFLIGHT),
    "clean": (CLEAN, State.COMPLETED),
    "clean.requested": (CLEAN, State.REQUESTED),
    "clean.inflight": (CLEAN, State.INFLIGHT),
    "rollback": (ROLLBACK, State.COMPLETED),
    "rollback.requested": (ROLLBACK, State.REQUESTED),
    "rollback.inflight": (ROLLBACK, State.INFLIGHT),
    "savepoint": (SAVEPOINT, State.COMPLETED),
    "savepoint.inflight": (SAVEPOINT, State.INFLIGHT),
    "restore": (RESTORE, State.COMPLETED),
    "restore.requested": (RESTORE, State.REQUESTED),
    "restore.inflight": (RESTORE, State.INFLIGHT),
    "compaction.requested": (COMPACTION, State.REQUESTED),
    "compaction.inflight": (COMPACTION, State.INFLIGHT),
    "logcompaction.requested": (LOG_COMPACTION, State.REQUESTED),
    "logcompaction.inflight": (LOG_COMPACTION, State.INFLIGHT),
    "indexing": (INDEXING, State.COMPLETED),
    "indexing.requested": (INDEXING, State.REQUESTED),
    "indexing.inflight": (INDEXING, State.INFLIGHT),
    "schemacommit": (SCHEMA_COMMIT, State.COMPLETED),
    "schemacommit.requested": (SCHEMA_COMMIT, State.REQUESTED),
    "schemacommit.inflight": (SCHEMA_COMMIT, State.INFLIGHT),
}


def instant_file(timestamp: str, action: str, state: State) -> str:
    """The file name (in ``.hoodie/``) of an instant in a given state."""
    if action == COMMIT and state is State.INFLIGHT:
        return f"{timestamp}.inflight"
    if state is State.COMPLETED:
        if action in (COMPACTION, LOG_COMPACTION):
            action = COMMIT if action == COMPACTION else DELTA_COMMIT
        return f"{timestamp}.{action}"
    return f"{timestamp}.{action}.{state.value.lower()}"


def instant_path(timestamp: str, action: str, state: State) -> str:
    return f"{METAFOLDER}/{instant_file(timestamp, action, state)}"


def parse_instant_file(name: str) -> tuple[str, str, State] | None:
    """``(timestamp, action, state)`` of a timeline file name, None for other files."""
    ts, dot, suffix = name.partition(".")
    if not dot or not ts.isdigit() or len(ts) < 14:
        return None
    parsed = _SUFFIXES.get(suffix)
    if parsed is None:
        return None
    return ts, parsed[0], parsed[1]


@dataclass(frozen=True, order=True)
class Instant:
    """One instant; ``action`` is the action that started it (``compaction`` stays compaction)."""

    timestamp: str
    action: str
    state: State
    files: tuple[str, ...] = ()

    @property
    def is_completed(self) -> bool:
        return self.state is State.COMPLETED

    @property
    def completed_action(self) -> str:
        """The action of the completed file (a finished compaction is a ``commit``)."""
        if self.action == COMPACTION:
            return COMMIT
        if self.action == LOG_COMPACTION:
            return DELTA_COMMIT
        return self.action


def format_instant(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime(INSTANT_FORMAT) + f"{moment.microsecond // 1000:03d}"


def parse_instant_time(ts: str) -> datetime:
    base = datetime.strptime(ts[:14], INSTANT_FORMAT).replace(tzinfo=UTC)
    millis = int(ts[14:17]) if len(ts) >= 17 else 0
    return base + timedelta(milliseconds=millis)


def next_instant_time(existing: Iterable[str], now: datetime | None = None) -> str:
    """A 17-digit UTC instant after every ``existing`` one (and not before ``now``)."""
    candidate = format_instant(now or datetime.now(UTC))
    latest = max(existing, default="")
    if candidate <= latest:
        candidate = format_instant(parse_instant_time(latest) + timedelta(milliseconds=1))
        while candidate <= latest:  # a 14-digit or odd latest value: keep stepping
            candidate = format_instant(parse_instant_time(candidate) + timedelta(milliseconds=1))
    return candidate


# The last instant this process handed out per table: an aborted attempt deletes its instant
# files, and a new attempt in the same millisecond must still not reuse its time. Per table:
# one table's instants (a timeline ahead of this clock) must not push another's ahead.
_last_issued: dict[str, str] = {}


class Timeline:
    """All instants found in ``.hoodie/`` at load time, sorted by timestamp."""

    def __init__(self, instants: list[Instant], all_timestamps: set[str], table: str = ""):
        self.instants = sorted(instants)
        self.all_timestamps = all_timestamps
        self.table = table  # the table's base URI

    @classmethod
    def load(cls, storage: Storage) -> Timeline:
        by_ts: dict[str, list[tuple[str, State, str]]] = {}
        for entry in storage.list_dir(METAFOLDER):
            if entry.is_dir:
                continue
            parsed = parse_instant_file(entry.name)
            if parsed is None:
                continue
            ts, action, state = parsed
            by_ts.setdefault(ts, []).append((action, state, entry.name))
        instants = []
        for ts, found in by_ts.items():
            files = tuple(sorted(name for _, _, name in found))
            completed = [a for a, s, _ in found if s is State.COMPLETED]
            started = [a for a, s, _ in found if s is not State.COMPLETED]
            if completed:
                action = completed[0]
                if action == COMMIT and COMPACTION in started:
                    action = COMPACTION
                instants.append(Instant(ts, action, State.COMPLETED, files))
            else:
                action, state, _ = max(found, key=lambda f: _STATE_ORDER[f[1]])
                # "<t>.inflight" alone says commit; a more specific requested file wins.
                specific = [a for a, _, _ in found if a != COMMIT]
                if action == COMMIT and specific:
                    action = specific[0]
                instants.append(Instant(ts, action, state, files))
        return cls(instants, set(by_ts), storage.base_uri)

    # --- views ---

    def completed_writes(self) -> list[Instant]:
        """Completed instants that wrote data (commit, replacecommit, compaction...)."""
        return [i for i in self.instants if i.is_completed and i.completed_action in WRITE_ACTIONS]

    def completed_cleans(self) -> list[Instant]:
        return [i for i in self.instants if i.is_completed and i.action == CLEAN]

    def pending(self) -> list[Instant]:
        return [i for i in self.instants if not i.is_completed]

    def latest_timestamp(self) -> str | None:
        return max(self.all_timestamps, default=None)

    def new_instant_time(self, also_after: Iterable[str] = ()) -> str:
        """An instant after every one on the timeline, ``also_after`` and any issued here."""
        last = _last_issued.get(self.table, "")
        instant = next_instant_time([*self.all_timestamps, *also_after, last])
        _last_issued[self.table] = instant
        return instant


def read_commit_metadata(storage: Storage, instant: Instant) -> dict[str, Any]:
    """The JSON ``HoodieCommitMetadata`` of a completed commit/replacecommit (``{}`` if empty)."""
    path = instant_path(instant.timestamp, instant.completed_action, State.COMPLETED)
    raw = storage.read_bytes(path)
    if not raw.strip():
        return {}
    try:
        data: dict[str, Any] = json.loads(raw)
    except ValueError as exc:
        raise HudiError(
            f"{storage.uri(path)} is not valid JSON commit metadata ({exc}). Fix: restore it "
            "from a backup; readers of this table fail on it too."
        ) from exc
    return data
