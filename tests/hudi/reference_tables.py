"""Reference tables written here by the JVM Hudi 0.15 bundle with Spark SQL, cached by content.

The parity tests compare the native writer with tables the JVM wrote. They are
made by this module, in the test run, with the pinned bundle (Spark SQL
``CREATE TABLE ... USING hudi`` + ``INSERT INTO`` / ``INSERT OVERWRITE TABLE``,
the way the sample tables of hudi-rs were made): the same kinds of table as
``../shared/fixtures/hudi-sample-tables`` (simple, complex and non-partitioned
keys, hive-style and not, an ``INSERT_OVERWRITE_TABLE`` replacecommit, a
TimestampBasedKeyGenerator, an empty table), under the same names, so a test
can take its table from either source. The statements and rows are our own.

Built once into ``zfish.jars.cache_dir()/reference-tables/<hash>/<name>`` where
the hash covers this file, the bundle coordinate and the Spark version: a
second run (or a change elsewhere) reuses them, a change here rebuilds them.
The build goes to a temporary folder renamed into place, so an interrupted
build leaves nothing a later run would take for a complete one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from zfish import jars

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Columns in CREATE TABLE order; the partition columns come last, as Spark puts them.
BASE_COLUMNS = """
    id INT, name STRING, isActive BOOLEAN, {extra}
    intField INT, longField LONG, floatField FLOAT, doubleField DOUBLE,
    decimalField DECIMAL(10,5), dateField DATE, timestampField TIMESTAMP, binaryField BINARY,
    arrayField ARRAY<STRUCT<arr_struct_f1: STRING, arr_struct_f2: INT>>,
    mapField MAP<STRING, STRUCT<map_field_value_struct_f1: DOUBLE, map_field_value_struct_f2: BOOLEAN>>,
    structField STRUCT<field1: STRING, field2: INT,
                       child_struct: STRUCT<child_field1: DOUBLE, child_field2: BOOLEAN>>
"""

NAMES = {1: "Alice", 2: "Bob", 3: "Carol", 4: "Diana"}
# id -> (byteField, shortField): 1 and 3 share a partition (and a file group).
PARTS = {1: (10, 300), 2: (20, 100), 3: (10, 300), 4: (30, 100)}


def _values(i: int, version: int, layout: str) -> str:
    """One row as a SQL VALUES tuple; ``layout`` places byte/short fields as the table has them."""
    byte, short = PARTS[i]
    common = [
        f"{1000 * i + 7 * version}",
        f"{123456789 * i + version}",
        f"{i + 0.5 * version}",
        f"{i * 1.125 + version}",
        f"{i * 1111}.{version * 11111:05d}",
        f"CAST('2023-04-{i:02d}' AS DATE)",
        f"CAST('2023-04-{i:02d} {10 + version:02d}:0{i}:00' AS TIMESTAMP)",
        f"CAST('bytes {i}/{version}' AS BINARY)",
        f"ARRAY(STRUCT('c{i}', {100 * i}), STRUCT('d{version}', {i + version}))",
        f"MAP('k{i}', STRUCT({i * 1.5}, {str(i % 2 == 0).lower()}))",
        f"STRUCT('{NAMES[i]}', {20 + i}, STRUCT({i * 2.25}, {str(version > 1).lower()}))",
    ]
    active = str((i + version) % 2 == 0).lower()
    head = [str(i), f"'{NAMES[i]}'", active]
    if layout == "complex":  # ... byteField, shortField last (the partition columns)
        cols = [*head, *common, str(byte), str(short)]
    elif layout == "flat":  # byteField, shortField among the data columns
        cols = [*head, str(byte), str(short), *common]
    elif layout == "simple":  # shortField among the data, byteField last (the partition)
        cols = [*head, str(short), *common, str(byte)]
    else:  # timebased: byte/short among the data, ts_str last (the partition)
        cols = [*head, str(byte), str(short), *common, f"'2023-04-0{i}T1{i}:01:00.123Z'"]
    return "(" + ", ".join(cols) + ")"


def _insert(name: str, layout: str, rows: list[tuple[int, int]], verb: str = "INTO") -> str:
    values = ",\n  ".join(_values(i, v, layout) for i, v in rows)
    if verb == "OVERWRITE":
        return f"INSERT OVERWRITE TABLE {name} VALUES\n  {values}"
    return f"INSERT INTO {name} VALUES\n  {values}"


def _create(name: str, columns: str, props: dict[str, str], partitioned: str = "") -> str:
    tbl = ", ".join(f"'{k}' = \"{v}\"" for k, v in props.items())  # values hold quotes
    parts = f"\nPARTITIONED BY ({partitioned})" if partitioned else ""
    return f"CREATE TABLE {name} ({columns}) USING HUDI\nTBLPROPERTIES ({tbl}){parts}\nLOCATION '{{location}}'"


def _common(primary_key: str, **more: str) -> dict[str, str]:
    return {
        "type": "cow",
        "primaryKey": primary_key,
        "preCombineField": "longField",
        "hoodie.metadata.enable": "false",
        **more,
    }


FIRST = [(1, 1), (2, 1), (3, 1)]
SECOND = [(1, 2), (4, 1)]  # updates Alice, inserts Diana

# name -> the statements that write it ({location} is filled in).
TABLES: dict[str, Callable[[str], list[str]]] = {
    "cow_v6_complexkeygen_hivestyle": lambda n: [
        _create(
            n,
            BASE_COLUMNS.format(extra="") + ", byteField BYTE, shortField SHORT",
            _common("id,name", **{"hoodie.datasource.write.hive_style_partitioning": "true"}),
            "byteField, shortField",
        ),
        _insert(n, "complex", FIRST),
        _insert(n, "complex", SECOND),
    ],
    "cow_v6_nonpartitioned": lambda n: [
        _create(n, BASE_COLUMNS.format(extra="byteField BYTE, shortField SHORT,"), _common("id")),
        _insert(n, "flat", FIRST),
        _insert(n, "flat", SECOND),
    ],
    "cow_v6_simplekeygen_nonhivestyle": lambda n: [
        _create(
            n,
            BASE_COLUMNS.format(extra="shortField SHORT,") + ", byteField BYTE",
            _common("id", **{"hoodie.datasource.write.hive_style_partitioning": "false"}),
            "byteField",
        ),
        _insert(n, "simple", FIRST),
        _insert(n, "simple", SECOND),
    ],
    "cow_v6_simplekeygen_nonhivestyle_overwritetable": lambda n: [
        _create(
            n,
            BASE_COLUMNS.format(extra="shortField SHORT,") + ", byteField BYTE",
            _common("id", **{"hoodie.datasource.write.hive_style_partitioning": "false"}),
            "byteField",
        ),
        _insert(n, "simple", FIRST),
        _insert(n, "simple", SECOND),
        _insert(n, "simple", [(4, 2)], verb="OVERWRITE"),
    ],
    "cow_v6_timebasedkeygen_nonhivestyle": lambda n: [
        _create(
            n,
            BASE_COLUMNS.format(extra="byteField BYTE, shortField SHORT,") + ", ts_str STRING",
            _common(
                "id",
                **{
                    "hoodie.datasource.write.hive_style_partitioning": "false",
                    "hoodie.table.keygenerator.class": (
                        "org.apache.hudi.keygen.TimestampBasedKeyGenerator"
                    ),
                    "hoodie.keygen.timebased.timestamp.type": "DATE_STRING",
                    "hoodie.keygen.timebased.input.dateformat": "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
                    "hoodie.keygen.timebased.output.dateformat": "yyyy/MM/dd/HH",
                },
            ),
            "ts_str",
        ),
        _insert(n, "timebased", FIRST),
        _insert(n, "timebased", SECOND),
    ],
    "cow_v6_empty": lambda n: [
        _create(
            n,
            "id INT, name STRING, isActive BOOLEAN",
            {"type": "cow", "primaryKey": "id", "hoodie.metadata.enable": "false"},
        )
    ],
}


def content_hash() -> str:
    """What the tables depend on: these statements, the bundle and the Spark version."""
    import pyspark

    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(jars.HUDI_BUNDLE.coordinate.encode())
    digest.update(pyspark.__version__.encode())
    return digest.hexdigest()[:16]


def build(spark: SparkSession, dest: Path) -> None:
    """Write every reference table into ``dest/<name>`` with Spark SQL."""
    dest.mkdir(parents=True, exist_ok=True)
    for name, statements in TABLES.items():
        # Catalog names are table names (hoodie.table.name); the fixture's "v6_..." part.
        table = name.removeprefix("cow_")
        location = dest / name
        spark.sql(f"DROP TABLE IF EXISTS {table}")
        try:
            for statement in statements(table):
                spark.sql(statement.replace("{location}", str(location)))
        finally:
            spark.sql(f"DROP TABLE IF EXISTS {table}")


def reference_tables(spark: SparkSession) -> Path:
    """The folder holding every reference table (built on first use, then cached)."""
    root = jars.cache_dir() / "reference-tables"
    final = root / content_hash()
    if final.is_dir():
        return final
    tmp = root / f".building-{uuid.uuid4().hex}"
    try:
        build(spark, tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.is_dir():  # not a concurrent build that won the rename
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
