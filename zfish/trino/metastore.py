"""zfish's catalog mirrored into Trino's file metastore: the same tables, columns and partitions.

Trino's ``hive.metastore=file`` keeps one JSON document per database, table
and partition (``.trinoSchema``); this module writes them from
:mod:`zfish.catalog.glue`, so Trino sees what the catalog registered, no more
(an uploaded but uncrawled partition stays invisible, as in Athena):

* ``observations`` and ``outcomes``: external ``OPENX_JSON`` tables (Athena's
  ``org.openx.data.jsonserde.JsonSerDe``) partitioned by ``day``, each
  registered partition pointing at its folder in the lake;
* ``joined_fish_data``: the Hudi table as Hudi's Glue sync registers it
  (``HoodieParquetInputFormat``), so Trino's Hive connector redirects it to
  the Hudi connector, as Athena does.

The outcomes objects are one-line JSON arrays. Glue and Athena read each
element as a record (the seed's 20, then 25 rows), and zfish keeps reading
them so; Trino's OpenX reader takes the whole line as one row (and maps the
array's elements onto columns by position). Trino is therefore given a
JSON-lines copy of each outcomes object, one record a line, under the
mirror's own folder, never in the lake.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Collection
from pathlib import Path
from typing import Any

from zfish.catalog import glue
from zfish.settings import DATABASE, LakeLayout

SCHEMA_FILE = ".trinoSchema"
OWNER = "zfish"
WRITER_VERSION = "476"
HUDI_STORAGE = {
    "serde": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    "inputFormat": "org.apache.hudi.hadoop.HoodieParquetInputFormat",
    "outputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
}
JSON_FORMAT = "OPENX_JSON"
# Tables whose objects are JSON arrays of records: Trino reads a JSON-lines copy.
ARRAY_TABLES = ("outcomes",)
COMPACT_OBJECT = "records.json"


def location(path: Path) -> str:
    """A path as Trino's native local file system names it (``local.location=/``)."""
    return f"local://{path.resolve()}"


def _column(name: str, hive_type: str) -> dict[str, Any]:
    return {"name": name, "type": hive_type, "properties": {}}


def _write(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=2))
    tmp.replace(path)


def _storage(entry: glue.TableEntry) -> dict[str, Any]:
    if entry.kind == glue.KIND_HUDI:
        return {"originalStorageFormat": HUDI_STORAGE}
    return {"storageFormat": JSON_FORMAT}


def jsonl_copy(source: Path, target: Path) -> None:
    """A JSON file of records (arrays or objects, one or more a line) as JSON lines."""
    records: list[str] = []
    for line in source.read_text().splitlines():
        if not line.strip():
            continue
        value = json.loads(line)
        for record in value if isinstance(value, list) else [value]:
            records.append(json.dumps(record, separators=(",", ":")))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(f"{r}\n" for r in records))


def _partition_folder(
    layout: LakeLayout,
    entry: glue.TableEntry,
    value: str,
    copies: Path,
    compact: Collection[str] = (),
) -> Path:
    folder = entry.partition_path(layout, value)
    if entry.name not in ARRAY_TABLES and entry.name not in compact:
        return folder
    copy = copies / entry.name / folder.name
    shutil.rmtree(copy, ignore_errors=True)
    if entry.name in compact:
        # One JSON-lines object of the partition's records, in the objects' order.
        parts = copies / f".{entry.name}-parts" / folder.name
        for source in sorted(folder.glob("*.json")):
            jsonl_copy(source, parts / source.name)
        copy.mkdir(parents=True, exist_ok=True)
        (copy / COMPACT_OBJECT).write_text(
            "".join(p.read_text() for p in sorted(parts.glob("*.json")))
        )
        shutil.rmtree(parts)
        return copy
    for source in sorted(folder.glob("*.json")):
        jsonl_copy(source, copy / source.name)
    copy.mkdir(parents=True, exist_ok=True)
    return copy


def mirror(
    layout: LakeLayout,
    metastore: Path,
    copies: Path,
    *,
    database_name: str = DATABASE,
    compact: Collection[str] = (),
) -> list[str]:
    """Rewrite the database in ``metastore`` from zfish's catalog; the table names mirrored.

    ``copies`` holds the JSON-lines copies of array tables (see the module doc).
    Tables, partitions and copies of an earlier mirror that the catalog no
    longer has are removed. ``database_name`` (default: Athena's) lets one
    server hold the catalogs of several lakes. The JSON tables named in
    ``compact`` are read from one JSON-lines copy per partition: the same rows
    in fewer objects, for a server that reads them over and over (the tests'
    oracle; only their ``"$path"`` and ``"$file_size"`` change).
    """
    tables = glue.load_tables(layout)
    database = metastore / database_name
    shutil.rmtree(database, ignore_errors=True)
    shutil.rmtree(copies, ignore_errors=True)
    _write(
        metastore / f".{database_name}{SCHEMA_FILE}",
        {
            "writerVersion": WRITER_VERSION,
            "ownerName": OWNER,
            "ownerType": "USER",
            "parameters": {},
        },
    )
    for name, entry in tables.items():
        keys = set(entry.partition_keys)
        data = [_column(c.name, c.glue_type) for c in entry.columns if c.name not in keys]
        parameters = {"EXTERNAL": "TRUE", "transactional": "false"}
        if entry.kind == glue.KIND_HUDI:
            parameters["spark.sql.sources.provider"] = "hudi"
        _write(
            database / name / SCHEMA_FILE,
            {
                "writerVersion": WRITER_VERSION,
                "owner": OWNER,
                "tableType": "EXTERNAL_TABLE",
                "dataColumns": data,
                "partitionColumns": [_column(k, "string") for k in entry.partition_keys],
                "parameters": parameters,
                **_storage(entry),
                "serdeParameters": {},
                "externalLocation": location(entry.path(layout)),
                "columnStatistics": {},
            },
        )
        key = entry.partition_keys[0] if entry.partition_keys else None
        for value in entry.partitions if key else ():
            folder = _partition_folder(layout, entry, value, copies, compact)
            _write(
                database / name / f"{key}={value}" / SCHEMA_FILE,
                {
                    "columns": data,
                    "parameters": {},
                    **_storage(entry),
                    "serdeParameters": {},
                    "externalLocation": location(folder),
                    "columnStatistics": {},
                },
            )
    return list(tables)
