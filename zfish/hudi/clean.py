"""Cleaning with Hudi's default policy, KEEP_LATEST_COMMITS, recorded as Avro clean instants.

With ``N`` commits retained (default 10) the earliest commit to retain
(ECTR) is the N-th latest completed write. In every file group the cleaner
keeps the latest slice and every slice written at or after the ECTR, plus the
newest slice older than the ECTR (queries as of the ECTR read it); all older
slices are deleted (``CleanPlanner.getFilesToCleanKeepingLatestCommits``).
File groups replaced by a replacecommit older than the ECTR go entirely.

Like Hudi's incremental cleaning, only partitions written since the previous
clean's ECTR are examined when such a clean exists; otherwise all partitions.

A clean is three instants: ``<c>.clean.requested`` and ``<c>.clean.inflight``
(the Avro ``HoodieCleanerPlan``), then the deletions, then ``<c>.clean`` (Avro
``HoodieCleanMetadata``, written atomically). A clean interrupted by a crash
is finished by the next writer from its plan (deleting a file twice is a no-op).

When the previous clean's ECTR is older than the active timeline (its commits
were archived, ``HoodieDefaultTimeline.isBeforeTimelineStarts``), the
partitions written since then are no longer all known, so every partition is
examined, as ``CleanPlanner.getPartitionPathsForCleanByCommits`` does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from zfish.exceptions import UnsupportedTableError
from zfish.hudi import avro_metadata as am
from zfish.hudi.faults import fault_point
from zfish.hudi.fsview import FileSystemView, list_partitions
from zfish.hudi.options import CLEANER_POLICY_KEEP_LATEST_COMMITS
from zfish.hudi.storage import Storage
from zfish.hudi.timeline import (
    CLEAN,
    COMMIT,
    DELTA_COMMIT,
    REPLACE_COMMIT,
    SAVEPOINT,
    Instant,
    State,
    Timeline,
    instant_path,
    read_commit_metadata,
)

# HoodieDefaultTimeline.getCommitsTimeline (any state).
COMMITS_TIMELINE_ACTIONS = (COMMIT, DELTA_COMMIT, REPLACE_COMMIT)


@dataclass
class CleanPlan:
    earliest_commit_to_retain: str
    last_completed_commit: str
    files: dict[str, list[str]]  # partition -> table-relative paths

    @property
    def num_files(self) -> int:
        return sum(len(v) for v in self.files.values())


@dataclass
class CleanResult:
    instant: str | None
    files_deleted: int


def plan_clean(
    storage: Storage, timeline: Timeline, commits_retained: int, incremental: bool = True
) -> CleanPlan | None:
    """What KEEP_LATEST_COMMITS would delete now; None when there is nothing to clean."""
    writes = timeline.completed_writes()
    if len(writes) <= commits_retained:
        return None
    if any(i.action == SAVEPOINT for i in timeline.instants):
        return None  # savepointed slices must survive; zfish does not track them
    ectr = writes[len(writes) - commits_retained].timestamp
    completed = [i.timestamp for i in writes]

    replaced: set[tuple[str, str]] = set()
    replaced_before_ectr: set[tuple[str, str]] = set()
    partitions_written: dict[str, set[str]] = {}
    metadata_cache: dict[str, dict[str, Any]] = {}
    for inst in writes:
        meta = read_commit_metadata(storage, inst)
        metadata_cache[inst.timestamp] = meta
        partitions_written[inst.timestamp] = set((meta.get("partitionToWriteStats") or {}).keys())
        if inst.action == REPLACE_COMMIT:
            for partition, fids in (meta.get("partitionToReplaceFileIds") or {}).items():
                partitions_written[inst.timestamp].add(partition)
                for fid in fids:
                    replaced.add((partition, fid))
                    if inst.timestamp < ectr:
                        replaced_before_ectr.add((partition, fid))

    examine = _partitions_to_examine(storage, timeline, writes, ectr, partitions_written)
    partitions = list_partitions(storage) if examine is None or not incremental else examine

    view = FileSystemView(storage, completed)
    files: dict[str, list[str]] = {}
    for partition in sorted(partitions):
        doomed: list[str] = []
        for fid, slices in view.file_groups(partition).items():
            if (partition, fid) in replaced_before_ectr:
                doomed.extend(s.path for s in slices)
                continue
            if (partition, fid) in replaced:
                continue  # replaced after the ECTR: still needed for time travel
            latest = slices[0].instant
            before = next((s.instant for s in slices if s.instant < ectr), None)
            for s in slices:
                if s.instant in (latest, before):
                    continue
                if s.instant < ectr:
                    doomed.append(s.path)
        if doomed:
            files[partition] = sorted(doomed)
    if not files:
        return None
    return CleanPlan(ectr, writes[-1].timestamp, files)


def _partitions_to_examine(
    storage: Storage,
    timeline: Timeline,
    writes: list[Instant],
    ectr: str,
    partitions_written: dict[str, set[str]],
) -> set[str] | None:
    """Partitions written in [previous ECTR, new ECTR); None means examine all."""
    cleans = timeline.completed_cleans()
    if not cleans:
        return None
    try:
        last = am.deserialize(
            storage.read_bytes(instant_path(cleans[-1].timestamp, CLEAN, State.COMPLETED))
        )
    except (OSError, ValueError):
        return None
    previous = str(last.get("earliestCommitToRetain") or "")
    if not previous or last.get("policy") not in ("", CLEANER_POLICY_KEEP_LATEST_COMMITS):
        return None
    commits = [i.timestamp for i in timeline.instants if i.action in COMMITS_TIMELINE_ACTIONS]
    if commits and previous < commits[0]:
        return None  # archived since: the partitions written in between are unknown
    out: set[str] = set()
    for inst in writes:
        if previous <= inst.timestamp < ectr:
            out |= partitions_written.get(inst.timestamp, set())
    return out


def execute_clean(
    storage: Storage, timeline: Timeline, plan: CleanPlan, instant: str | None = None
) -> CleanResult:
    """Record the plan, delete its files, record the clean metadata (the clean's commit point).

    ``instant`` is the clean's instant time (default: a new one after the timeline).
    """
    instant = instant or timeline.new_instant_time()
    plan_record = am.cleaner_plan(
        plan.earliest_commit_to_retain,
        plan.last_completed_commit,
        CLEANER_POLICY_KEEP_LATEST_COMMITS,
        {p: [storage.uri(f) for f in fs] for p, fs in plan.files.items()},
    )
    payload = am.serialize(plan_record, am.HOODIE_CLEANER_PLAN)
    storage.write_atomic(instant_path(instant, CLEAN, State.REQUESTED), payload)
    fault_point("after_clean_requested")
    storage.write_atomic(instant_path(instant, CLEAN, State.INFLIGHT), payload)
    deleted = _run_plan(storage, instant, plan_record, started=time.monotonic())
    return CleanResult(instant, deleted)


def finish_pending_clean(storage: Storage, instant: Instant) -> int:
    """Complete a clean a crashed writer left requested or inflight; returns files deleted."""
    ts = instant.timestamp
    raw = None
    for state in (State.INFLIGHT, State.REQUESTED):
        path = instant_path(ts, CLEAN, state)
        if storage.exists(path):
            raw = storage.read_bytes(path)
            if raw:
                break
    try:
        plan_record = am.deserialize(raw or b"")
    except (ValueError, StopIteration, EOFError) as exc:
        raise UnsupportedTableError(
            f"Hudi table at {storage.base_uri}: pending clean {ts} has an unreadable plan "
            f"({exc}). Fix: let a JVM Hudi writer finish it, or delete .hoodie/{ts}.clean.* if "
            "you are sure no files need cleaning."
        ) from exc
    if not storage.exists(instant_path(ts, CLEAN, State.INFLIGHT)):
        storage.write_atomic(instant_path(ts, CLEAN, State.INFLIGHT), raw or b"")
    return _run_plan(storage, ts, plan_record, started=time.monotonic())


def _run_plan(storage: Storage, instant: str, plan: dict[str, Any], started: float) -> int:
    per_partition: dict[str, tuple[list[str], list[str], list[str]]] = {}
    first = True
    root = storage.base_uri.rstrip("/") + "/"
    for partition, infos in (plan.get("filePathsToBeDeletedPerPartition") or {}).items():
        patterns: list[str] = []
        success: list[str] = []
        failed: list[str] = []
        for info in infos:
            path = str(info["filePath"])
            rel = path[len(root) :] if path.startswith(root) else path
            name = rel.rpartition("/")[2]
            patterns.append(name)
            try:
                storage.delete_file(rel)
                success.append(name)  # already gone counts as cleaned (a resumed clean)
            except OSError:
                failed.append(name)
            if first:
                first = False
                fault_point("mid_clean")
        per_partition[partition] = (patterns, success, failed)
    # Version-1 plans (older JVM writers) list bare names per partition.
    for partition, names in (plan.get("filesToBeDeletedPerPartition") or {}).items():
        patterns, success, failed = per_partition.setdefault(partition, ([], [], []))
        for name in names:
            rel = storage.join(partition, name)
            patterns.append(name)
            try:
                storage.delete_file(rel)
                success.append(name)
            except OSError:
                failed.append(name)
    ectr_info = plan.get("earliestInstantToRetain") or {}
    metadata = am.clean_metadata(
        start_clean_time=instant,
        time_taken_ms=int((time.monotonic() - started) * 1000),
        earliest_commit_to_retain=str(ectr_info.get("timestamp") or ""),
        last_completed_commit=str(plan.get("lastCompletedCommitTimestamp") or ""),
        policy=str(plan.get("policy") or CLEANER_POLICY_KEEP_LATEST_COMMITS),
        deleted_per_partition=per_partition,
    )
    storage.write_atomic(
        instant_path(instant, CLEAN, State.COMPLETED),
        am.serialize(metadata, am.HOODIE_CLEAN_METADATA),
        durable=True,
    )
    fault_point("after_clean")
    return sum(len(v[1]) for v in per_partition.values())
