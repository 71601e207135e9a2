"""Writing results: the Hudi table (native writer or the JVM datasource) and the quarantine.

The native path distributes like Hudi's own Spark writer: rows are
repartitioned by ``day`` so each Hudi partition lands in one Spark task,
each task merges and writes its file groups with :func:`zfish.hudi.write_partitions`
and returns only write statistics, and the driver commits the instant.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from zfish.exceptions import PrerequisiteError
from zfish.hudi import CommitResult, HudiTable, TableSpec, WriteOperation, WriteOptions, WriteStat
from zfish.hudi import options as hoodie
from zfish.pipeline import schemas

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

_STATS_SCHEMA = pa.schema([("stat", pa.string())])


def write_native(rows: DataFrame, table: HudiTable, extra_metadata: dict[str, str]) -> CommitResult:
    """Upsert ``rows`` into ``table``: file groups written in Spark tasks, commit on the driver."""
    from pyspark.sql.pandas.types import to_arrow_schema

    arrow_schema = to_arrow_schema(rows.schema)
    tasks = max(1, rows.sparkSession.sparkContext.defaultParallelism)
    with table.begin(WriteOperation.UPSERT, schema=arrow_schema) as txn:
        context = txn.context

        def write_task(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            from pyspark import TaskContext

            from zfish.hudi import write_partitions

            task = TaskContext.get()
            stats = write_partitions(
                context,
                batches,
                partition_id=task.partitionId() if task else 0,
                stage_id=task.stageId() if task else 0,
                attempt_id=task.taskAttemptId() if task else 0,
            )
            yield pa.RecordBatch.from_pylist(
                [{"stat": s.to_json()} for s in stats], schema=_STATS_SCHEMA
            )

        collected = (
            rows.repartition(tasks, schemas.DAY).mapInArrow(write_task, "stat string").collect()
        )
        stats = [WriteStat.from_json(row.stat) for row in collected]
        return txn.commit(stats, extra_metadata=extra_metadata)


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
