"""The JVM Hudi (Spark datasource of hudi-spark3.5-bundle 0.15.0) as a second writer and reader.

Writes take an Arrow table and a zfish ``TableSpec`` and turn them into the
datasource options a Glue job would pass (every key from ``zfish.hudi.options``,
``hoodie.metadata.enable=false``). Reads return Arrow tables; ``rows`` turns
any reader's answer (this one or hudi-rs through ``hudi_testlib``) into the
same plain, sorted Python rows, so answers compare with ``==``.

All functions take the test run's SparkSession (the ``spark_hudi`` fixture).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from zfish.hudi import TableSpec, WriteOptions
from zfish.hudi import options as o
from zfish.hudi.storage import Storage
from zfish.hudi.timeline import Timeline

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Two cores: keep the JVM from planning hundreds of tiny tasks per write.
_PARALLELISM = {
    o.DS_UPSERT_PARALLELISM: "2",
    o.DS_INSERT_PARALLELISM: "2",
    o.DS_BULK_INSERT_PARALLELISM: "2",
    o.DS_DELETE_PARALLELISM: "2",
}


# --- writes ---------------------------------------------------------------------------------


def write_options(
    spec: TableSpec,
    operation: str = o.DS_OPERATION_UPSERT,
    options: WriteOptions | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The datasource options of a JVM write to the table ``spec`` describes."""
    opts = {
        o.DS_TABLE_NAME: spec.name,
        o.DS_DATABASE_NAME: spec.database,
        o.DS_TABLE_TYPE: o.DS_TABLE_TYPE_COW,
        o.DS_OPERATION: operation,
        o.DS_RECORDKEY_FIELD: ",".join(spec.record_key_fields),
        o.DS_PARTITIONPATH_FIELD: ",".join(spec.partition_fields),
        o.DS_KEYGENERATOR_CLASS: spec.keygen_class,
        o.DS_HIVE_STYLE_PARTITIONING: str(spec.hive_style_partitioning).lower(),
        o.METADATA_ENABLE: "false",
        **_PARALLELISM,
    }
    if spec.precombine_field:
        opts[o.DS_PRECOMBINE_FIELD] = spec.precombine_field
    if options is not None:
        opts.update(options.hoodie_config())
    opts.update(extra or {})
    return opts


def _py_value(value: Any, dtype: pa.DataType) -> Any:
    """An Arrow ``to_pylist`` value as PySpark wants it (maps as dicts, recursively)."""
    if value is None:
        return None
    if pa.types.is_map(dtype):
        return {k: _py_value(v, dtype.item_type) for k, v in value}
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return [_py_value(v, dtype.value_type) for v in value]
    if pa.types.is_struct(dtype):
        return {
            dtype.field(i).name: _py_value(value[dtype.field(i).name], dtype.field(i).type)
            for i in range(dtype.num_fields)
        }
    return value


def to_spark(spark: SparkSession, data: pa.Table) -> DataFrame:
    """A DataFrame with exactly the Arrow table's columns, types and rows."""
    from pyspark.sql.pandas.types import from_arrow_schema

    schema = data.schema
    rows = [tuple(_py_value(row[f.name], f.type) for f in schema) for row in data.to_pylist()]
    return spark.createDataFrame(rows, schema=from_arrow_schema(schema))


def commit_stats(base: Path | str, instant: str) -> dict[str, list[dict[str, Any]]]:
    """``partitionToWriteStats`` of a completed commit."""
    import json

    meta = json.loads((Path(base) / o.METAFOLDER / f"{instant}.commit").read_text())
    stats: dict[str, list[dict[str, Any]]] = meta["partitionToWriteStats"]
    return stats


def orphan_sidecars(base: Path) -> list[str]:
    """Hadoop ``.<name>.crc`` checksum files whose file is gone (nobody deleted them with it)."""
    suffix = o.HADOOP_CRC_SUFFIX
    return sorted(
        p.relative_to(base).as_posix()
        for p in base.rglob(f".*{suffix}")
        if not (p.parent / p.name[1 : -len(suffix)]).exists()
    )


def completed_writes(base: Path | str) -> list[str]:
    return [i.timestamp for i in Timeline.load(Storage(str(base))).completed_writes()]


def jvm_write(
    spark: SparkSession,
    base: Path | str,
    data: pa.Table,
    spec: TableSpec,
    operation: str = o.DS_OPERATION_UPSERT,
    options: WriteOptions | None = None,
    extra: Mapping[str, str] | None = None,
) -> str:
    """Write with the JVM datasource (append mode); returns the instant it committed."""
    before = set(completed_writes(base)) if Storage(str(base)).exists(".hoodie") else set()
    writer = to_spark(spark, data).write.format("hudi")
    writer.options(**write_options(spec, operation, options, extra)).mode("append").save(str(base))
    new = sorted(set(completed_writes(base)) - before)
    assert len(new) == 1, f"expected one new commit, got {new}"
    return new[0]


# --- reads ----------------------------------------------------------------------------------


def _arrow(df: DataFrame) -> pa.Table:
    batches = df._collect_as_arrow()
    if not batches:
        from pyspark.sql.pandas.types import to_arrow_schema

        return to_arrow_schema(df.schema).empty_table()
    return pa.Table.from_batches(batches)


def snapshot(spark: SparkSession, base: Path | str, as_of: str | None = None) -> pa.Table:
    """A snapshot query, or time travel with ``as.of.instant``."""
    reader = spark.read.format("hudi")
    if as_of is not None:
        reader = reader.option(o.DS_TIME_TRAVEL_AS_OF, as_of)
    return _arrow(reader.load(str(base)))


def incremental(spark: SparkSession, base: Path | str, begin: str, end: str) -> pa.Table:
    """An incremental query: rows written by commits in ``(begin, end]``."""
    reader = (
        spark.read.format("hudi")
        .option(o.DS_QUERY_TYPE, o.DS_QUERY_TYPE_INCREMENTAL)
        .option(o.DS_READ_BEGIN_INSTANT, begin)
        .option(o.DS_READ_END_INSTANT, end)
    )
    return _arrow(reader.load(str(base)))


def table_changes(spark: SparkSession, base: Path | str, begin: str, end: str) -> pa.Table:
    """Spark SQL ``hudi_table_changes(path, 'latest_state', begin, end)``: incremental by path."""
    return _arrow(
        spark.sql(f"SELECT * FROM hudi_table_changes('{base}', 'latest_state', '{begin}', '{end}')")
    )


def sql_as_of(
    spark: SparkSession, base: Path | str, database: str, instant: str, scratch: Path
) -> pa.Table:
    """Spark SQL ``SELECT * FROM t TIMESTAMP AS OF '<instant>'`` on a catalog table.

    The catalog needs a table; registering one makes Hudi rewrite ``hoodie.properties``
    (it adds ``hoodie.table.create.schema``), so a copy of the table is registered,
    never the table under test.
    """
    copy = scratch / f"sql-{uuid.uuid4().hex[:8]}"
    shutil.copytree(base, copy)
    name = f"{database}.t_{uuid.uuid4().hex[:8]}"
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    spark.sql(f"CREATE TABLE {name} USING hudi LOCATION '{copy}'")
    try:
        return _arrow(spark.sql(f"SELECT * FROM {name} TIMESTAMP AS OF '{instant}'"))
    finally:
        spark.sql(f"DROP TABLE IF EXISTS {name}")
        shutil.rmtree(copy, ignore_errors=True)


# --- comparison -----------------------------------------------------------------------------


def _unordered_maps(value: Any, dtype: pa.DataType) -> Any:
    """Map entries sorted by key: a map has no order (the JVM writes a Java HashMap's)."""
    if value is None:
        return None
    if pa.types.is_map(dtype):
        return sorted((k, _unordered_maps(v, dtype.item_type)) for k, v in value)
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return [_unordered_maps(v, dtype.value_type) for v in value]
    if pa.types.is_struct(dtype):
        return {
            f.name: _unordered_maps(value[f.name], f.type)
            for f in (dtype.field(i) for i in range(dtype.num_fields))
        }
    return value


def rows(table: pa.Table, drop: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Plain rows, columns in any order, sorted by record key and partition (or all values)."""
    if table.num_rows == 0:
        return []
    keep = [c for c in table.column_names if c not in drop]
    types = {f.name: f.type for f in table.schema}
    out = [
        {k: _unordered_maps(v, types[k]) for k, v in row.items()}
        for row in table.select(keep).to_pylist()
    ]
    if o.RECORD_KEY_FIELD in keep:
        return sorted(
            out, key=lambda r: (r[o.RECORD_KEY_FIELD], r.get(o.PARTITION_PATH_FIELD) or "")
        )
    return sorted(out, key=repr)


def data_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows without the meta columns."""
    return rows(table, drop=o.META_COLUMNS)


# --- data -----------------------------------------------------------------------------------

ARR_STRUCT = pa.struct([("s", pa.string()), ("n", pa.int32())])
MAP_VALUE = pa.struct([("x", pa.float64()), ("y", pa.bool_())])
CHILD = pa.struct([("c1", pa.float64()), ("c2", pa.bool_())])
RICH_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("id", pa.int32()),
        ("name", pa.string()),
        ("region", pa.string()),
        ("band", pa.int32()),
        ("version", pa.int64()),
        ("is_active", pa.bool_()),
        ("f", pa.float32()),
        ("d", pa.float64()),
        ("dec", pa.decimal128(10, 5)),
        ("dte", pa.date32()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("bin", pa.binary()),
        ("arr", pa.list_(pa.field("element", ARR_STRUCT))),
        ("tags", pa.list_(pa.field("element", pa.string()))),
        ("nums", pa.list_(pa.field("element", pa.int64()))),
        ("mp", pa.map_(pa.string(), MAP_VALUE)),
        ("st", pa.struct([("f1", pa.string()), ("f2", pa.int32()), ("child", CHILD)])),
    ]
)


def rich_rows(ids: Sequence[int], version: int) -> pa.Table:
    """Rows of every column type zfish writes, with nulls, empty and null lists, nested values.

    Values depend on ``(id, version)`` only; ``region`` and ``band`` (partition
    candidates) depend on ``id`` only, so an update stays in its partition.
    """
    import datetime as dt
    from decimal import Decimal

    out = []
    for i in ids:
        v = version
        out.append(
            {
                "key": f"k{i:03d}",
                "id": i,
                "name": ["Alice", "Bob", "Carol", "Dan"][i % 4],
                "region": ["north", "south", "east"][i % 3],
                "band": 10 * (i % 2 + 1),
                "version": v,
                "is_active": None if i % 5 == 4 else (i + v) % 2 == 0,
                "f": float(i) / 2 + v,
                "d": None if i % 7 == 6 else i * 1.25 + v,
                "dec": Decimal(f"{i * 100 + v}.{i:05d}"),
                "dte": dt.date(2024, 1, 1) + dt.timedelta(days=i + v),
                "ts": dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC) + dt.timedelta(minutes=i, hours=v),
                "bin": None if i % 6 == 5 else f"b{i}-{v}".encode(),
                "arr": (
                    None
                    if i % 4 == 3
                    else [{"s": f"s{i}", "n": v}, {"s": None, "n": i}][: (i + v) % 3]
                ),
                "tags": [] if i % 3 == 2 else [f"t{v}", f"u{i}"],
                "nums": None if i % 5 == 1 else list(range(i % 4)),
                "mp": (
                    None
                    if i % 4 == 2
                    else [(f"m{i}", {"x": i / 4, "y": v % 2 == 0}), ("z", None)][: 1 + i % 2]
                ),
                "st": (
                    None
                    if i % 5 == 3
                    else {
                        "f1": f"f{i}",
                        "f2": v,
                        "child": None if i % 2 else {"c1": 0.5, "c2": True},
                    }
                ),
            }
        )
    return pa.Table.from_pylist(out, schema=RICH_SCHEMA)
