"""One writer at a time: an exclusive lock file ``.hoodie/zfish.writer.lock``.

The lock is created with ``O_CREAT | O_EXCL`` and holds JSON naming its owner
(host, pid, the process start time, a random token, when). A second writer
fails fast with ``TableLockedError`` saying who holds it and how to recover.

A lock is stale, and is taken over, when its owner is provably gone: same host
and the pid no longer exists (or now belongs to a process that started later,
i.e. the pid was reused). On another host liveness cannot be probed, so such a
lock is stale only after ``lock_expiry_seconds``. Takeover renames the stale
file to a unique name first, so of two writers recovering at once only one wins.

The lock also records the instants its holder starts (``note_instant``, written
before the instant's first file), and a writer that takes over a stale lock
inherits them (``inherited``): they are pending instants of a dead zfish
writer, to roll back at once, whereas a pending instant nobody recorded may
belong to a live JVM writer (see ``HudiTable`` recovery). The record is passed
on when a writer dies again before it rolled them back. A holder that runs a
JVM writer under the lock (whose instants it cannot know in advance) calls
``claim_new_instants``: every instant started from then on while it holds the
lock is its own, and dies with it.

The file is not a timeline instant: Hudi JVM and hudi-rs ignore unknown files in
``.hoodie``. The JVM writer does not know this lock: when zfish runs it (the
ETL's ``--writer spark-hudi``) zfish holds the lock around it; run a JVM
writer started outside zfish only when no zfish writer runs.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from zfish.exceptions import TableLockedError
from zfish.fsutil import pid_alive
from zfish.hudi.options import LOCK_FILE, METAFOLDER
from zfish.hudi.storage import Storage
from zfish.hudi.timeline import format_instant

LOCK_PATH = f"{METAFOLDER}/{LOCK_FILE}"
# An unreadable lock younger than this may be being written right now.
_UNREADABLE_GRACE_SECONDS = 30.0


def _process_start(pid: int) -> str | None:
    """Start time of a process in clock ticks since boot (Linux), None when unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            stat = fh.read()
    except OSError:
        return None
    # Field 22; the command name (field 2) may contain spaces, so split after its ')'.
    fields = stat.rsplit(")", 1)[1].split()
    return fields[19] if len(fields) > 19 else None


@dataclass
class LockInfo:
    token: str
    host: str
    pid: int
    process_start: str | None
    created: float
    purpose: str
    instants: list[str] = field(default_factory=list)
    # Set by claim_new_instants: instants at or after this time are this holder's.
    claims_from: str | None = None

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, indent=2).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> LockInfo:
        data: dict[str, Any] = json.loads(raw)
        return cls(
            token=str(data["token"]),
            host=str(data["host"]),
            pid=int(data["pid"]),
            process_start=data.get("process_start"),
            created=float(data["created"]),
            purpose=str(data.get("purpose", "")),
            instants=[str(i) for i in data.get("instants") or []],
            claims_from=str(data["claims_from"]) if data.get("claims_from") else None,
        )

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.created))
        return f"pid {self.pid} on {self.host} since {when} ({self.purpose})"


class TableLock:
    """The writer lock of one table; use as a context manager or acquire()/release()."""

    def __init__(self, storage: Storage, table_name: str, expiry_seconds: float = 6 * 3600.0):
        self.storage = storage
        self.table_name = table_name
        self.expiry_seconds = expiry_seconds
        self.info: LockInfo | None = None
        # Instants started by dead zfish writers whose stale locks this one took over, and
        # the [from, to) instant windows such writers claimed for the JVM writers they ran.
        self.inherited: list[str] = []
        self.inherited_windows: list[tuple[str, str]] = []

    @property
    def held(self) -> bool:
        return self.info is not None

    def acquire(self, purpose: str = "write") -> None:
        mine = LockInfo(
            token=uuid.uuid4().hex,
            host=socket.gethostname(),
            pid=os.getpid(),
            process_start=_process_start(os.getpid()),
            created=time.time(),
            purpose=purpose,
        )
        inherited: list[str] = []
        windows: list[tuple[str, str]] = []
        for _ in range(3):
            mine.instants = sorted(set(inherited))
            if self.storage.create_exclusive(LOCK_PATH, mine.to_json()):
                self.info = mine
                self.inherited = list(mine.instants)
                self.inherited_windows = windows
                return
            holder = self._read_holder()
            if holder is not None and not self._is_stale(holder):
                raise TableLockedError(
                    f"Hudi table '{self.table_name}' at {self.storage.base_uri} is locked by "
                    f"another writer: {holder.describe()}. Fix: wait for that write to finish; "
                    f"if no writer is running, delete {self.storage.uri(LOCK_PATH)}."
                )
            if self._break_stale(holder) and holder is not None:
                inherited.extend(holder.instants)
                if holder.claims_from:
                    windows.append((holder.claims_from, format_instant(datetime.now(UTC))))
        raise TableLockedError(
            f"Hudi table '{self.table_name}' at {self.storage.base_uri}: could not take over "
            f"a stale lock {self.storage.uri(LOCK_PATH)}; another writer is recovering it. "
            "Fix: retry in a moment."
        )

    def _read_holder(self) -> LockInfo | None:
        """The current holder; None when the lock vanished or is unreadable and old."""
        try:
            raw = self.storage.read_bytes(LOCK_PATH)
        except FileNotFoundError:
            return None
        try:
            return LockInfo.from_json(raw)
        except (ValueError, KeyError, TypeError):
            info = self.storage.info(LOCK_PATH)
            age = time.time() - (info.mtime.timestamp() if info.mtime else 0.0)
            if age > _UNREADABLE_GRACE_SECONDS:
                return None  # torn write of a dead writer
            return LockInfo("?", "?", -1, None, time.time(), "being written")

    def _is_stale(self, holder: LockInfo) -> bool:
        if holder.host == socket.gethostname() and holder.pid > 0:
            if not pid_alive(holder.pid):
                return True
            start = _process_start(holder.pid)
            return (
                holder.process_start is not None
                and start is not None
                and (start != holder.process_start)
            )
        return time.time() - holder.created > self.expiry_seconds

    def _break_stale(self, holder: LockInfo | None) -> bool:
        """Move a stale lock aside; True when it was the ``holder``'s and is gone now."""
        grave = f"{METAFOLDER}/.{LOCK_FILE}.stale-{uuid.uuid4().hex}"
        try:
            self.storage.rename(LOCK_PATH, grave)
        except (FileNotFoundError, OSError):
            return False  # someone else took it over (or it was released) first
        raw = self.storage.read_bytes(grave)
        try:
            moved: LockInfo | None = LockInfo.from_json(raw)
        except (ValueError, KeyError, TypeError):
            moved = None
        if holder is not None and moved is not None and moved.token != holder.token:
            # Another writer recovered the lock and took it between our check and our
            # rename: give its live lock back.
            self.storage.create_exclusive(LOCK_PATH, raw)
            self.storage.delete_file(grave)
            return False
        self.storage.delete_file(grave)
        return True

    def note_instant(self, instant: str) -> None:
        """Record, before its first file exists, that this holder starts ``instant``."""
        if self.info is None:
            raise TableLockedError(f"the lock of '{self.table_name}' is not held")
        self.info.instants = sorted({*self.info.instants, instant})
        self.storage.write_atomic(LOCK_PATH, self.info.to_json())

    def claim_new_instants(self) -> None:
        """Record that instants started from now on while this lock is held are this holder's.

        For a holder that runs a JVM Hudi writer: if it dies, the next zfish writer
        knows the JVM's pending instant died with it and rolls it back at once.
        """
        if self.info is None:
            raise TableLockedError(f"the lock of '{self.table_name}' is not held")
        self.info.claims_from = format_instant(datetime.now(UTC))
        self.storage.write_atomic(LOCK_PATH, self.info.to_json())

    def inherits(self, instant: str) -> bool:
        """True when ``instant`` was started by a dead holder whose stale lock this one broke."""
        return instant in self.inherited or any(a <= instant < b for a, b in self.inherited_windows)

    def forget_instants(self, instants: list[str]) -> None:
        """Drop instants that were rolled back from the record (best effort)."""
        if self.info is None or not set(instants) & set(self.info.instants):
            return
        self.info.instants = sorted(set(self.info.instants) - set(instants))
        self.storage.write_atomic(LOCK_PATH, self.info.to_json())

    def release(self) -> None:
        """Delete the lock if it is still ours."""
        if self.info is None:
            return
        try:
            raw = self.storage.read_bytes(LOCK_PATH)
            if LockInfo.from_json(raw).token == self.info.token:
                self.storage.delete_file(LOCK_PATH)
        except (FileNotFoundError, ValueError, KeyError):
            pass
        finally:
            self.info = None

    def __enter__(self) -> TableLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
