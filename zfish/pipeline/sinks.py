"""Writing results: the Hudi table (native writer or the JVM datasource) and the quarantine.

The native path distributes like Hudi's own Spark writer: rows are
repartitioned by ``day`` so each Hudi partition lands in one Spark task,
each task merges and writes its file groups with :func:`zfish.hudi.write_partitions`
and returns only write statistics, and the driver commits the instant. With
a local master the rows are collected as Arrow and written in the driver
instead (same function, same files): see :func:`writes_in_driver`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from zfish.exceptions import PrerequisiteError
from zfish.hudi import (
    CommitResult,
    HudiTable,
    TableSpec,
    WriteOperation,
    WriteOptions,
    WriteStat,
    write_partitions,
)
from zfish.hudi import options as hoodie
from zfish.pipeline import schemas

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_STATS_SCHEMA = pa.schema([("stat", pa.string()), ("rows", pa.int64())])

WRITE_IN_AUTO = "auto"
WRITE_IN_DRIVER = "driver"
WRITE_IN_TASKS = "tasks"
WRITE_IN_CHOICES = (WRITE_IN_AUTO, WRITE_IN_DRIVER, WRITE_IN_TASKS)


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
    if write_in not in WRITE_IN_CHOICES:
        raise ValueError(f"write_in must be one of {WRITE_IN_CHOICES}, not {write_in!r}")
    if write_in == WRITE_IN_AUTO:
        return (spark.sparkContext.master or "").startswith("local")
    return write_in == WRITE_IN_DRIVER


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
    with table.begin(WriteOperation.UPSERT, schema=arrow_schema, options=options) as txn:
        context = txn.context
        if in_driver:
            # Spark's own Arrow collection (what toPandas uses): no Python worker, no pickling.
            batches = rows._collect_as_arrow()
            data = pa.Table.from_batches(batches, schema=arrow_schema)
            stats = write_partitions(context, data)
            result = txn.commit(stats, extra_metadata=extra_metadata)
            return NativeWrite(result, data.num_rows, WRITE_IN_DRIVER)

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
) -> None:
    """Upsert with the JVM Hudi datasource (needs the hudi-spark3.5-bundle on the classpath)."""
    writer = rows.write.format("hudi").options(**spark_hudi_options(spec, extra_metadata))
    try:
        writer.mode("append").save(str(table_path.resolve()))
    except Exception as exc:
        text = str(exc)
        if "Failed to find data source: hudi" in text or "ClassNotFoundException" in text:
            raise PrerequisiteError(
                "the JVM Hudi datasource is not on Spark's classpath; pass --hudi-bundle "
                "/path/to/hudi-spark3.5-bundle_2.12-0.15.0.jar (or set ZFISH_HUDI_BUNDLE)"
            ) from exc
        raise


def write_quarantine(records: DataFrame, target: Path) -> None:
    """Write rejected records as JSON lines into ``target`` (a new folder), atomically."""
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    records.coalesce(1).write.mode("overwrite").json(str(tmp.resolve()))
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, target)
