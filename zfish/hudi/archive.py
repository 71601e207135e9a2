"""Timeline archival as Hudi 0.15's ``HoodieTimelineArchiver`` does it, and the archive read back.

Trigger and choice (``getInstantsToArchive``), with ``keep.min`` / ``keep.max``
commits (20 / 30 by default, ``hoodie.keep.min.commits`` / ``max``):

* completed commits (commit, deltacommit, replacecommit) are archived when
  the active timeline holds more than ``max`` of them, oldest first, down to
  ``min``; never the latest completed commit before the oldest pending write
  or anything after it, nothing from the first savepoint on, and no
  replacecommit at or after the earliest commit the last clean retained
  (so the fs view keeps seeing what replaced files);
* ``min`` and ``max`` rise when the cleaner retains more commits than ``min``
  (``ArchivalUtils.getMinAndMaxInstantsToKeep``: at least the commits after
  the earliest commit to retain, plus two);
* completed cleans and rollbacks, each action on its own, likewise when more
  than ``max`` of them are on the timeline, down to ``min``;
* every file of a chosen instant (requested, inflight, completed) becomes one
  ``HoodieArchivedMetaEntry`` record (:mod:`zfish.hudi.archive_entry`), in
  Avro data blocks of ``hoodie.commits.archival.batch`` (10) records.

Like the JVM on a file system without append (local disks, S3), each
archival writes a new file ``.hoodie/archived/.commits_.archive.<N>_1-0-1``
whose version ``N`` follows the highest present (the JVM's files included),
then deletes the archived instant files: first every requested and inflight
file, then the completed files oldest first, so the active timeline never has
a hole. zfish writes the archive file atomically (temp file + rename, or one
PUT), which makes it the commit point of an archival: an archival interrupted
after it is completed by the next one, which deletes the instant files the
newest archive file already holds. Until then those instants are on both
timelines, which readers tolerate (the JVM's archived timeline is a set, and
active-timeline readers see a complete, older timeline).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from zfish.exceptions import HudiError
from zfish.hudi import archive_entry as ae
from zfish.hudi import avro_metadata as am
from zfish.hudi import markers
from zfish.hudi import options as o
from zfish.hudi.faults import fault_point
from zfish.hudi.logformat import AVRO_DATA_BLOCK, decode_avro_block, encode_avro_block, read_blocks
from zfish.hudi.options import WriteOptions
from zfish.hudi.storage import Storage
from zfish.hudi.timeline import (
    CLEAN,
    COMMIT,
    COMPACTION,
    DELTA_COMMIT,
    LOG_COMPACTION,
    REPLACE_COMMIT,
    ROLLBACK,
    SAVEPOINT,
    WRITE_ACTIONS,
    Instant,
    State,
    Timeline,
    instant_path,
    parse_instant_file,
)

ARCHIVE_FILE_PREFIX = ".commits_.archive."  # FSUtils.makeLogFileName("commits", ".archive", "")
WRITE_TOKEN = "1-0-1"  # HoodieLogFormat.UNKNOWN_WRITE_TOKEN, what the archiver rolls over with
# HoodieArchivedTimeline.ARCHIVE_FILE_PATTERN, anchored: Hadoop's .crc sidecars start with "..".
ARCHIVE_FILE_RE = re.compile(r"^\.commits_\.archive\.(?P<version>\d+)(?:_(?P<token>\d+-\d+-\d+))?$")

_STATE_ORDER = {State.REQUESTED: 0, State.INFLIGHT: 1, State.COMPLETED: 2}
# Actions of the write timeline (getWriteTimeline) and of the commits timeline.
_WRITE_TIMELINE = (COMMIT, DELTA_COMMIT, REPLACE_COMMIT, COMPACTION, LOG_COMPACTION)
_COMMITS_TIMELINE = (COMMIT, DELTA_COMMIT, REPLACE_COMMIT)


@dataclass(frozen=True)
class ArchiveFile:
    name: str
    version: int
    size: int


@dataclass
class ArchiveResult:
    """What one archival did."""

    archived: list[str] = field(default_factory=list)  # instant times moved to the archive
    file: str | None = None  # the archive file written (table-relative)
    completed_earlier: list[str] = field(default_factory=list)  # an interrupted archival's


@dataclass(frozen=True)
class ArchivedInstant:
    """One record of the archive: an instant file as it was on the active timeline."""

    timestamp: str
    action: str
    state: str
    state_transition_time: str | None
    entry: dict[str, Any]

    def commit_metadata(self) -> dict[str, Any] | None:
        return ae.commit_metadata_json(self.entry)


def archive_folder(properties: dict[str, str]) -> str:
    """``HoodieTableMetaClient.getArchivePath``, relative to the table root."""
    folder = properties.get(o.ARCHIVELOG_FOLDER) or o.ARCHIVELOG_FOLDER_VALUE
    return f"{o.METAFOLDER}/{folder}"


def archive_files(storage: Storage, folder: str) -> list[ArchiveFile]:
    """The archive log files of the table, by version (oldest first)."""
    found = []
    for entry in storage.list_dir(folder):
        m = ARCHIVE_FILE_RE.match(entry.name)
        if m is not None and not entry.is_dir:
            found.append(ArchiveFile(entry.name, int(m["version"]), entry.size))
    return sorted(found, key=lambda f: (f.version, f.name))


def read_archive_file(storage: Storage, path: str) -> list[ArchivedInstant]:
    """The records of one archive file; torn blocks and other block types are skipped."""
    out: list[ArchivedInstant] = []
    for block in read_blocks(storage.read_bytes(path)):
        if block.block_type != AVRO_DATA_BLOCK:
            continue
        try:
            records = decode_avro_block(block)
        except (ValueError, KeyError, EOFError) as exc:
            raise HudiError(
                f"{storage.uri(path)} holds an Avro block zfish cannot decode ({exc}). Fix: "
                "check the file with a JVM Hudi reader; restore it from a backup if it is damaged."
            ) from exc
        out.extend(
            ArchivedInstant(
                timestamp=str(r.get("commitTime") or ""),
                action=str(r.get("actionType") or ""),
                state=str(r.get("actionState") or ""),
                state_transition_time=r.get("stateTransitionTime"),
                entry=r,
            )
            for r in records
        )
    return out


def read_archive(storage: Storage, properties: dict[str, str]) -> list[ArchivedInstant]:
    """Every archived record, deduplicated (an interrupted archival repeats some), by instant."""
    folder = archive_folder(properties)
    seen: dict[tuple[str, str, str], ArchivedInstant] = {}
    for f in archive_files(storage, folder):
        for record in read_archive_file(storage, f"{folder}/{f.name}"):
            seen.setdefault((record.timestamp, record.action, record.state), record)
    order = {state.value: rank for state, rank in _STATE_ORDER.items()}
    return sorted(seen.values(), key=lambda r: (r.timestamp, order.get(r.state, 0)))


def archived_writes(storage: Storage, properties: dict[str, str]) -> list[ArchivedInstant]:
    """Archived completed commits/replacecommits, oldest first."""
    return [
        r
        for r in read_archive(storage, properties)
        if r.state == State.COMPLETED.value and r.action in WRITE_ACTIONS
    ]


# --- choosing what to archive ------------------------------------------------------------------


def _completed_commits(timeline: Timeline) -> list[Instant]:
    return [i for i in timeline.instants if i.is_completed and i.completed_action in WRITE_ACTIONS]


def _earliest_commit_to_retain(timeline: Timeline, commits_retained: int) -> Instant | None:
    """``CleanerUtils.getEarliestCommitToRetain`` for KEEP_LATEST_COMMITS."""
    completed = _completed_commits(timeline)
    if len(completed) <= commits_retained:
        return None
    nth = completed[len(completed) - commits_retained]
    pending = [i for i in timeline.pending() if i.action in _COMMITS_TIMELINE]
    if pending and nth.timestamp > pending[0].timestamp:
        before = [i for i in completed if i.timestamp < pending[0].timestamp]
        return before[-1] if before else None
    return nth


def instants_to_keep(timeline: Timeline, options: WriteOptions) -> tuple[int, int]:
    """``(min, max)`` commits to keep: the configured ones, raised to cover the cleaner's needs."""
    low, high = options.keep_min_commits, options.keep_max_commits
    ectr = _earliest_commit_to_retain(timeline, options.cleaner_commits_retained)
    if ectr is not None:
        needed = sum(1 for i in _completed_commits(timeline) if i.timestamp > ectr.timestamp) + 2
        if low < needed:
            return needed, needed + high - low
    return low, high


def _last_clean_retains(storage: Storage, clean: Instant) -> str:
    """The earliest instant the clean's plan retained (its own time when it names none)."""
    try:
        plan = am.deserialize(
            storage.read_bytes(instant_path(clean.timestamp, CLEAN, State.REQUESTED))
        )
    except (OSError, ValueError, EOFError, StopIteration) as exc:
        raise HudiError(
            f"{storage.uri(instant_path(clean.timestamp, CLEAN, State.REQUESTED))} is not a "
            f"readable clean plan ({exc}); archival needs it to keep replacecommits. Fix: "
            "restore the file, or let a JVM Hudi writer archive this table."
        ) from exc
    retain = plan.get("earliestInstantToRetain") or {}
    return str(retain.get("timestamp") or "") or clean.timestamp


def _oldest_to_retain_for_clustering(storage: Storage, timeline: Timeline) -> Instant | None:
    """``ClusteringUtils.getOldestInstantToRetainForClustering``."""
    replaces = [i for i in timeline.instants if i.action == REPLACE_COMMIT]
    if not replaces:
        return None
    cleans = timeline.completed_cleans()
    oldest: Instant | None
    if cleans:
        lower = _last_clean_retains(storage, cleans[-1])
        oldest = next((i for i in replaces if i.timestamp >= lower), None)
    else:
        oldest = replaces[0]
    inflight = [i for i in replaces if i.state is State.INFLIGHT]
    if inflight:
        before = [i for i in _completed_commits(timeline) if i.timestamp < inflight[0].timestamp]
        if before and (oldest is None or oldest.timestamp > before[-1].timestamp):
            oldest = before[-1]
    return oldest


def _commits_to_archive(storage: Storage, timeline: Timeline, low: int, high: int) -> list[Instant]:
    commits = _completed_commits(timeline)
    if len(commits) <= high:
        return []
    pending = [i for i in timeline.pending() if i.action in _WRITE_TIMELINE]
    retain: str | None = None
    if pending:
        before = [i for i in commits if i.timestamp < pending[0].timestamp]
        retain = before[-1].timestamp if before else pending[0].timestamp
    savepoints = [i for i in timeline.instants if i.action == SAVEPOINT and i.is_completed]
    first_savepoint = savepoints[0].timestamp if savepoints else None
    clustering = _oldest_to_retain_for_clustering(storage, timeline)
    chosen = [
        i
        for i in commits
        if (first_savepoint is None or i.timestamp < first_savepoint)
        and (retain is None or i.timestamp < retain)
        and (clustering is None or i.timestamp < clustering.timestamp)
    ]
    return chosen[: len(commits) - low]


def _cleans_to_archive(timeline: Timeline, low: int, high: int) -> list[Instant]:
    out: list[Instant] = []
    for action in (CLEAN, ROLLBACK):
        done = [i for i in timeline.instants if i.is_completed and i.action == action]
        if len(done) > high:
            out.extend(done[: len(done) - low])
    return out


def instants_to_archive(
    storage: Storage, timeline: Timeline, options: WriteOptions
) -> list[Instant]:
    """The instants an archival moves now (cleans and rollbacks first, then commits)."""
    low, high = instants_to_keep(timeline, options)
    return [
        *_cleans_to_archive(timeline, low, high),
        *_commits_to_archive(storage, timeline, low, high),
    ]


# --- archiving ---------------------------------------------------------------------------------


def _comparable(action: str) -> str:
    return {COMPACTION: COMMIT, LOG_COMPACTION: DELTA_COMMIT}.get(action, action)


def _state_files(instant: Instant) -> list[tuple[str, str, State]]:
    """``(file name, action, state)`` of the instant's files, requested -> completed."""
    out: list[tuple[str, str, State]] = []
    for name in instant.files:
        parsed = parse_instant_file(name)
        if parsed is None:
            continue
        _ts, action, state = parsed
        if _comparable(action) == _comparable(instant.completed_action):
            out.append((name, action, state))
    return sorted(out, key=lambda f: _STATE_ORDER[f[2]])


def next_archive_file(storage: Storage, folder: str) -> str:
    """The name of the next archive file: one version after the highest present."""
    files = archive_files(storage, folder)
    version = files[-1].version + 1 if files else 1
    return f"{ARCHIVE_FILE_PREFIX}{version}_{WRITE_TOKEN}"


def _entries(storage: Storage, instants: Iterable[Instant]) -> list[dict[str, Any]]:
    listing = {e.name: e for e in storage.list_dir(o.METAFOLDER) if not e.is_dir}
    records = []
    for instant in instants:
        for name, action, state in _state_files(instant):
            rel = f"{o.METAFOLDER}/{name}"
            entry = listing.get(name)
            if entry is None:
                continue  # gone meanwhile (a concurrent archiver in the JVM's words)
            content = storage.read_bytes(rel)
            try:
                records.append(
                    ae.to_entry(
                        instant.timestamp,
                        action,
                        state,
                        content,
                        ae.state_transition_time(entry.mtime_ns),
                    )
                )
            except ValueError as exc:
                raise HudiError(
                    f"cannot archive {storage.uri(rel)}: {exc}. Fix: repair or remove the "
                    "instant file (a JVM Hudi writer fails on it too), or disable archival."
                ) from exc
    return records


def _delete_instants(storage: Storage, instants: list[Instant]) -> None:
    """``deleteArchivedInstants``: pending state files first, then completed ones oldest first."""
    files = [f for i in instants for f in _state_files(i)]
    pending = [name for name, _action, state in files if state is not State.COMPLETED]
    completed = [name for name, _action, state in files if state is State.COMPLETED]
    for name in [*pending, *completed]:
        storage.delete_file(f"{o.METAFOLDER}/{name}")
        fault_point("mid_archive_delete")


def _complete_interrupted(storage: Storage, folder: str, timeline: Timeline) -> list[str]:
    """Delete instant files that the newest archive file already holds (a crash came between)."""
    files = archive_files(storage, folder)
    if not files:
        return []
    active = {
        (i.timestamp, _comparable(i.completed_action)): i
        for i in timeline.instants
        if i.is_completed
    }
    held = _completed_in(storage, folder, files[-1])
    done = [instant for key, instant in active.items() if key in held]
    done.sort(key=lambda i: (i.action not in (CLEAN, ROLLBACK), i.timestamp))
    _delete_instants(storage, done)
    return [i.timestamp for i in done]


# (table uri, file name, size) -> completed (time, action) an archive file holds: archive
# files never change once written, so a process that commits often decodes each once.
_HELD: dict[tuple[str, str, int], frozenset[tuple[str, str]]] = {}


def _completed_in(storage: Storage, folder: str, f: ArchiveFile) -> frozenset[tuple[str, str]]:
    key = (storage.uri(folder), f.name, f.size)
    if key not in _HELD:
        records = read_archive_file(storage, f"{folder}/{f.name}")
        _HELD[key] = frozenset(
            (r.timestamp, _comparable(r.action))
            for r in records
            if r.state == State.COMPLETED.value
        )
    return _HELD[key]


def _drop_temp_files(storage: Storage, folder: str) -> None:
    for entry in storage.list_dir(folder):
        if not entry.is_dir and entry.name.startswith("..") and entry.name.endswith(".tmp"):
            storage.delete_file(entry.path)


def archive_if_required(
    storage: Storage, properties: dict[str, str], options: WriteOptions
) -> ArchiveResult:
    """Archive what Hudi 0.15 would archive now; the caller holds the table's writer lock."""
    folder = archive_folder(properties)
    result = ArchiveResult()
    _drop_temp_files(storage, folder)
    timeline = Timeline.load(storage)
    result.completed_earlier = _complete_interrupted(storage, folder, timeline)
    if result.completed_earlier:
        timeline = Timeline.load(storage)
    chosen = instants_to_archive(storage, timeline, options)
    if not chosen:
        return result
    for instant in chosen:
        markers.delete_markers(storage, instant.timestamp)  # deleteAnyLeftOverMarkers
    records = _entries(storage, chosen)
    batch = options.archival_batch_size
    payload = b"".join(
        encode_avro_block(records[i : i + batch], ae.HOODIE_ARCHIVED_META_ENTRY)
        for i in range(0, len(records), batch)
    )
    storage.mkdirs(folder)
    name = next_archive_file(storage, folder)
    storage.write_atomic(f"{folder}/{name}", payload, durable=True)
    fault_point("after_archive_write")
    _delete_instants(storage, chosen)
    result.archived = [i.timestamp for i in chosen]
    result.file = f"{folder}/{name}"
    return result
