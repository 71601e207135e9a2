"""``HudiTable``: create/open a v6 COW table, run transactions, commit, roll back, clean.

The commit protocol (driver side) of ``begin`` / ``commit``:

1. take the writer lock (``.hoodie/zfish.writer.lock``);
2. recover: finish pending cleans, roll back pending commits and
   insert-overwrite replacecommits (delete the data files their markers,
   direct or the JVM's timeline-server ones, and file names point at, with
   their ``.crc`` sidecars, partition metafiles they created, their markers,
   heartbeat and instant files), refuse any other pending action. A pending
   instant zfish did not start (recorded neither in the lock nor in its
   ``.inflight``) is first judged by ``liveness``: one that may belong to a
   live JVM writer stops the write with ``TableLockedError``;
3. pick an instant after every instant on the timeline (and every instant
   seen only as a marker folder or heartbeat), record it in the lock, write
   ``<t>.commit.requested`` (empty) and ``<t>.inflight`` (marked as zfish's);
4. tasks run ``write_partitions`` (markers, data files, partition metafiles);
5. ``commit`` checks every reported file, deletes files of failed task
   attempts (markers without a write stat), and writes ``<t>.commit``
   atomically: **the commit point**; then deletes the markers, cleans
   (KEEP_LATEST_COMMITS), archives the timeline (keep.min/max commits, like
   the JVM's postCommit) and releases the lock.

Any failure before the commit point (exception, ``abort()``, leaving the
``with`` block) rolls the attempt back completely; a crash leaves a pending
instant that the next writer rolls back first. Readers (hudi-rs, Spark) only
see file slices of completed instants, so they never see a partial commit.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from zfish.exceptions import (
    CommitError,
    HudiError,
    SchemaError,
    TableLockedError,
    UnsupportedTableError,
)
from zfish.hudi import archive as archive_mod
from zfish.hudi import avro as av
from zfish.hudi import avro_metadata as am
from zfish.hudi import keygen as kg
from zfish.hudi import liveness, markers
from zfish.hudi import options as o
from zfish.hudi import properties as props_mod
from zfish.hudi.clean import CleanResult, execute_clean, finish_pending_clean, plan_clean
from zfish.hudi.faults import fault_point
from zfish.hudi.fsview import FileSystemView, list_partitions, parse_base_file
from zfish.hudi.lock import TableLock
from zfish.hudi.options import ComplexKeyEncoding, WriteOptions
from zfish.hudi.spec import TableSpec, WriteOperation
from zfish.hudi.stats import WriteStat, commit_metadata, dumps_commit
from zfish.hudi.storage import Storage
from zfish.hudi.timeline import (
    CLEAN,
    COMMIT,
    REPLACE_COMMIT,
    Instant,
    State,
    Timeline,
    instant_path,
    parse_instant_file,
    read_commit_metadata,
)
from zfish.hudi.write import WriteContext, write_partitions

PROPERTIES_PATH = f"{o.METAFOLDER}/{o.PROPERTIES_FILE}"


@dataclass
class CommitResult:
    """What one commit did."""

    instant: str
    operation: str
    num_inserts: int = 0
    num_updates: int = 0
    num_deletes: int = 0
    num_writes: int = 0
    files_written: int = 0
    partitions_written: list[str] = field(default_factory=list)
    bytes_written: int = 0
    files_cleaned: int = 0
    seconds: float = 0.0
    clean_instant: str | None = None
    rolled_back: list[str] = field(default_factory=list)
    clean_error: str | None = None
    instants_archived: int = 0
    archive_error: str | None = None


class HudiTable:
    """A Copy-on-Write Hudi table (version 6) that zfish can write."""

    def __init__(self, storage: Storage, properties: dict[str, str]):
        self.storage = storage
        self.properties = dict(properties)
        self.spec = TableSpec.from_properties(properties)

    # --- construction ---

    @staticmethod
    def exists(base_path: str, filesystem: pafs.FileSystem | None = None) -> bool:
        return Storage(base_path, filesystem).exists(PROPERTIES_PATH)

    @classmethod
    def create(
        cls,
        base_path: str,
        spec: TableSpec,
        schema: pa.Schema | None = None,
        filesystem: pafs.FileSystem | None = None,
    ) -> HudiTable:
        """Create an empty table; ``HudiError`` if one exists there already."""
        storage = Storage(base_path, filesystem)
        if storage.exists(PROPERTIES_PATH):
            raise HudiError(
                f"a Hudi table already exists at {storage.base_uri}. Fix: open it with "
                "HudiTable.open / open_or_create, or choose another path."
            )
        if storage.exists(o.METAFOLDER) and storage.list_dir(o.METAFOLDER):
            raise HudiError(
                f"{storage.uri(o.METAFOLDER)} exists but has no hoodie.properties; refusing to "
                "create a table over it. Fix: remove the folder or choose another path."
            )
        props = {
            o.TABLE_TYPE: o.TABLE_TYPE_COW,
            o.TABLE_VERSION: o.TABLE_VERSION_VALUE,
            o.TIMELINE_LAYOUT_VERSION: o.TIMELINE_LAYOUT_VERSION_VALUE,
            **spec.properties(),
            o.URL_ENCODE_PARTITIONING: "false",
            o.DROP_PARTITION_COLUMNS: "false",
            o.BASE_FILE_FORMAT: o.BASE_FILE_FORMAT_PARQUET,
            o.POPULATE_META_FIELDS: "true",
            o.TIMELINE_TIMEZONE: o.TIMELINE_TIMEZONE_UTC,
            o.ARCHIVELOG_FOLDER: o.ARCHIVELOG_FOLDER_VALUE,
            o.PARTITION_METAFILE_USE_BASE_FORMAT: "false",
        }
        if schema is not None:
            normalized = av.normalize_schema(schema)
            spec.check_schema(normalized)
            props[o.CREATE_SCHEMA] = av.dumps(av.to_avro_schema(normalized, spec.name))
        props[o.TABLE_CHECKSUM] = str(props_mod.table_checksum(spec.database, spec.name))
        for folder in (o.ARCHIVELOG_FOLDER_VALUE, o.TEMP_FOLDER, o.AUX_FOLDER, o.SCHEMA_FOLDER):
            storage.mkdirs(f"{o.METAFOLDER}/{folder}")
        text = props_mod.dumps(props, "Properties written by zfish.hudi")
        storage.write_atomic(PROPERTIES_PATH, text.encode("latin-1"), durable=True)
        return cls(storage, props)

    @classmethod
    def open(cls, base_path: str, filesystem: pafs.FileSystem | None = None) -> HudiTable:
        """Open a table; ``UnsupportedTableError`` unless it is a v6 COW table zfish writes."""
        storage = Storage(base_path, filesystem)
        if not storage.exists(PROPERTIES_PATH):
            raise HudiError(
                f"no Hudi table at {storage.base_uri} ({PROPERTIES_PATH} is missing). Fix: "
                "check the path, or create the table with HudiTable.create."
            )
        props = cls._read_properties(storage)
        props_mod.check_writable(
            props, storage.base_uri, storage.exists(f"{o.METAFOLDER}/{o.METADATA_TABLE_FOLDER}")
        )
        return cls(storage, props)

    @classmethod
    def open_or_create(
        cls,
        base_path: str,
        spec: TableSpec,
        schema: pa.Schema | None = None,
        filesystem: pafs.FileSystem | None = None,
    ) -> HudiTable:
        """Open the table if it exists (its config must match ``spec``), else create it."""
        if not cls.exists(base_path, filesystem):
            return cls.create(base_path, spec, schema, filesystem)
        table = cls.open(base_path, filesystem)
        conflicts = spec.conflicts(table.spec)
        if conflicts:
            raise HudiError(
                f"Config conflict for Hudi table at {table.base_path} (key: requested value, "
                "existing value):\n" + "\n".join(conflicts) + "\nFix: use the table's existing "
                "settings, or write to a new table."
            )
        return table

    @staticmethod
    def _read_properties(storage: Storage) -> dict[str, str]:
        raw = storage.read_bytes(PROPERTIES_PATH)
        return props_mod.loads(raw.decode("latin-1"))

    # --- inspection ---

    @property
    def base_path(self) -> str:
        return self.storage.base_uri

    def timeline(self) -> Timeline:
        return Timeline.load(self.storage)

    def completed_instants(self) -> list[tuple[str, str]]:
        """``(instant time, action)`` of every completed commit/replacecommit, oldest first."""
        return [(i.timestamp, i.completed_action) for i in self.timeline().completed_writes()]

    def commit_metadata(self, instant: str | None = None) -> dict[str, Any]:
        """The parsed commit JSON of ``instant`` (default: the latest completed commit)."""
        writes = self.timeline().completed_writes()
        if not writes:
            raise HudiError(f"table '{self.spec.name}' at {self.base_path} has no commits yet")
        if instant is None:
            return read_commit_metadata(self.storage, writes[-1])
        for inst in writes:
            if inst.timestamp == instant:
                return read_commit_metadata(self.storage, inst)
        raise HudiError(
            f"table '{self.spec.name}' at {self.base_path} has no completed commit {instant}"
        )

    def avro_schema(self, timeline: Timeline | None = None) -> str | None:
        """The table schema (Avro JSON, no meta fields) like Java's TableSchemaResolver."""
        timeline = timeline or self.timeline()
        for inst in reversed(timeline.completed_writes()):
            schema = (read_commit_metadata(self.storage, inst).get("extraMetadata") or {}).get(
                "schema"
            )
            if schema:
                return str(schema)
        return self.properties.get(o.CREATE_SCHEMA) or None

    def schema(self) -> pa.Schema | None:
        """The table schema as Arrow (data columns only), None for a table without one."""
        avro_schema = self.avro_schema()
        return av.from_avro_schema(avro_schema) if avro_schema else None

    # --- one-process writes ---

    def upsert(
        self,
        data: pa.Table,
        extra_metadata: dict[str, str] | None = None,
        options: WriteOptions | None = None,
    ) -> CommitResult:
        return self._write_all(WriteOperation.UPSERT, data, extra_metadata, options)

    def insert(
        self,
        data: pa.Table,
        extra_metadata: dict[str, str] | None = None,
        options: WriteOptions | None = None,
    ) -> CommitResult:
        """Insert without looking up existing keys (Hudi INSERT: an existing key may duplicate)."""
        return self._write_all(WriteOperation.INSERT, data, extra_metadata, options)

    def bulk_insert(
        self,
        data: pa.Table,
        extra_metadata: dict[str, str] | None = None,
        options: WriteOptions | None = None,
    ) -> CommitResult:
        """Insert into new file groups only (no lookup, no small-file packing)."""
        return self._write_all(WriteOperation.BULK_INSERT, data, extra_metadata, options)

    def delete(
        self,
        keys: pa.Table,
        extra_metadata: dict[str, str] | None = None,
        options: WriteOptions | None = None,
    ) -> CommitResult:
        """Delete records by key; ``keys`` holds the record key and partition fields."""
        return self._write_all(WriteOperation.DELETE, keys, extra_metadata, options)

    def _write_all(
        self,
        operation: WriteOperation,
        data: pa.Table,
        extra_metadata: dict[str, str] | None,
        options: WriteOptions | None,
    ) -> CommitResult:
        with self.begin(operation, schema=data.schema, options=options) as txn:
            stats = write_partitions(txn.context, data)
            return txn.commit(stats, extra_metadata=extra_metadata)

    # --- transactions ---

    def begin(
        self,
        operation: WriteOperation | str,
        schema: pa.Schema | None = None,
        options: WriteOptions | None = None,
    ) -> Transaction:
        """Start a write: lock, recover, new instant (requested + inflight); see ``Transaction``."""
        return Transaction(self, WriteOperation(operation), schema, options or WriteOptions())

    @contextmanager
    def _locked(self, purpose: str, options: WriteOptions) -> Iterator[TableLock]:
        lock = TableLock(self.storage, self.spec.name, options.lock_expiry_seconds)
        lock.acquire(purpose)
        try:
            yield lock
        finally:
            lock.release()

    def rollback_pending(self, options: WriteOptions | None = None) -> list[str]:
        """Roll back pending commits (and finish pending cleans) under the lock.

        A pending instant of another writer that may still be live raises
        ``TableLockedError``; ``WriteOptions(foreign_pending_timeout_seconds=0)``
        rolls back any that has no fresh heartbeat (only when you know its writer died).
        """
        options = options or WriteOptions()
        with self._locked("rollback", options) as lock:
            return self._recover(lock, options)

    def clean(self, options: WriteOptions | None = None) -> int:
        """Run the cleaner now (KEEP_LATEST_COMMITS); returns the number of files removed."""
        options = options or WriteOptions()
        with self._locked("clean", options) as lock:
            self._recover(lock, options)
            return self._clean(options, lock).files_deleted

    def archive(self, options: WriteOptions | None = None) -> archive_mod.ArchiveResult:
        """Archive the timeline now (as the JVM's archiver would after a commit)."""
        options = options or WriteOptions()
        with self._locked("archive", options) as lock:
            self._recover(lock, options)
            return archive_mod.archive_if_required(self.storage, self.properties, options)

    def archived_instants(self) -> list[archive_mod.ArchivedInstant]:
        """Every record of the archived timeline (``.hoodie/archived``), oldest first."""
        return archive_mod.read_archive(self.storage, self.properties)

    def _refresh(self) -> Timeline:
        """Re-read hoodie.properties, re-check it, and load the timeline."""
        props = self._read_properties(self.storage)
        props_mod.check_writable(
            props,
            self.storage.base_uri,
            self.storage.exists(f"{o.METAFOLDER}/{o.METADATA_TABLE_FOLDER}"),
        )
        self.properties = props
        self.spec = TableSpec.from_properties(props)
        return Timeline.load(self.storage)

    def _recover(self, lock: TableLock, options: WriteOptions) -> list[str]:
        """Finish pending cleans and roll back pending commits; refuse foreign pending work.

        Returns the rolled-back instants. A pending instant zfish did not start
        and whose writer may be live (``liveness``) raises ``TableLockedError``.
        """
        timeline = self._refresh()
        pending = timeline.pending()
        for inst in pending:
            if not _recoverable(self.storage, inst):
                raise UnsupportedTableError(
                    f"Hudi table '{self.spec.name}' at {self.base_path} has a pending "
                    f"{inst.action} instant {inst.timestamp} ({', '.join(inst.files)}) that "
                    "zfish did not create and cannot roll back. Fix: let the JVM Hudi writer "
                    "that started it finish it or roll it back (e.g. hudi-cli, or a Spark write "
                    "with the default eager rollback), then retry."
                )
        for inst in pending:
            if lock.inherits(inst.timestamp) or _started_by_zfish(self.storage, inst):
                continue
            verdict = liveness.judge(self.storage, inst.timestamp, options)
            if verdict.live:
                raise TableLockedError(
                    f"Hudi table '{self.spec.name}' at {self.base_path} has a pending "
                    f"{inst.action} {inst.timestamp} that zfish did not start, and its writer "
                    f"(a JVM Hudi job?) may still be running: {verdict.evidence}. zfish does "
                    "not roll back a write that may be live. Fix: wait for that writer to "
                    "finish; if it died, the next zfish write rolls it back once it is "
                    f"{options.foreign_pending_timeout_seconds:.0f} s old (WriteOptions."
                    "foreign_pending_timeout_seconds; 0 rolls it back now), or let a JVM write "
                    "(eager rollback, the default) roll it back."
                )
        rolled_back = []
        for inst in pending:
            if inst.action == CLEAN:
                finish_pending_clean(self.storage, inst)
        for inst in pending:
            if inst.action != CLEAN:
                rollback_instant(self.storage, inst.timestamp)
                rolled_back.append(inst.timestamp)
        # Markers of commits that completed but whose writer died before removing them.
        completed = {i.timestamp for i in timeline.instants if i.is_completed}
        for entry in self.storage.list_dir(f"{o.METAFOLDER}/{o.TEMP_FOLDER}"):
            if entry.is_dir and entry.name in completed:
                markers.delete_markers(self.storage, entry.name)
        # Temp files of atomic writes a dead writer left behind (we hold the lock: none is live).
        for entry in self.storage.list_dir(o.METAFOLDER):
            if not entry.is_dir and entry.name.startswith(".") and entry.name.endswith(".tmp"):
                self.storage.delete_file(entry.path)
        lock.forget_instants([i.timestamp for i in pending])
        return rolled_back

    def _new_instant(self, timeline: Timeline, also_after: list[str]) -> str:
        """An instant after every one on the timeline, and after every instant only seen as a
        marker folder (``.temp/<t>``) or heartbeat (``.heartbeat/<t>``) of another writer.

        Archived instants need no look: archival only moves the oldest instants out of
        the active timeline and always keeps the latest ones.
        """
        seen = list(also_after)
        for folder in (o.TEMP_FOLDER, o.HEARTBEAT_FOLDER):
            for entry in self.storage.list_dir(f"{o.METAFOLDER}/{folder}"):
                if entry.name.isdigit():
                    seen.append(entry.name)
        return timeline.new_instant_time(seen)

    def _key_encoding(
        self,
        writes: list[Instant],
        replaced: list[tuple[str, str]],
        options: WriteOptions,
    ) -> ComplexKeyEncoding:
        """How single-field ComplexKeyGenerator keys are written here: as the newest keys are.

        The newest non-empty base file decides (a table both AWS Glue and OSS Hudi
        wrote into follows its latest writer); a table without rows takes
        ``options.complex_key_encoding``. Other key generators ignore the setting.
        """
        spec = self.spec
        if spec.keygen_class != o.COMPLEX_KEYGEN or len(spec.record_key_fields) != 1:
            return options.complex_key_encoding
        view = FileSystemView(self.storage, [i.timestamp for i in writes], replaced)
        latest = [
            base
            for partition in list_partitions(self.storage, spec.partition_depth)
            for base in view.latest_base_files(partition)
        ]
        for base in sorted(latest, key=lambda b: (b.instant, b.path), reverse=True):
            with self.storage.open_input_file(base.path) as source:
                keys = kg.sample_record_keys(source)
            found = kg.infer_single_field_encoding(spec.record_key_fields[0], keys)
            if found is not None:
                return found
        return options.complex_key_encoding

    def _clean(self, options: WriteOptions, lock: TableLock) -> CleanResult:
        timeline = Timeline.load(self.storage)
        plan = plan_clean(
            self.storage, timeline, options.cleaner_commits_retained, options.cleaner_incremental
        )
        if plan is None:
            return CleanResult(None, 0)
        instant = self._new_instant(timeline, [])
        lock.note_instant(instant)
        result = execute_clean(self.storage, timeline, plan, instant)
        lock.forget_instants([instant])
        return result

    def _avg_record_size(self, timeline: Timeline, options: WriteOptions) -> int:
        """``UpsertPartitioner.averageBytesPerRecord``: from the latest big-enough commit."""
        threshold = options.record_size_estimation_threshold * options.small_file_limit
        for inst in reversed(timeline.completed_writes()):
            meta = read_commit_metadata(self.storage, inst)
            total_bytes = 0
            total_records = 0
            for stats in (meta.get("partitionToWriteStats") or {}).values():
                for stat in stats:
                    total_bytes += int(stat.get("totalWriteBytes") or 0)
                    total_records += int(stat.get("numWrites") or 0)
            if total_bytes > threshold and total_records > 0:
                return max(1, -(-total_bytes // total_records))
        return options.record_size_estimate

    def __repr__(self) -> str:
        return f"HudiTable({self.spec.name!r}, {self.base_path!r})"


class Transaction:
    """One write attempt: begun on construction, finished by ``commit`` or ``abort``.

    Use as a context manager: leaving the block without a commit (an exception
    or an explicit ``abort()``) deletes every file of the attempt and its
    instant files, and releases the lock.
    """

    def __init__(
        self,
        table: HudiTable,
        operation: WriteOperation,
        schema: pa.Schema | None,
        options: WriteOptions,
    ):
        self.table = table
        self.storage = table.storage
        self.operation = operation
        self.options = options
        self.started = time.monotonic()
        self.instant = ""
        self._open = False
        self.rolled_back: list[str] = []
        self.context: WriteContext
        self.lock = TableLock(self.storage, table.spec.name, options.lock_expiry_seconds)
        self.lock.acquire(f"{operation.value} transaction")
        fault_point("after_lock")
        try:
            self._begin(schema)
        except BaseException:
            if self.instant:
                rollback_instant(self.storage, self.instant)
            self.lock.release()
            raise

    def _begin(self, schema: pa.Schema | None) -> None:
        table = self.table
        self.rolled_back = table._recover(self.lock, self.options)
        timeline = Timeline.load(self.storage)
        spec = table.spec
        current = table.avro_schema(timeline)
        table_schema = av.from_avro_schema(current) if current else None
        if schema is None or (self.operation is WriteOperation.DELETE and table_schema):
            if table_schema is None:
                raise SchemaError(
                    f"table '{spec.name}' at {table.base_path} has no schema yet (no commits and "
                    f"no {o.CREATE_SCHEMA}). Fix: pass the data schema to begin()."
                )
            write_schema = table_schema
        elif self.operation is WriteOperation.DELETE:
            # Deleting from a table that never had data: the key columns are all we know.
            write_schema = av.normalize_schema(schema)
        else:
            write_schema = av.evolve(table_schema, av.normalize_schema(schema), spec.name)
        spec.check_schema(write_schema, keys_only=self.operation is WriteOperation.DELETE)
        avro_schema = av.dumps(av.to_avro_schema(write_schema, spec.name))

        writes = timeline.completed_writes()
        replaced = _replaced_file_groups(self.storage, writes)
        key_encoding = table._key_encoding(writes, replaced, self.options)
        # Rolled-back instants are gone from the timeline; never reuse their times.
        instant = table._new_instant(timeline, self.rolled_back)
        # In the lock before its first file: a crash from here on leaves an instant the
        # next zfish writer knows is a dead zfish writer's, not a live JVM's.
        self.lock.note_instant(instant)
        self.instant = instant
        self.storage.write_atomic(instant_path(self.instant, COMMIT, State.REQUESTED), b"")
        fault_point("after_requested")
        inflight = commit_metadata(
            [], self.operation.value, None, {o.ZFISH_WRITER_KEY: o.ZFISH_WRITER_VALUE}
        )
        self.storage.write_atomic(
            instant_path(self.instant, COMMIT, State.INFLIGHT), dumps_commit(inflight)
        )
        fault_point("after_inflight")
        self._open = True
        self.context = WriteContext(
            storage=self.storage,
            spec=spec,
            instant=self.instant,
            operation=self.operation,
            schema=write_schema,
            avro_schema=avro_schema,
            completed_instants=tuple(i.timestamp for i in writes),
            replaced_file_groups=tuple(replaced),
            avg_record_size=table._avg_record_size(timeline, self.options),
            options=self.options,
            complex_key_encoding=key_encoding,
        )

    @property
    def is_open(self) -> bool:
        return self._open

    def commit(
        self, stats: list[WriteStat], extra_metadata: dict[str, str] | None = None
    ) -> CommitResult:
        """Verify the files, write ``<t>.commit`` (the commit point), clean, release the lock."""
        if not self._open:
            raise CommitError(f"transaction {self.instant or '(not begun)'} is not open")
        try:
            self._verify(stats)
            metadata = commit_metadata(
                stats, self.operation.value, self.context.avro_schema, extra_metadata
            )
            fault_point("before_commit_file")
            self.storage.write_atomic(
                instant_path(self.instant, COMMIT, State.COMPLETED),
                dumps_commit(metadata),
                durable=True,
            )
        except BaseException as exc:
            self.abort()
            if isinstance(exc, HudiError) or not isinstance(exc, Exception):
                raise
            raise CommitError(
                f"commit {self.instant} of table '{self.table.spec.name}' at "
                f"{self.table.base_path} failed and was rolled back: {exc}"
            ) from exc
        self._open = False
        fault_point("after_commit")
        result = self._result(stats)
        try:
            self._post_commit(result)
        finally:
            self.lock.release()
        result.seconds = time.monotonic() - self.started
        return result

    def _post_commit(self, result: CommitResult) -> None:
        """Markers, clean, archive (``BaseHoodieWriteClient.mayBeCleanAndArchive``); the commit
        stands whatever fails here, and the next writer finishes it."""
        try:
            markers.delete_markers(self.storage, self.instant)
            self.lock.forget_instants([self.instant])
            if self.options.auto_clean:
                cleaned = self.table._clean(self.options, self.lock)
                result.files_cleaned = cleaned.files_deleted
                result.clean_instant = cleaned.instant
        except Exception as exc:
            result.clean_error = f"{type(exc).__name__}: {exc}"
            return  # a clean left pending blocks archival until the next writer finishes it
        try:
            if self.options.auto_archive:
                archived = archive_mod.archive_if_required(
                    self.storage, self.table.properties, self.options
                )
                result.instants_archived = len(archived.archived)
        except Exception as exc:
            result.archive_error = f"{type(exc).__name__}: {exc}"

    def _verify(self, stats: list[WriteStat]) -> None:
        seen: dict[str, str] = {}
        written = set()
        for stat in stats:
            if stat.instant != self.instant:
                raise CommitError(
                    f"write stat for {stat.path} belongs to instant {stat.instant}, not "
                    f"{self.instant}"
                )
            base = parse_base_file(stat.partition_path, stat.file_name)
            if base is None or base.path != stat.path or base.file_id != stat.file_id:
                raise CommitError(
                    f"write stat path {stat.path} does not match its fileId/partition"
                )
            if stat.file_id in seen:
                raise CommitError(
                    f"file group {stat.file_id} was written twice ({seen[stat.file_id]} and "
                    f"{stat.path}); Hudi allows one base file per file group and instant"
                )
            seen[stat.file_id] = stat.path
            size = self.storage.size(stat.path)
            if size is None:
                raise CommitError(f"data file {stat.path} reported by a task does not exist")
            if size != stat.file_size_in_bytes:
                raise CommitError(
                    f"data file {stat.path} has {size} bytes, the task reported "
                    f"{stat.file_size_in_bytes}"
                )
            written.add(stat.path)
        # Files of failed or duplicate task attempts: marked, written, but not reported.
        for path in markers.marked_data_files(self.storage, self.instant):
            if path not in written:
                self.storage.delete_file(path)
        for partition in {s.partition_path for s in stats}:
            for entry in self.storage.list_dir(partition):
                base = parse_base_file(partition, entry.name)
                if base is not None and base.instant == self.instant and base.path not in written:
                    self.storage.delete_file(base.path)

    def _result(self, stats: list[WriteStat]) -> CommitResult:
        return CommitResult(
            instant=self.instant,
            operation=self.operation.value,
            num_inserts=sum(s.num_inserts for s in stats),
            num_updates=sum(s.num_update_writes for s in stats),
            num_deletes=sum(s.num_deletes for s in stats),
            num_writes=sum(s.num_writes for s in stats),
            files_written=len(stats),
            partitions_written=sorted({s.partition_path for s in stats}),
            bytes_written=sum(s.total_write_bytes for s in stats),
            rolled_back=list(self.rolled_back),
        )

    def abort(self) -> None:
        """Delete every file this attempt wrote and its instant files; release the lock."""
        if not self._open:
            return
        self._open = False
        try:
            rollback_instant(self.storage, self.instant)
        finally:
            self.lock.release()

    def __enter__(self) -> Transaction:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()


def _replaced_file_groups(storage: Storage, writes: list[Instant]) -> list[tuple[str, str]]:
    """(partition, file id) of every file group a completed replacecommit replaced."""
    replaced: list[tuple[str, str]] = []
    for inst in writes:
        if inst.action == REPLACE_COMMIT:
            meta = read_commit_metadata(storage, inst)
            for partition, fids in (meta.get("partitionToReplaceFileIds") or {}).items():
                replaced.extend((partition, fid) for fid in fids)
    return replaced


def _recoverable(storage: Storage, inst: Instant) -> bool:
    """Pending actions zfish finishes or rolls back: clean, commit, insert-overwrite."""
    if inst.action in (COMMIT, CLEAN):
        return True
    if inst.action != REPLACE_COMMIT:
        return False
    # A clustering plan makes it a table service the JVM resumes; insert_overwrite and
    # delete_partition write an empty HoodieRequestedReplaceMetadata (or nothing).
    path = instant_path(inst.timestamp, REPLACE_COMMIT, State.REQUESTED)
    raw = storage.read_bytes(path) if storage.exists(path) else b""
    if not raw:
        return True
    try:
        requested = am.deserialize(raw)
    except (ValueError, StopIteration, EOFError):
        return False
    return not requested.get("clusteringPlan")


def _started_by_zfish(storage: Storage, inst: Instant) -> bool:
    """True when the instant's ``.inflight`` carries zfish's writer mark."""
    if inst.action != COMMIT:
        return False
    path = instant_path(inst.timestamp, COMMIT, State.INFLIGHT)
    try:
        raw = storage.read_bytes(path)
        meta = json.loads(raw) if raw.strip() else {}
    except (FileNotFoundError, ValueError):
        return False
    extra = meta.get("extraMetadata") if isinstance(meta, dict) else None
    return isinstance(extra, dict) and extra.get(o.ZFISH_WRITER_KEY) == o.ZFISH_WRITER_VALUE


def rollback_instant(storage: Storage, instant: str) -> list[str]:
    """Remove every trace of a pending commit or replacecommit; returns the data files deleted.

    Data files come from the markers (zfish's direct ones or the JVM's
    timeline-server ``MARKERS<n>`` files) and from a scan of all partitions for
    base files carrying the instant (a marker may be missing if a JVM writer
    without markers started it); their Hadoop ``.crc`` sidecars go with them.
    Partition metafiles the instant created are removed with their directories
    when nothing else is left in them. The instant files go last, so a crash
    here leaves a pending instant that the next writer rolls back again.
    """
    deleted = []
    candidates = set(markers.marked_data_files(storage, instant))
    partitions = set(list_partitions(storage))
    partitions |= {p.rpartition("/")[0] for p in candidates}
    for partition in partitions:
        for entry in storage.list_dir(partition):
            if entry.is_dir:
                continue
            name = entry.name
            if Storage.is_crc_sidecar(name):
                name = name[1 : -len(o.HADOOP_CRC_SUFFIX)]  # a sidecar whose file is gone
            base = parse_base_file(partition, name)
            if base is not None and base.instant == instant:
                candidates.add(base.path)
    for path in sorted(candidates):
        if storage.delete_file(path):
            deleted.append(path)
    for partition in sorted(partitions, key=len, reverse=True):
        _drop_partition_metafile(storage, partition, instant)
    markers.delete_markers(storage, instant)
    storage.delete_file(liveness.heartbeat_path(instant))
    for entry in storage.list_dir(o.METAFOLDER):
        if entry.is_dir:
            continue
        parsed = parse_instant_file(entry.name)
        pending_file = (
            parsed is not None and parsed[0] == instant and parsed[2] is not State.COMPLETED
        )
        # Temp files of an interrupted atomic write of this instant's files.
        temp_file = entry.name.startswith(f".{instant}.") and entry.name.endswith(".tmp")
        if pending_file or temp_file:
            storage.delete_file(entry.path)
    return deleted


def _drop_partition_metafile(storage: Storage, partition: str, instant: str) -> None:
    entries = storage.list_dir(partition)
    if not partition:  # a non-partitioned table: the root also holds .hoodie
        entries = [e for e in entries if e.name != o.METAFOLDER]
    names = {e.name for e in entries if not e.is_dir}
    # Temp metafiles of a rename that never happened, and checksum sidecars (of the
    # metafile, or of files already deleted) are not "other files".
    for name in list(names):
        if name.startswith(o.PARTITION_METAFILE + "_"):
            storage.delete_file(storage.join(partition, name))
            names.discard(name)
        elif Storage.is_crc_sidecar(name):
            names.discard(name)
    if o.PARTITION_METAFILE not in names or any(e.is_dir for e in entries):
        return
    if names - {o.PARTITION_METAFILE}:
        return  # other files live here: the partition predates this instant
    meta_path = storage.join(partition, o.PARTITION_METAFILE)
    text = storage.read_bytes(meta_path).decode("utf-8", "replace")
    created_by = props_mod.loads(text).get(o.PARTITION_METAFILE_COMMIT_TIME)
    if created_by == instant:
        storage.delete_file(meta_path)
        for entry in entries:
            if Storage.is_crc_sidecar(entry.name):
                storage.delete_file(entry.path)
        if partition:
            storage.remove_empty_dirs(partition)
