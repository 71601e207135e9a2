"""The shim's reads and writes: catalog tables and ``s3://`` paths of the lake as Spark DataFrames.

A catalog table reads as Athena and a Glue job see it: only its registered
partitions (an upload stays invisible until a crawl), with the catalogued
schema (DuckDB types, translated to Spark's by sqlglot) and the partition
column; the Hudi table as its latest snapshot's base files. A write goes to a
hidden staging folder beside its target and is moved in only when Spark has
finished, so a failed job leaves nothing half-written in the lake.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import sqlglot
from sqlglot import exp

from awsglue._shim import unsupported
from zfish import fishtable
from zfish.catalog.glue import (
    KIND_HUDI,
    KIND_JSON,
    KIND_PARQUET,
    USER_KINDS,
    TableEntry,
    ident,
    json_files,
    load_databases,
    load_tables,
    user_files,
)
from zfish.exceptions import CatalogError, ValidationError
from zfish.fsutil import TEMP_MARK
from zfish.settings import LakeLayout, ensure_inside, resolve_location

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

READ_FORMATS = ("json", "parquet")
WRITE_FORMATS = ("json", "parquet", "glueparquet")  # glueparquet: Glue's own Parquet writer
# Connection options that only tune how Glue groups or lists files: nothing to do locally.
_TUNING_OPTIONS = frozenset({"groupFiles", "groupSize", "maxBand", "maxFilesInBand"})


def spark_type(duck: str) -> str:
    """A catalogued (DuckDB) type in Spark's DDL spelling, e.g. ``STRUCT(a BOOLEAN)`` -> ``STRUCT<a: BOOLEAN>``."""
    if duck.strip().upper() == "NULL":  # all-null columns read as strings, as the crawler says
        return "STRING"
    try:
        return exp.DataType.build(duck, dialect="duckdb").sql(dialect="spark")
    except (sqlglot.errors.ParseError, ValueError) as exc:
        raise CatalogError(f"catalogued type {duck!r} has no Spark equivalent: {exc}") from None


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def table_ddl(entry: TableEntry) -> str:
    """The table's Spark schema as DDL: the catalogued columns, then the partition keys as typed."""
    columns = [f"{_quoted(c.name)} {spark_type(c.type)}" for c in entry.columns]
    names = {c.name for c in entry.columns}
    columns += [
        f"{_quoted(k)} {spark_type(entry.key_type(i))}"
        for i, k in enumerate(entry.partition_keys)
        if k not in names
    ]
    return ", ".join(columns)


def catalog_entry(layout: LakeLayout, database: str, table_name: str) -> TableEntry:
    """The catalog's entry for ``database.table_name``, or Glue's EntityNotFoundException, with the fix."""
    databases = load_databases(layout)
    if database not in databases:
        known = ", ".join(sorted(databases)) or "none yet"
        raise CatalogError(
            f"EntityNotFoundException: Database {database} not found in the catalog of the lake "
            f"{layout.root} (databases: {known})"
        )
    tables = load_tables(layout, database)
    if table_name not in tables:
        known = ", ".join(sorted(tables)) or "none yet"
        raise CatalogError(
            f"EntityNotFoundException: Table {table_name} not found in database {database} "
            f"of the lake {layout.root} (tables: {known}); run `zfish crawl` (or a crawler) first"
        )
    return tables[table_name]


def selected_partitions(entry: TableEntry, predicate: str | None) -> tuple[str, ...]:
    """The registered partitions a ``push_down_predicate`` (Spark SQL over the partition keys) keeps."""
    if not predicate or not predicate.strip():
        return entry.partitions
    if not entry.partition_keys:
        raise ValidationError(
            f"push_down_predicate {predicate!r} on {entry.database}.{entry.name}, "
            "which has no partition keys"
        )
    try:
        where = sqlglot.transpile(predicate, read="spark", write="duckdb")[0]
    except sqlglot.errors.ParseError as exc:
        raise ValidationError(
            f"push_down_predicate {predicate!r} is not Spark SQL: {exc}"
        ) from None
    keys = ", ".join(
        f"CAST(v[{i + 1}] AS {entry.key_type(i)}) AS {ident(k)}"
        for i, k in enumerate(entry.partition_keys)
    )
    rows = [[value, entry.partition_values(value)] for value in entry.partitions]
    con = duckdb.connect()
    try:
        # One row per registered partition, its keys typed as catalogued; the predicate filters.
        con.execute('CREATE TEMP TABLE registered ("$folder" VARCHAR, v VARCHAR[])')
        if rows:
            con.executemany("INSERT INTO registered VALUES (?, ?)", rows)
        kept = con.execute(
            f'SELECT "$folder" FROM (SELECT "$folder", {keys} FROM registered) '
            f"WHERE {where} ORDER BY 1"
        ).fetchall()
    except duckdb.Error as exc:
        named = ", ".join(repr(k) for k in entry.partition_keys)
        raise ValidationError(
            f"push_down_predicate {predicate!r} cannot be applied to the partitions of "
            f"{entry.name}: it may name only the partition key(s) {named} ({exc})"
        ) from None
    finally:
        con.close()
    return tuple(str(folder) for (folder,) in kept)


def read_catalog_table(
    spark: SparkSession, layout: LakeLayout, entry: TableEntry, predicate: str | None
) -> DataFrame:
    values = selected_partitions(entry, predicate)
    if entry.kind == KIND_JSON:
        return _read_json_table(spark, layout, dataclasses.replace(entry, partitions=values))
    if entry.kind == KIND_HUDI:
        # Without a predicate the table's own latest snapshot, as Glue's Hudi reader reads it.
        return _read_hudi_table(spark, layout, entry, set(values) if predicate else None)
    if entry.kind in USER_KINDS:
        return _read_user_table(spark, layout, dataclasses.replace(entry, partitions=values))
    unsupported(
        f"from_catalog on a table of kind {entry.kind!r}",
        "the crawled JSON tables, the Hudi table and Parquet or JSON-lines tables (CreateTable, CTAS)",
    )


def _read_json_table(spark: SparkSession, layout: LakeLayout, entry: TableEntry) -> DataFrame:
    files = [str(f) for f in json_files(layout, entry)]
    schema = table_ddl(entry)
    if not files:
        return spark.createDataFrame([], schema)
    # basePath: the day=... folders between it and each file become the partition column,
    # typed by the schema (a string, as catalogued), not inferred.
    return (
        spark.read.schema(schema).option("basePath", str(entry.path(layout).resolve())).json(files)
    )


def _read_hudi_table(
    spark: SparkSession, layout: LakeLayout, entry: TableEntry, values: set[str] | None
) -> DataFrame:
    # Copy-on-Write: the latest base file of each file group is the table's snapshot.
    table = entry.path(layout).resolve()
    files = [
        str(table / rel)
        for rel in fishtable.latest_base_files(table)
        if values is None or str(Path(rel).parent) in values
    ]
    if not files:
        return spark.createDataFrame([], table_ddl(entry))
    return spark.read.option("mergeSchema", "true").parquet(*files)


def lake_path(layout: LakeLayout, location: str) -> Path:
    """``s3://bucket/key`` (or a local path) as a folder of the lake; one outside it is refused."""
    return ensure_inside(resolve_location(location, layout.root), layout.root).resolve()


def _read_user_table(spark: SparkSession, layout: LakeLayout, entry: TableEntry) -> DataFrame:
    """A table of Glue's CreateTable or Athena's CTAS: its files, typed as catalogued."""
    from pyspark.sql import functions as F

    files = [str(f) for f in user_files(layout, entry)]
    if not files:
        return spark.createDataFrame([], table_ddl(entry))
    reader = spark.read.option("basePath", str(entry.path(layout).resolve()))
    if entry.kind == KIND_PARQUET:
        df = reader.option("mergeSchema", "true").parquet(*files)
    else:
        df = reader.schema(table_ddl(entry)).json(files)
    # Parquet keeps its own types and folders give strings: cast both to the catalog's.
    typed = [(c.name, c.type) for c in entry.columns] + [
        (k, entry.key_type(i)) for i, k in enumerate(entry.partition_keys)
    ]
    return df.select(
        *[F.col(_quoted(name)).cast(spark_type(duck)).alias(name) for name, duck in typed]
    )


def s3_paths(layout: LakeLayout, paths: Sequence[str] | str) -> list[str]:
    if isinstance(paths, str):
        paths = [paths]
    if not paths:
        raise ValidationError('connection_options needs "paths": ["s3://bucket/prefix/", ...]')
    return [str(lake_path(layout, p)) for p in paths]


def read_s3(
    spark: SparkSession,
    layout: LakeLayout,
    connection_options: Mapping[str, Any],
    fmt: str,
    format_options: Mapping[str, Any],
) -> DataFrame:
    if fmt not in READ_FORMATS:
        unsupported(f"from_options(format={fmt!r})", f"format {' or '.join(READ_FORMATS)}")
    known = {"paths", "recurse", "exclusions", *_TUNING_OPTIONS}
    extra = sorted(set(connection_options) - known)
    if extra or connection_options.get("exclusions"):
        unsupported(
            f"from_options connection_options {extra or ['exclusions']}",
            '"paths" and "recurse" (and the file-grouping hints, ignored)',
        )
    reader = spark.read
    if connection_options.get("recurse") in (True, "true", "True"):
        # Every file below the paths; Glue then adds no partition columns either.
        reader = reader.option("recursiveFileLookup", "true")
    paths = s3_paths(layout, connection_options.get("paths") or [])
    if fmt == "json":
        extra = sorted(set(format_options) - {"multiline", "multiLine"})
        if extra:
            unsupported(f"from_options json format_options {extra}", 'format_options "multiline"')
        multiline = format_options.get("multiline", format_options.get("multiLine", False))
        return reader.option("multiLine", str(multiline).lower()).json(paths)
    if format_options:
        unsupported(f"from_options parquet format_options {sorted(format_options)}", "none")
    return reader.parquet(*paths)


def write_s3(
    df: DataFrame,
    layout: LakeLayout,
    connection_options: Mapping[str, Any],
    fmt: str,
    format_options: Mapping[str, Any],
) -> Path:
    """Write ``df`` under ``connection_options["path"]`` (added to what is there, as Glue does)."""
    if fmt not in WRITE_FORMATS:
        unsupported(
            f"write_dynamic_frame.from_options(format={fmt!r})",
            f"format {', '.join(WRITE_FORMATS)}",
        )
    extra = sorted(set(connection_options) - {"path", "partitionKeys"})
    if extra:
        unsupported(
            f"write_dynamic_frame.from_options connection_options {extra}",
            '"path" and "partitionKeys"',
        )
    extra = sorted(set(format_options) - {"compression"})
    if extra:
        unsupported(f"write_dynamic_frame.from_options format_options {extra}", '"compression"')
    if not connection_options.get("path"):
        raise ValidationError('connection_options needs "path": "s3://bucket/prefix/"')
    target = lake_path(layout, str(connection_options["path"]))
    # Beside the target, hidden: on the same file system (renames are atomic), and Spark's
    # listing, the crawler and `*.json` globs all skip names that start with a dot.
    staging = target.parent / f".{target.name}.{uuid.uuid4().hex}{TEMP_MARK}"
    writer = df.write.format("json" if fmt == "json" else "parquet")
    if format_options.get("compression"):
        writer = writer.option("compression", str(format_options["compression"]))
    keys = list(connection_options.get("partitionKeys") or [])
    if keys:
        writer = writer.partitionBy(*keys)
    try:
        writer.save(str(staging))
        _move_in(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _move_in(staging: Path, target: Path) -> None:
    """Spark's finished output into ``target``: the whole folder at once when it is new."""
    for crc in staging.rglob(".*.crc"):  # Hadoop's checksum side files are no S3 objects
        crc.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or (target.is_dir() and not any(target.iterdir())):
        os.replace(staging, target)
        return
    if not target.is_dir():
        raise ValidationError(f"cannot write under {target}: it is a file, not a folder")
    # Appending to existing output: each file appears whole (a rename), data before _SUCCESS.
    files = sorted(p for p in staging.rglob("*") if p.is_file())
    for path in sorted(files, key=lambda p: p.name == "_SUCCESS"):
        destination = target / path.relative_to(staging)
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, destination)
