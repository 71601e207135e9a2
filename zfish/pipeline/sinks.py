"""Writing results: the Hudi table (native writer or the JVM datasource) and the quarantine.

The native path distributes like Hudi's own Spark writer: rows are
repartitioned by ``day`` so each Hudi partition lands in one Spark task,
each task merges and writes its file groups with :func:`zfish.hudi.write_partitions`
and returns only write statistics, and the driver commits the instant. With
a local master the rows are collected as Arrow and written in the driver
instead (same function, same files): see :func:`writes_in_driver`.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from zfish.exceptions import (
    CommitError,
    HudiError,
    PrerequisiteError,
    TableLockedError,
    ZfishError,
)
from zfish.fsutil import pid_alive
from zfish.hudi import (
    CommitResult,
    HudiTable,
    TableSpec,
    WriteOperation,
    WriteOptions,
    WriteStat,
    avro_metadata,
    write_partitions,
)
from zfish.hudi import options as hoodie
from zfish.hudi.lock import LOCK_PATH, LockInfo, TableLock
from zfish.hudi.options import METAFOLDER, PROPERTIES_FILE
from zfish.hudi.storage import Storage
from zfish.hudi.timeline import (
    CLEAN,
    ROLLBACK,
    WRITE_ACTIONS,
    State,
    Timeline,
    instant_path,
    read_commit_metadata,
)
from zfish.jars import ENV_HUDI_BUNDLE, HUDI_BUNDLE
from zfish.pipeline import schemas
from zfish.spark import IN_AUTO, IN_CHOICES, IN_DRIVER, IN_TASKS, in_driver

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_STATS_SCHEMA = pa.schema([("stat", pa.string()), ("rows", pa.int64())])

WRITE_IN_AUTO = IN_AUTO
WRITE_IN_DRIVER = IN_DRIVER
WRITE_IN_TASKS = IN_TASKS
WRITE_IN_CHOICES = IN_CHOICES


@dataclass(frozen=True)
class NativeWrite:
    """What :func:`write_native` did: the commit, and how many rows it was handed."""

    commit: CommitResult
    rows_in: int
    where: str  # WRITE_IN_DRIVER or WRITE_IN_TASKS


def writes_in_driver(spark: SparkSession, write_in: str) -> bool:
    """Where file groups are written: in the driver for a local master (``auto``), else in tasks.

    In local mode the tasks would run on this machine's cores anyway; writing in
    the driver spares the Python worker processes ``mapInArrow`` needs (measured:
    their cold start is most of a first write) and a second pass over the rows.
    """
    return in_driver(spark, write_in)


def collect_arrow(rows: DataFrame) -> pa.Table:
    """The rows in the driver, by Spark's own Arrow collection (what toPandas uses).

    No Python worker and no pickling.
    """
    from pyspark.sql.pandas.types import to_arrow_schema

    schema = to_arrow_schema(rows.schema)
    return pa.Table.from_batches(rows._collect_as_arrow(), schema=schema)


def write_native_arrow(
    data: pa.Table,
    table: HudiTable,
    extra_metadata: dict[str, str],
    *,
    options: WriteOptions | None = None,
) -> NativeWrite:
    """Upsert rows already in the driver into ``table``, as one commit.

    The rows are sorted by partition and record key first: the files then hold
    them in the same order however the rows were computed (new rows are written
    in input order), so one run and a range's pass write the same bytes.
    """
    spec = table.spec
    keys = [k for k in (*spec.partition_fields, *spec.record_key_fields) if k in data.schema.names]
    if keys and data.num_rows > 1:
        data = data.sort_by([(k, "ascending") for k in keys])
    with table.begin(WriteOperation.UPSERT, schema=data.schema, options=options) as txn:
        stats = write_partitions(txn.context, data)
        result = txn.commit(stats, extra_metadata=extra_metadata)
    return NativeWrite(result, data.num_rows, WRITE_IN_DRIVER)


def write_native(
    rows: DataFrame,
    table: HudiTable,
    extra_metadata: dict[str, str],
    *,
    options: WriteOptions | None = None,
    write_in: str = WRITE_IN_AUTO,
) -> NativeWrite:
    """Upsert ``rows`` into ``table``: file groups written in the driver or in Spark tasks.

    Either way one Spark job computes the rows and the driver commits the instant.
    """
    from pyspark.sql.pandas.types import to_arrow_schema

    spark = rows.sparkSession
    arrow_schema = to_arrow_schema(rows.schema)
    in_driver = writes_in_driver(spark, write_in)
    if in_driver:
        return write_native_arrow(collect_arrow(rows), table, extra_metadata, options=options)
    with table.begin(WriteOperation.UPSERT, schema=arrow_schema, options=options) as txn:
        context = txn.context

        def write_task(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            from pyspark import TaskContext

            task = TaskContext.get()
            seen = 0

            def counted() -> Iterator[pa.RecordBatch]:
                nonlocal seen
                for batch in batches:
                    seen += batch.num_rows
                    yield batch

            stats = write_partitions(
                context,
                counted(),
                partition_id=task.partitionId() if task else 0,
                stage_id=task.stageId() if task else 0,
                attempt_id=task.taskAttemptId() if task else 0,
            )
            yield pa.RecordBatch.from_pylist(
                [{"stat": s.to_json(), "rows": None} for s in stats]
                + [{"stat": None, "rows": seen}],
                schema=_STATS_SCHEMA,
            )

        tasks = max(1, spark.sparkContext.defaultParallelism)
        collected = (
            rows.repartition(tasks, schemas.DAY)
            .mapInArrow(write_task, "stat string, rows long")
            .collect()
        )
        stats = [WriteStat.from_json(row.stat) for row in collected if row.stat is not None]
        rows_in = sum(row.rows for row in collected if row.rows is not None)
        return NativeWrite(
            txn.commit(stats, extra_metadata=extra_metadata), rows_in, WRITE_IN_TASKS
        )


def spark_hudi_options(spec: TableSpec, extra_metadata: dict[str, str]) -> dict[str, str]:
    """The seed's Glue write options, plus what keeps the table readable by zfish and hudi-rs."""
    return {
        **WriteOptions().hoodie_config(),
        hoodie.DS_TABLE_NAME: spec.name,
        hoodie.DS_TABLE_TYPE: hoodie.TABLE_TYPE_COW,
        hoodie.DS_OPERATION: hoodie.DS_OPERATION_UPSERT,
        hoodie.DS_RECORDKEY_FIELD: ",".join(spec.record_key_fields),
        hoodie.DS_PARTITIONPATH_FIELD: ",".join(spec.partition_fields),
        hoodie.DS_PRECOMBINE_FIELD: spec.precombine_field or "",
        hoodie.DS_KEYGENERATOR_CLASS: hoodie.SIMPLE_KEYGEN,
        hoodie.HIVE_STYLE_PARTITIONING: str(spec.hive_style_partitioning).lower(),
        hoodie.TIMELINE_TIMEZONE: hoodie.TIMELINE_TIMEZONE_UTC,
        # A metadata table would hide files written by the native writer from Spark readers.
        hoodie.METADATA_ENABLE: "false",
        hoodie.DS_DATABASE_NAME: spec.database,
        hoodie.DS_COMMIT_METADATA_KEY_PREFIX: "zfish.",  # carries zfish.etl.end_date
        **extra_metadata,
    }


def write_spark_hudi(
    rows: DataFrame, table_path: Path, spec: TableSpec, extra_metadata: dict[str, str]
) -> CommitResult:
    """Upsert with the JVM Hudi datasource; what the new commit did, read from the timeline.

    An existing table is written under zfish's writer lock (the one the native
    writer takes), held for the whole JVM write. A new table is first written
    into a hidden folder beside it and renamed into place: the JVM takes a
    ``.hoodie`` folder without ``hoodie.properties`` for a broken table, so
    the lock cannot be taken before the JVM created it, and nobody else can
    see the folder meanwhile.
    """
    target = table_path.resolve()
    options = spark_hudi_options(spec, extra_metadata)
    if HudiTable.exists(str(target)):
        storage = Storage(str(target))
        lock = TableLock(storage, spec.name)
        lock.acquire(JVM_LOCK_PURPOSE)
        try:
            # The JVM's instant dies with this process: the next zfish writer, taking over
            # the stale lock, rolls it back at once instead of waiting out its liveness check.
            lock.claim_new_instants()
            before = Timeline.load(storage).all_timestamps
            _save(rows, target, options, spec)
            return commit_since(storage, before, spec.name)
        finally:
            lock.release()
    return _create_with_first_write(rows, target, options, spec)


JVM_LOCK_PURPOSE = "JVM Hudi datasource write, zfish etl --writer spark-hudi"
_NEW_TABLE_MARK = ".zfish-new"


def _create_with_first_write(
    rows: DataFrame, target: Path, options: dict[str, str], spec: TableSpec
) -> CommitResult:
    if target.is_dir() and any(target.iterdir()):
        raise HudiError(
            f"{target} is not empty but holds no Hudi table ({PROPERTIES_FILE} is missing from "
            f"{METAFOLDER}/); refusing to write table '{spec.name}' over it. Fix: remove the "
            "folder, or choose another --table"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_new_tables(target)
    scratch = target.with_name(f".{target.name}.{os.getpid()}{_NEW_TABLE_MARK}")
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        _save(rows, scratch, options, spec)
        result = commit_since(Storage(str(scratch)), set(), spec.name)
        try:
            # Atomic; an empty target folder is replaced, a table created meanwhile is not.
            os.rename(scratch, target)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            raise TableLockedError(
                f"Hudi table '{spec.name}' at {target} was created by another writer while the "
                f"JVM writer wrote its first commit ({_holder(target)}); nothing was written. "
                "Fix: run again, it then upserts into that table"
            ) from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return result


def _holder(target: Path) -> str:
    try:
        raw = (target / LOCK_PATH).read_bytes()
        return f"its lock: {LockInfo.from_json(raw).describe()}"
    except (OSError, ValueError, KeyError, TypeError):
        return "that writer holds no lock now"


def _remove_abandoned_new_tables(target: Path) -> None:
    """First writes that a killed process left beside the table (its pid is in the name)."""
    prefix = f".{target.name}."
    for entry in target.parent.glob(f"{prefix}*{_NEW_TABLE_MARK}"):
        pid = entry.name[len(prefix) : -len(_NEW_TABLE_MARK)]
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def _save(rows: DataFrame, path: Path, options: dict[str, str], spec: TableSpec) -> None:
    """The datasource write itself; JVM failures become zfish errors naming the table."""
    from pyspark.errors.exceptions.base import PySparkException

    try:
        rows.write.format("hudi").options(**options).mode("append").save(str(path))
    except Exception as exc:
        # py4j's Py4JJavaError (Hudi's own exceptions) carries java_exception; Spark's
        # converted ones are PySparkExceptions. Anything else is a zfish bug: let it show.
        if not (hasattr(exc, "java_exception") or isinstance(exc, PySparkException)):
            raise
        raise jvm_error(exc, spec.name, path) from exc


_CONFLICT_HEADER = "Config conflict(key\tcurrent value\texisting value):"


def jvm_error(exc: BaseException, table: str, path: Path) -> ZfishError:
    """A zfish error for an exception the JVM Hudi writer raised: the reason, not the trace."""
    text = _java_message(exc)
    if "DATA_SOURCE_NOT_FOUND" in text or "ClassNotFoundException" in text:
        return PrerequisiteError(
            f"the JVM Hudi datasource is not on Spark's classpath ({HUDI_BUNDLE.coordinate}). "
            f"Fix: pass --hudi-bundle /path/to/{HUDI_BUNDLE.jar_name} (or set "
            f"{ENV_HUDI_BUNDLE}), or start the job with spark-submit --packages "
            f"{HUDI_BUNDLE.coordinate}"
        )
    if _CONFLICT_HEADER in text:
        conflicts = []
        for line in text.split(_CONFLICT_HEADER, 1)[1].strip().splitlines():
            parts = line.strip().split("\t")
            if len(parts) != 3 or not parts[0].endswith(":"):
                break
            key, requested, existing = parts
            conflicts.append(f"  {key[:-1]}: requested {requested}, the table has {existing}")
        return HudiError(
            f"the JVM Hudi writer refused to write to table '{table}' at {path}: the write "
            "options conflict with the table's configuration (hoodie.properties):\n"
            + "\n".join(conflicts)
            + "\nFix: write with the table's settings, or write to a new table (--table)"
        )
    return HudiError(f"the JVM Hudi writer failed on table '{table}' at {path}: {text}")


def _java_message(exc: BaseException) -> str:
    """``Class: message`` of the Java exception and its causes, without stack frames."""
    java = getattr(exc, "java_exception", None)
    if java is None:
        return str(exc).split("\n\tat ", 1)[0].strip()
    seen: list[str] = []
    while java is not None and len(seen) < 5:
        seen.append(str(java.toString()))
        java = java.getCause()
    return "\n  caused by: ".join(dict.fromkeys(seen))


def commit_since(storage: Storage, before: set[str], table: str) -> CommitResult:
    """The commit the JVM writer made after the instants in ``before``, as the native writer reports it."""
    timeline = Timeline.load(storage)
    new = [i for i in timeline.instants if i.timestamp not in before and i.is_completed]
    commits = [i for i in new if i.completed_action in WRITE_ACTIONS]
    if not commits:
        raise CommitError(
            f"the JVM Hudi writer returned without a new commit on table '{table}' at "
            f"{storage.base_uri}; see Spark's log above"
        )
    instant = commits[-1]
    meta = read_commit_metadata(storage, instant)
    per_partition = meta.get("partitionToWriteStats") or {}
    stats = [s for group in per_partition.values() for s in group or ()]
    cleans = [i for i in new if i.action == CLEAN]
    cleaned = 0
    for clean in cleans:
        raw = storage.read_bytes(instant_path(clean.timestamp, CLEAN, State.COMPLETED))
        cleaned += int(avro_metadata.deserialize(raw).get("totalFilesDeleted") or 0)
    return CommitResult(
        instant=instant.timestamp,
        operation=str(meta.get("operationType", "")),
        num_inserts=sum(int(s.get("numInserts") or 0) for s in stats),
        num_updates=sum(int(s.get("numUpdateWrites") or 0) for s in stats),
        num_deletes=sum(int(s.get("numDeletes") or 0) for s in stats),
        num_writes=sum(int(s.get("numWrites") or 0) for s in stats),
        files_written=len(stats),
        partitions_written=sorted(p for p, group in per_partition.items() if group),
        bytes_written=sum(int(s.get("totalWriteBytes") or 0) for s in stats),
        files_cleaned=cleaned,
        clean_instant=cleans[-1].timestamp if cleans else None,
        rolled_back=[i.timestamp for i in new if i.action == ROLLBACK],
    )


def write_quarantine(records: DataFrame, target: Path) -> None:
    """Write rejected records as JSON lines into ``target`` (a new folder), atomically."""
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    records.coalesce(1).write.mode("overwrite").json(str(tmp.resolve()))
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, target)
