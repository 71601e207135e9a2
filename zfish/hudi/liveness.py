"""Whether a pending instant zfish did not start may still belong to a live (JVM) writer.

zfish's lock keeps zfish writers apart, but a JVM Hudi writer does not know it.
Before the native writer rolls back a pending instant it did not start, it
asks here whether that instant may be live, and stops with ``TableLockedError``
(exit 4) if so, instead of deleting the files of a running Spark job.

How it decides (Hudi 0.15 semantics):

* **Heartbeat.** A JVM writer heartbeats (``.hoodie/.heartbeat/<instant>``,
  ``HoodieHeartbeatClient``; the file's modification time is the last beat)
  only under the LAZY failed-writes policy, i.e. multi-writer setups:
  ``BaseHoodieWriteClient.startCommit`` starts it ``if
  (config.getFailedWritesCleanPolicy().isLazy())``. If the file exists, the
  instant is live while it is younger than ``foreign_heartbeat_timeout_seconds``
  (default 120 s: Hudi's 60 s interval times 2 tolerable misses,
  ``HoodieHeartbeatUtils.isHeartbeatExpired``).
* **File ages.** Under the default EAGER policy there is no heartbeat. Then
  the instant is live while its newest file is younger than
  ``foreign_pending_timeout_seconds`` (default 15 min): its instant files in
  ``.hoodie`` (requested, inflight), everything under ``.hoodie/.temp/<instant>``
  (markers; the timeline server appends to ``MARKERS<n>`` as tasks start files)
  and the data files named with the instant, with their ``.crc`` sidecars.

An instant whose owner is provably zfish (recorded in zfish's lock, or a
``.inflight`` carrying ``extraMetadata["zfish.writer"]``) never gets here: a
zfish writer holding the lock knows every other zfish writer is gone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from zfish.hudi.fsview import list_partitions, parse_base_file
from zfish.hudi.markers import marker_dir
from zfish.hudi.options import HEARTBEAT_FOLDER, METAFOLDER, WriteOptions
from zfish.hudi.storage import Entry, Storage


@dataclass(frozen=True)
class Liveness:
    """The verdict on one pending instant, with what it was based on."""

    live: bool
    evidence: str


def heartbeat_path(instant: str) -> str:
    return f"{METAFOLDER}/{HEARTBEAT_FOLDER}/{instant}"


def instant_artifacts(storage: Storage, instant: str) -> list[Entry]:
    """Every file of a pending instant: instant files, markers, data files (and sidecars)."""
    out = [
        e
        for e in storage.list_dir(METAFOLDER)
        if not e.is_dir and (e.name.startswith(f"{instant}.") or e.name.startswith(f".{instant}."))
    ]
    out.extend(e for e in storage.list_dir(marker_dir(instant), recursive=True) if not e.is_dir)
    for partition in list_partitions(storage):
        for entry in storage.list_dir(partition):
            if entry.is_dir:
                continue
            name = entry.name
            if Storage.is_crc_sidecar(name):
                name = name[1 : -len(".crc")]
            base = parse_base_file(partition, name)
            if base is not None and base.instant == instant:
                out.append(entry)
    return out


def judge(
    storage: Storage, instant: str, options: WriteOptions, now: float | None = None
) -> Liveness:
    """Whether the writer of pending ``instant`` may still be running."""
    now = time.time() if now is None else now
    beat = storage.list_dir(f"{METAFOLDER}/{HEARTBEAT_FOLDER}")
    heartbeat = next((e for e in beat if e.name == instant and not e.is_dir), None)
    if heartbeat is not None:
        age = now - heartbeat.mtime_ns / 1e9
        limit = options.foreign_heartbeat_timeout_seconds
        state = "refreshed" if age <= limit else "last refreshed"
        return Liveness(
            age <= limit,
            f"its heartbeat {heartbeat.path} was {state} {age:.0f} s ago (a writer is "
            f"considered dead after {limit:.0f} s without one)",
        )
    files = instant_artifacts(storage, instant)
    limit = options.foreign_pending_timeout_seconds
    if not files:
        return Liveness(False, "it has no files left")
    newest = max(files, key=lambda e: e.mtime_ns)
    age = now - newest.mtime_ns / 1e9
    return Liveness(
        age < limit,
        f"no heartbeat; its newest file {newest.path} was modified {age:.0f} s ago "
        f"({len(files)} file(s); a pending instant untouched for {limit:.0f} s is taken "
        "as abandoned)",
    )
