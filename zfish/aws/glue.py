"""The Glue API over zfish's catalog: databases, tables, partitions, crawlers that crawl, jobs that run.

Tables and partitions are read from zfish's own catalog (``zfish crawl`` and
the API see one catalog, never a copy), shaped as a Glue crawler (and, for
the Hudi table, a Glue 5.0 Hudi job's catalog sync) registers them. A crawler
runs zfish's real crawler over its targets in a background thread; a job run
is ``spark-submit`` of the job's script, fetched from the lake, with the Hudi
bundle and Glue's ``--KEY value`` arguments, as Glue runs it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from zfish import jobrun
from zfish.aws.context import ACCOUNT_ID, EndpointContext
from zfish.aws.protocol import Call, Service, offset_token, token_offset
from zfish.aws.state import Records
from zfish.catalog import crawler
from zfish.catalog import glue as catalog
from zfish.exceptions import AwsApiError, CatalogError, ValidationError, ZfishError
from zfish.settings import DATABASE, TABLE_NAME, resolve_location
from zfish.warmjob import WarmDriver, WarmRun

MAX_RESULTS = 100
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
HUDI_INPUT = "org.apache.hudi.hadoop.HoodieParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
DEFAULT_MAX_CONCURRENT_RUNS = 1


def _not_found(message: str) -> AwsApiError:
    return AwsApiError("EntityNotFoundException", message)


def _when(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch else None


def _paged(
    name: str,
    items: list[Any],
    call: Call,
    shape: Callable[[Any], Any] = lambda x: x,
    limit: int = MAX_RESULTS,
) -> dict[str, Any]:
    """One page of ``items`` under ``name``, shaped, with Glue's NextToken when more follow."""
    start = token_offset(call, "InvalidInputException")
    size = min(int(call.params.get("MaxResults") or limit), 1000)
    out: dict[str, Any] = {name: [shape(item) for item in items[start : start + size]]}
    if start + size < len(items):
        out["NextToken"] = offset_token(start + size)
    return out


class PartitionFilter:
    """Glue's partition ``Expression`` (``day >= '2025-05-01' AND day < '2025-05-10'``), parsed by sqlglot."""

    def __init__(self, text: str, keys: tuple[str, ...]) -> None:
        self.keys = keys
        try:
            self.tree = sqlglot.parse_one(text, read="athena")
        except sqlglot.errors.ParseError as exc:
            raise AwsApiError(
                "InvalidInputException", f"Unsupported expression {text!r}: {exc}"
            ) from None
        self.text = text

    def __call__(self, values: dict[str, str]) -> bool:
        return bool(self._eval(self.tree, values))

    def _eval(self, node: exp.Expr, values: dict[str, str]) -> Any:
        if isinstance(node, exp.Paren):
            return self._eval(node.this, values)
        if isinstance(node, exp.And):
            return self._eval(node.left, values) and self._eval(node.right, values)
        if isinstance(node, exp.Or):
            return self._eval(node.left, values) or self._eval(node.right, values)
        if isinstance(node, exp.Not):
            return not self._eval(node.this, values)
        if isinstance(node, exp.Column):
            if node.name not in values:
                raise AwsApiError(
                    "InvalidInputException",
                    f"{node.name!r} is not a partition key ({', '.join(self.keys)})",
                )
            return values[node.name]
        if isinstance(node, exp.Literal):
            return node.this
        if isinstance(node, exp.Boolean):
            return node.this
        comparisons = {
            exp.EQ: "__eq__",
            exp.NEQ: "__ne__",
            exp.GT: "__gt__",
            exp.GTE: "__ge__",
            exp.LT: "__lt__",
            exp.LTE: "__le__",
        }
        for kind, method in comparisons.items():
            if isinstance(node, kind):
                left, right = self._eval(node.left, values), self._eval(node.right, values)
                return getattr(str(left), method)(str(right))
        if isinstance(node, exp.In):
            value = str(self._eval(node.this, values))
            return value in {str(self._eval(e, values)) for e in node.expressions}
        if isinstance(node, exp.Between):
            value = str(self._eval(node.this, values))
            return (
                str(self._eval(node.args["low"], values))
                <= value
                <= str(self._eval(node.args["high"], values))
            )
        if isinstance(node, exp.Like):
            import fnmatch

            pattern = str(self._eval(node.expression, values)).replace("%", "*").replace("_", "?")
            return fnmatch.fnmatchcase(str(self._eval(node.this, values)), pattern)
        raise AwsApiError(
            "InvalidInputException", f"Unsupported expression in {self.text!r}: {node.sql()}"
        )


class Glue:
    """The handlers, bound to one lake."""

    def __init__(self, context: EndpointContext) -> None:
        self.context = context
        self.layout = context.layout
        root = context.layout.root
        self.crawlers = Records(root, "glue", "crawlers")
        self.jobs = Records(root, "glue", "jobs")
        self.runs = Records(root, "glue", "job-runs")
        self._processes: dict[str, subprocess.Popen[str] | WarmRun] = {}
        self._warm = WarmDriver(context.layout) if context.warm_jobs else None
        if self._warm is not None:
            context.on_close.append(self._warm.close)
        # A server killed mid-crawl or mid-run left them RUNNING: they are not.
        with self.crawlers.lock:
            for record in self.crawlers.items.values():
                if record.get("State") != "READY":
                    record["State"] = "READY"
                    record["LastCrawl"] = {
                        "Status": "FAILED",
                        "ErrorMessage": "zfish serve stopped during the crawl",
                        "StartTime": record.get("LastCrawl", {}).get("StartTime"),
                    }
            self.crawlers.save()
        with self.runs.lock:
            for run in self.runs.items.values():
                if run["JobRunState"] in ("STARTING", "RUNNING", "STOPPING"):
                    run["JobRunState"] = "FAILED"
                    run["ErrorMessage"] = "zfish serve stopped during the run"
            self.runs.save()

    # -- databases ----------------------------------------------------------------------

    def _databases(self) -> dict[str, catalog.Database]:
        with self.context.catalog_lock.shared():
            return catalog.load_databases(self.layout)

    def _database(self, name: str) -> dict[str, Any]:
        found = self._databases().get(name)
        if found is None:
            raise _not_found(f"Database {name} not found.")
        return self._database_out(found)

    def _database_out(self, found: catalog.Database) -> dict[str, Any]:
        created = found.created_at.replace(tzinfo=UTC) if found.created_at else None
        return {
            "Name": found.name,
            "Description": found.description,
            "LocationUri": found.location_uri,
            "Parameters": found.parameters,
            "CreateTime": created or _when(self.layout.catalog_db.stat().st_mtime),
            "CatalogId": ACCOUNT_ID,
        }

    @contextmanager
    def _writing(self) -> Iterator[tuple[Any, dict[str, catalog.TableEntry]]]:
        """One catalog transaction, alone (crawls and queries wait), errors as Glue's."""
        with self.context.catalog_lock.exclusive():
            try:
                with catalog.updating(self.layout) as pair:
                    yield pair
            except ValidationError as exc:
                raise AwsApiError("InvalidInputException", str(exc)) from None
            except CatalogError as exc:
                raise AwsApiError("InternalServiceException", str(exc), status=500) from exc

    def create_database(self, call: Call) -> dict[str, Any]:
        given = call.params.get("DatabaseInput") or {}
        name = str(given.get("Name", "")).lower()
        if not name:
            raise AwsApiError("InvalidInputException", "DatabaseInput.Name is required")
        with self._writing() as (con, _tables):
            if catalog.database_recorded(con, name):
                raise AwsApiError("AlreadyExistsException", f"Database already exists: {name}")
            catalog.save_database(
                con,
                catalog.Database(
                    name,
                    str(given.get("Description", "")),
                    str(given.get("LocationUri", "")),
                    dict(given.get("Parameters") or {}),
                ),
            )
        return {}

    def get_database(self, call: Call) -> dict[str, Any]:
        return {"Database": self._database(str(call.params["Name"]).lower())}

    def get_databases(self, call: Call) -> dict[str, Any]:
        found = self._databases()
        return _paged("DatabaseList", sorted(found), call, lambda n: self._database_out(found[n]))

    def delete_database(self, call: Call) -> dict[str, Any]:
        name = str(call.params["Name"]).lower()
        if name == DATABASE:
            raise AwsApiError(
                "InvalidInputException",
                f"{DATABASE} holds the study's tables; zfish keeps them (delete "
                f"{self.layout.catalog_db} to start the catalog over)",
            )
        self._database(name)
        with self._writing() as (con, _tables):
            catalog.delete_database(con, name)
        return {}

    # -- tables and partitions ----------------------------------------------------------------

    def _tables(self, database: str) -> dict[str, catalog.TableEntry]:
        self._database(database)
        try:
            with self.context.catalog_lock.shared():
                return catalog.load_tables(self.layout, database)
        except ZfishError as exc:
            raise AwsApiError("InternalServiceException", str(exc), status=500) from exc

    def _location(self, entry: catalog.TableEntry) -> str:
        if entry.kind in catalog.USER_KINDS:
            return self.layout.uri_of(entry.path(self.layout)) + "/"
        return f"s3://{self.layout.bucket}/{self.layout.prefix}/{entry.location}/"

    def _descriptor(self, entry: catalog.TableEntry, location: str) -> dict[str, Any]:
        formats = {
            catalog.KIND_HUDI: (HUDI_INPUT, PARQUET_OUTPUT, PARQUET_SERDE, "hudi"),
            catalog.KIND_PARQUET: (PARQUET_INPUT, PARQUET_OUTPUT, PARQUET_SERDE, "parquet"),
            catalog.KIND_JSON_LINES: (TEXT_INPUT, TEXT_OUTPUT, JSON_SERDE, "json"),
            catalog.KIND_JSON: (TEXT_INPUT, TEXT_OUTPUT, JSON_SERDE, "json"),
        }
        input_format, output_format, serde, classification = formats[entry.kind]
        return {
            "Columns": [{"Name": c.name, "Type": c.glue_type} for c in entry.columns],
            "Location": location,
            "InputFormat": input_format,
            "OutputFormat": output_format,
            "Compressed": False,
            "NumberOfBuckets": -1,
            "SerdeInfo": {
                "SerializationLibrary": serde,
                "Parameters": {"paths": ",".join(c.name for c in entry.columns)}
                if serde == JSON_SERDE
                else {"serialization.format": "1"},
            },
            "Parameters": {"classification": classification},
            "StoredAsSubDirectories": False,
        }

    def _table(self, entry: catalog.TableEntry) -> dict[str, Any]:
        hudi = entry.kind == catalog.KIND_HUDI
        stamp = _when(self.layout.catalog_db.stat().st_mtime)
        descriptor = self._descriptor(entry, self._location(entry))
        parameters = {**descriptor["Parameters"], "EXTERNAL": "TRUE"}
        if hudi:
            parameters.update(
                {"spark.sql.sources.provider": "hudi", "hudi.metadata-listing-enabled": "FALSE"}
            )
        return {
            "Name": entry.name,
            "DatabaseName": entry.database,
            "CatalogId": ACCOUNT_ID,
            "CreateTime": stamp,
            "UpdateTime": stamp,
            "Owner": "zfish",
            "Retention": 0,
            "StorageDescriptor": descriptor,
            "PartitionKeys": [
                {"Name": k, "Type": catalog.glue_type(entry.key_type(i))}
                for i, k in enumerate(entry.partition_keys)
            ],
            "TableType": "EXTERNAL_TABLE",
            "Parameters": parameters,
            "IsRegisteredWithLakeFormation": False,
        }

    def _entry(self, call: Call) -> catalog.TableEntry:
        database = str(call.params["DatabaseName"]).lower()
        return self._lookup(database, str(call.params.get("TableName") or call.params.get("Name")))

    def _lookup(self, database: str, name: str) -> catalog.TableEntry:
        name = name.lower()
        entry = self._tables(database).get(name)
        if entry is None:
            raise _not_found(f"Table {name} not found.")
        return entry

    def get_tables(self, call: Call) -> dict[str, Any]:
        tables = sorted(
            self._tables(str(call.params["DatabaseName"]).lower()).values(), key=lambda e: e.name
        )
        pattern = call.params.get("Expression")
        if pattern:
            import re

            regex = re.compile(str(pattern).replace("*", ".*"))
            tables = [t for t in tables if regex.fullmatch(t.name)]
        return _paged("TableList", tables, call, self._table)

    def get_table(self, call: Call) -> dict[str, Any]:
        return {"Table": self._table(self._entry(call))}

    def _user_entry(self, database: str, given: dict[str, Any]) -> catalog.TableEntry:
        """A TableInput as zfish's catalog keeps a user table (Parquet or JSON lines in the lake)."""
        name = str(given.get("Name", "")).lower()
        if not name:
            raise AwsApiError("InvalidInputException", "TableInput.Name is required")
        descriptor = given.get("StorageDescriptor") or {}
        text = " ".join(
            str(x).lower()
            for x in (
                descriptor.get("InputFormat"),
                (descriptor.get("SerdeInfo") or {}).get("SerializationLibrary"),
                (given.get("Parameters") or {}).get("classification"),
            )
        )
        if "parquet" in text:
            kind = catalog.KIND_PARQUET
        elif "json" in text:
            kind = catalog.KIND_JSON_LINES
        else:
            raise AwsApiError(
                "InvalidInputException",
                f"table {database}.{name}: zfish reads Parquet and JSON-lines tables "
                f"(InputFormat/SerDe/classification say: {text.strip() or 'nothing'})",
            )
        location_text = str(descriptor.get("Location") or "")
        try:
            location = catalog.user_location(self.layout, location_text, f"{database}.{name}")
            columns = tuple(
                catalog.Column(str(c["Name"]).lower(), catalog.duck_type(str(c["Type"])))
                for c in descriptor.get("Columns") or []
            )
            keys = given.get("PartitionKeys") or []
            key_types = tuple(catalog.duck_type(str(k.get("Type") or "string")) for k in keys)
        except ValidationError as exc:
            raise AwsApiError("InvalidInputException", str(exc)) from None
        return catalog.TableEntry(
            database=database,
            name=name,
            kind=kind,
            location=os.path.relpath(location, self.layout.dataset),
            columns=columns,
            partition_keys=tuple(str(k["Name"]).lower() for k in keys),
            partition_types=key_types,
        )

    def _refuse_study(self, entry: catalog.TableEntry) -> None:
        if entry.kind not in catalog.USER_KINDS:
            raise AwsApiError(
                "InvalidInputException",
                f"{entry.database}.{entry.name} is a study table: zfish's crawler and ETL "
                "keep it; change a table of your own",
            )

    def create_table(self, call: Call) -> dict[str, Any]:
        database = str(call.params["DatabaseName"]).lower()
        self._database(database)
        entry = self._user_entry(database, call.params.get("TableInput") or {})
        with self._writing() as (con, _tables):
            if entry.name in catalog.load(con, database):
                raise AwsApiError("AlreadyExistsException", f"Table already exists: {entry.name}")
            catalog.save_table(con, entry, ["created by CreateTable"], None)
        return {}

    def update_table(self, call: Call) -> dict[str, Any]:
        database = str(call.params["DatabaseName"]).lower()
        previous = self._lookup(database, str((call.params.get("TableInput") or {}).get("Name")))
        self._refuse_study(previous)
        entry = self._user_entry(database, call.params.get("TableInput") or {})
        with self._writing() as (con, _tables):
            catalog.save_table(con, entry, ["updated by UpdateTable"], previous)
        return {}

    def delete_table(self, call: Call) -> dict[str, Any]:
        entry = self._entry(call)
        self._refuse_study(entry)
        with self._writing() as (con, _tables):
            catalog.delete_table(con, entry.name, entry.database)
        return {}

    def _partition(self, entry: catalog.TableEntry, value: str) -> dict[str, Any]:
        location = self._location(entry) + (
            f"day={value}/" if entry.kind == catalog.KIND_JSON else f"{value}/"
        )
        return {
            "Values": entry.partition_values(value),
            "DatabaseName": entry.database,
            "TableName": entry.name,
            "CatalogId": ACCOUNT_ID,
            "CreationTime": _when(self.layout.catalog_db.stat().st_mtime),
            "StorageDescriptor": self._descriptor(entry, location),
            "Parameters": {},
        }

    def _registered(self, entry: catalog.TableEntry, values: list[str]) -> str | None:
        """The registered partition with these Glue ``Values``, if any."""
        for value in entry.partitions:
            if entry.partition_values(value) == [str(v) for v in values]:
                return value
        return None

    def get_partitions(self, call: Call) -> dict[str, Any]:
        entry = self._entry(call)
        values = sorted(entry.partitions)
        text = call.params.get("Expression")
        if text:
            keep = PartitionFilter(str(text), entry.partition_keys)
            values = [
                v
                for v in values
                if keep(dict(zip(entry.partition_keys, entry.partition_values(v), strict=False)))
            ]
        segment = call.params.get("Segment")
        if segment:
            number, total = int(segment["SegmentNumber"]), int(segment["TotalSegments"])
            values = [v for i, v in enumerate(values) if i % total == number]
        return _paged("Partitions", values, call, lambda v: self._partition(entry, v), limit=1000)

    def get_partition(self, call: Call) -> dict[str, Any]:
        entry = self._entry(call)
        value = self._registered(entry, call.params.get("PartitionValues") or [])
        if value is None:
            raise _not_found(f"Partition not found: {call.params.get('PartitionValues')}")
        return {"Partition": self._partition(entry, value)}

    def batch_get_partition(self, call: Call) -> dict[str, Any]:
        entry = self._entry(call)
        found, missing = [], []
        for wanted in call.params.get("PartitionsToGet") or []:
            value = self._registered(entry, wanted.get("Values") or [])
            if value is not None:
                found.append(self._partition(entry, value))
            else:
                missing.append({"Values": wanted.get("Values") or []})
        return {"Partitions": found, "UnprocessedKeys": missing}

    def _partition_folder(self, entry: catalog.TableEntry, given: dict[str, Any]) -> str:
        """A PartitionInput's registered form: its Hive folder under the table's location."""
        values = [str(v) for v in given.get("Values") or []]
        try:
            folder = entry.partition_folder(values)
        except ValidationError as exc:
            raise AwsApiError("InvalidInputException", str(exc)) from None
        location = str((given.get("StorageDescriptor") or {}).get("Location") or "")
        expected = self._location(entry) + folder
        if location and location.replace("s3a://", "s3://").rstrip("/") != expected:
            raise AwsApiError(
                "InvalidInputException",
                f"partition {values} of {entry.database}.{entry.name}: zfish reads partitions "
                f"from their Hive folders under the table ({expected}/), not {location}",
            )
        return folder

    def _add_partitions(self, call: Call, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        entry = self._entry(call)
        self._refuse_study(entry)
        errors, folders = [], []
        for given in inputs:
            folder = self._partition_folder(entry, given)
            if folder in entry.partitions or folder in folders:
                errors.append(
                    {
                        "PartitionValues": given.get("Values") or [],
                        "ErrorDetail": {
                            "ErrorCode": "AlreadyExistsException",
                            "ErrorMessage": "Partition already exists.",
                        },
                    }
                )
            else:
                folders.append(folder)
        with self._writing() as (con, _tables):
            catalog.put_partitions(
                con, entry.name, [catalog.PartitionInfo(f) for f in folders], set(), entry.database
            )
        return errors

    def create_partition(self, call: Call) -> dict[str, Any]:
        errors = self._add_partitions(call, [call.params.get("PartitionInput") or {}])
        if errors:
            raise AwsApiError("AlreadyExistsException", "Partition already exists.")
        return {}

    def batch_create_partition(self, call: Call) -> dict[str, Any]:
        errors = self._add_partitions(call, list(call.params.get("PartitionInputList") or []))
        return {"Errors": errors} if errors else {}

    def _drop_partitions(self, call: Call, wanted: list[list[str]]) -> list[dict[str, Any]]:
        entry = self._entry(call)
        self._refuse_study(entry)
        errors, values = [], []
        for given in wanted:
            value = self._registered(entry, given)
            if value is None:
                errors.append(
                    {
                        "PartitionValues": given,
                        "ErrorDetail": {
                            "ErrorCode": "EntityNotFoundException",
                            "ErrorMessage": "Partition not found.",
                        },
                    }
                )
            else:
                values.append(value)
        with self._writing() as (con, _tables):
            catalog.drop_partitions(con, entry.name, values, entry.database)
        return errors

    def delete_partition(self, call: Call) -> dict[str, Any]:
        if self._drop_partitions(call, [list(call.params.get("PartitionValues") or [])]):
            raise _not_found("Partition not found.")
        return {}

    def batch_delete_partition(self, call: Call) -> dict[str, Any]:
        wanted = [list(p.get("Values") or []) for p in call.params.get("PartitionsToDelete") or []]
        errors = self._drop_partitions(call, wanted)
        return {"Errors": errors} if errors else {}

    def get_table_versions(self, call: Call) -> dict[str, Any]:
        entry = self._entry(call)
        versions = catalog.load_versions(self.layout, entry.name, entry.database)
        rows = []
        for version in reversed(versions):
            shaped = dict(self._table(entry))
            shaped["StorageDescriptor"] = dict(shaped["StorageDescriptor"])
            shaped["StorageDescriptor"]["Columns"] = [
                {"Name": c.name, "Type": c.glue_type} for c in version.columns
            ]
            shaped["UpdateTime"] = version.created_at
            rows.append({"Table": shaped, "VersionId": str(version.version_id)})
        return _paged("TableVersions", rows, call)

    # -- crawlers -----------------------------------------------------------------------

    def _targets(self, record: dict[str, Any]) -> tuple[str, ...]:
        """The catalog tables a crawler's S3 targets name."""
        tables = []
        base = f"s3://{self.layout.bucket}/{self.layout.prefix}/"
        for target in (record.get("Targets") or {}).get("S3Targets") or []:
            path = str(target.get("Path", ""))
            normal = path.replace("s3a://", "s3://").rstrip("/") + "/"
            name = normal[len(base) :].strip("/") if normal.startswith(base) else ""
            if name not in (*catalog.JSON_TABLES, "processed/" + TABLE_NAME):
                raise ValueError(
                    f"zfish's crawler catalogues {base}observations/, {base}outcomes/ and "
                    f"{base}processed/{TABLE_NAME}/; it cannot crawl {path}"
                )
            tables.append(TABLE_NAME if name.endswith(TABLE_NAME) else name)
        return tuple(tables)

    def _crawler_out(self, name: str) -> dict[str, Any]:
        record = self.crawlers.items[name]
        out = {
            k: v
            for k, v in record.items()
            if k not in ("CreationTime", "LastUpdated", "LastCrawl", "Metrics")
        }
        out["Name"] = name
        out["CreationTime"] = _when(record["CreationTime"])
        out["LastUpdated"] = _when(record["LastUpdated"])
        last = record.get("LastCrawl")
        if last:
            out["LastCrawl"] = {**last, "StartTime": _when(last.get("StartTime"))}
        return out

    def _crawler(self, name: str) -> dict[str, Any]:
        if name not in self.crawlers.items:
            raise _not_found(f"Crawler with name {name} has not been found.")
        return self.crawlers.items[name]

    def create_crawler(self, call: Call) -> dict[str, Any]:
        params = call.params
        name = str(params["Name"])
        with self.crawlers.lock:
            if name in self.crawlers.items:
                raise AwsApiError("AlreadyExistsException", f"{name} already exists")
            record: dict[str, Any] = {
                "Role": params.get("Role", ""),
                "DatabaseName": params.get("DatabaseName", ""),
                "Targets": params.get("Targets") or {},
                "SchemaChangePolicy": params.get("SchemaChangePolicy")
                or {
                    "UpdateBehavior": "UPDATE_IN_DATABASE",
                    "DeleteBehavior": "DEPRECATE_IN_DATABASE",
                },
                "RecrawlPolicy": params.get("RecrawlPolicy")
                or {"RecrawlBehavior": "CRAWL_EVERYTHING"},
                "State": "READY",
                "CreationTime": time.time(),
                "LastUpdated": time.time(),
                "Version": 1,
                "Metrics": [],
            }
            try:
                self._targets(record)
            except ValueError as exc:
                raise AwsApiError("InvalidInputException", str(exc)) from None
            if (
                record["DatabaseName"]
                and str(record["DatabaseName"]).lower() not in self._databases()
            ):
                raise _not_found(f"Database {record['DatabaseName']} not found.")
            self.crawlers.items[name] = record
            self.crawlers.save()
        return {}

    def update_crawler(self, call: Call) -> dict[str, Any]:
        name = str(call.params["Name"])
        with self.crawlers.lock:
            record = self._crawler(name)
            if record["State"] != "READY":
                raise AwsApiError("CrawlerRunningException", f"Crawler with name {name} is running")
            for key in ("Role", "DatabaseName", "Targets", "SchemaChangePolicy", "RecrawlPolicy"):
                if call.params.get(key) is not None:
                    record[key] = call.params[key]
            record["LastUpdated"] = time.time()
            record["Version"] = int(record.get("Version", 1)) + 1
            self.crawlers.save()
        return {}

    def delete_crawler(self, call: Call) -> dict[str, Any]:
        name = str(call.params["Name"])
        with self.crawlers.lock:
            record = self._crawler(name)
            if record["State"] != "READY":
                raise AwsApiError("CrawlerRunningException", f"Crawler with name {name} is running")
            del self.crawlers.items[name]
            self.crawlers.save()
        return {}

    def get_crawler(self, call: Call) -> dict[str, Any]:
        name = str(call.params["Name"])
        self._crawler(name)
        return {"Crawler": self._crawler_out(name)}

    def get_crawlers(self, call: Call) -> dict[str, Any]:
        return _paged("Crawlers", sorted(self.crawlers.items), call, self._crawler_out)

    def list_crawlers(self, call: Call) -> dict[str, Any]:
        return _paged("CrawlerNames", sorted(self.crawlers.items), call)

    def start_crawler(self, call: Call) -> dict[str, Any]:
        name = str(call.params["Name"])
        with self.crawlers.lock:
            record = self._crawler(name)
            if record["State"] != "READY":
                raise AwsApiError(
                    "CrawlerRunningException", f"Crawler with name {name} has already started"
                )
            record["State"] = "RUNNING"
            record["LastCrawl"] = {"Status": "RUNNING", "StartTime": time.time()}
            self.crawlers.save()
        threading.Thread(
            target=self._crawl, args=(name,), name=f"crawler-{name}", daemon=True
        ).start()
        return {}

    def _crawl(self, name: str) -> None:
        record = self.crawlers.items[name]
        started = time.time()
        status, message, report = "SUCCEEDED", None, None
        try:
            tables = self._targets(record)
            # One crawl at a time: the catalog is one DuckDB file.
            with self.context.catalog_lock.exclusive():
                report = crawler.crawl(self.layout, tables)
        except Exception as exc:  # the crawl's failure is the crawler's state, not the server's
            status, message = "FAILED", str(exc)
        with self.crawlers.lock:
            elapsed = time.time() - started
            record["State"] = "READY"
            record["CrawlElapsedTime"] = int(elapsed * 1000)
            record["LastCrawl"] = {
                "Status": status,
                "StartTime": started,
                **({"ErrorMessage": message} if message else {}),
            }
            changes = report.tables.values() if report is not None else []
            record.setdefault("Metrics", []).append(
                {
                    "seconds": elapsed,
                    "created": sum(1 for c in changes if c.created),
                    "updated": sum(1 for c in changes if not c.created and not c.deleted),
                    "deleted": sum(1 for c in changes if c.deleted),
                }
            )
            record["Metrics"] = record["Metrics"][-20:]
            self.crawlers.save()

    def stop_crawler(self, call: Call) -> dict[str, Any]:
        name = str(call.params["Name"])
        with self.crawlers.lock:
            record = self._crawler(name)
            if record["State"] != "RUNNING":
                raise AwsApiError(
                    "CrawlerNotRunningException", f"Crawler with name {name} is not running"
                )
            # A crawl commits in one catalog transaction: it is let finish, as STOPPING says.
            record["State"] = "STOPPING"
            self.crawlers.save()
        return {}

    def get_crawler_metrics(self, call: Call) -> dict[str, Any]:
        names = call.params.get("CrawlerNameList") or sorted(self.crawlers.items)
        rows = []
        for name in names:
            record = self._crawler(name)
            metrics = record.get("Metrics") or []
            seconds = sorted(m["seconds"] for m in metrics)
            rows.append(
                {
                    "CrawlerName": name,
                    "TimeLeftSeconds": 0.0,
                    "StillEstimating": record["State"] != "READY",
                    "LastRuntimeSeconds": metrics[-1]["seconds"] if metrics else 0.0,
                    "MedianRuntimeSeconds": seconds[len(seconds) // 2] if seconds else 0.0,
                    "TablesCreated": sum(m["created"] for m in metrics),
                    "TablesUpdated": sum(m["updated"] for m in metrics),
                    "TablesDeleted": sum(m["deleted"] for m in metrics),
                }
            )
        return {"CrawlerMetricsList": rows}

    # -- jobs ---------------------------------------------------------------------------

    def _job(self, name: str) -> dict[str, Any]:
        if name not in self.jobs.items:
            raise _not_found(f"Job {name} not found.")
        return self.jobs.items[name]

    def _job_out(self, name: str) -> dict[str, Any]:
        record = dict(self.jobs.items[name])
        record["Name"] = name
        record["CreatedOn"] = _when(record["CreatedOn"])
        record["LastModifiedOn"] = _when(record["LastModifiedOn"])
        return record

    def create_job(self, call: Call) -> dict[str, Any]:
        params = call.params
        name = str(params["Name"])
        command = params.get("Command") or {}
        if not str(command.get("ScriptLocation", "")).startswith(("s3://", "s3a://")):
            raise AwsApiError(
                "InvalidInputException",
                "Command.ScriptLocation must be an s3:// object in the lake",
            )
        with self.jobs.lock:
            if name in self.jobs.items:
                raise AwsApiError("AlreadyExistsException", f"Job {name} already exists")
            self.jobs.items[name] = {
                "Role": params.get("Role", ""),
                "Command": command,
                "DefaultArguments": params.get("DefaultArguments") or {},
                "GlueVersion": params.get("GlueVersion") or "5.0",
                "MaxRetries": params.get("MaxRetries") or 0,
                "ExecutionProperty": params.get("ExecutionProperty")
                or {"MaxConcurrentRuns": DEFAULT_MAX_CONCURRENT_RUNS},
                "CreatedOn": time.time(),
                "LastModifiedOn": time.time(),
            }
            self.jobs.save()
        if self._warm is not None:
            # Warm up in the background, so the first run finds a driver (or one nearly up).
            threading.Thread(target=self._warm_up, name="warm-driver", daemon=True).start()
        return {"Name": name}

    def _warm_up(self) -> None:
        assert self._warm is not None
        with contextlib.suppress(ZfishError, OSError):  # a run then says what is missing
            self._warm.start()

    def get_job(self, call: Call) -> dict[str, Any]:
        name = str(call.params["JobName"])
        self._job(name)
        return {"Job": self._job_out(name)}

    def get_jobs(self, call: Call) -> dict[str, Any]:
        return _paged("Jobs", sorted(self.jobs.items), call, self._job_out)

    def delete_job(self, call: Call) -> dict[str, Any]:
        name = str(call.params["JobName"])
        with self.jobs.lock:
            self.jobs.items.pop(name, None)
            self.jobs.save()
        return {"JobName": name}

    def _run_out(self, run_id: str) -> dict[str, Any]:
        run = dict(self.runs.items[run_id])
        for key in ("StartedOn", "CompletedOn", "LastModifiedOn"):
            if run.get(key):
                run[key] = _when(run[key])
            else:
                run.pop(key, None)
        run.pop("Log", None)
        return run

    def start_job_run(self, call: Call) -> dict[str, Any]:
        name = str(call.params["JobName"])
        with self.jobs.lock:
            job = self._job(name)
        limit = int(
            (job.get("ExecutionProperty") or {}).get("MaxConcurrentRuns")
            or DEFAULT_MAX_CONCURRENT_RUNS
        )
        with self.runs.lock:
            active = [
                r
                for r in self.runs.items.values()
                if r["JobName"] == name and r["JobRunState"] in ("STARTING", "RUNNING", "STOPPING")
            ]
            if len(active) >= limit:
                raise AwsApiError(
                    "ConcurrentRunsExceededException",
                    f"Concurrent runs exceeded for {name}: {len(active)} of at most {limit} running",
                )
            run_id = jobrun.new_run_id()
            arguments = {
                **(job.get("DefaultArguments") or {}),
                **(call.params.get("Arguments") or {}),
            }
            self.runs.items[run_id] = {
                "Id": run_id,
                "JobName": name,
                "Attempt": 0,
                "JobRunState": "STARTING",
                "Arguments": arguments,
                "StartedOn": time.time(),
                "LastModifiedOn": time.time(),
                "GlueVersion": job.get("GlueVersion", "5.0"),
                "ExecutionTime": 0,
            }
            self.runs.save()
        threading.Thread(
            target=self._run, args=(run_id, job, arguments), name=f"job-{run_id}", daemon=True
        ).start()
        return {"JobRunId": run_id}

    def _script(self, location: str, run_id: str) -> Path:
        """The job's script from the lake, copied where the run can import it."""
        source = resolve_location(location, self.layout.root)
        if not source.is_file():
            raise FileNotFoundError(
                f"the job's script {location} is not in the lake ({source}); upload it with aws s3 cp"
            )
        target = self.layout.root / ".zfish-s3" / "glue" / "scripts" / run_id / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        return target

    def _set_run(self, run_id: str, **fields: Any) -> None:
        with self.runs.lock:
            self.runs.items[run_id].update(fields, LastModifiedOn=time.time())
            self.runs.save()

    def _run(self, run_id: str, job: dict[str, Any], arguments: dict[str, str]) -> None:
        started = time.time()
        try:
            script = self._script(str(job["Command"]["ScriptLocation"]), run_id)
            job_name = str(self.runs.items[run_id]["JobName"])
            process: subprocess.Popen[str] | WarmRun | None = None
            if self._warm is not None:
                # A driver still starting is waited for: a cold start would cost as much.
                self._warm.start()
                if self._warm.wait_ready():
                    process = self._warm.try_run(
                        script,
                        arguments,
                        job_name=job_name,
                        run_id=run_id,
                        log=script.with_name("output.log"),
                    )
            if process is None:  # no warm driver, or it is busy with another run
                process = jobrun.start(
                    script, arguments, self.layout, job_name=job_name, run_id=run_id, capture=True
                )
            self._processes[run_id] = process
            with self.runs.lock:
                # A stop that came while the run was STARTING finds no process: stop it here.
                if self.runs.items[run_id]["JobRunState"] == "STOPPING":
                    _stop(process)
                else:
                    self.runs.items[run_id].update(
                        JobRunState="RUNNING", LastModifiedOn=time.time()
                    )
                    self.runs.save()
            output, _ = process.communicate()
            state = self.runs.items[run_id]["JobRunState"]
            if state == "STOPPING":
                self._set_run(
                    run_id,
                    JobRunState="STOPPED",
                    CompletedOn=time.time(),
                    ExecutionTime=int(time.time() - started),
                )
            elif process.returncode == 0:
                self._set_run(
                    run_id,
                    JobRunState="SUCCEEDED",
                    CompletedOn=time.time(),
                    ExecutionTime=int(time.time() - started),
                    Log=output[-20000:],
                )
            else:
                lines = [line for line in output.splitlines() if line.strip()]
                errors = [line for line in lines if "error" in line.lower()]
                message = (errors or lines or [f"exit code {process.returncode}"])[-1]
                self._set_run(
                    run_id,
                    JobRunState="FAILED",
                    ErrorMessage=message[:2000],
                    CompletedOn=time.time(),
                    ExecutionTime=int(time.time() - started),
                    Log=output[-20000:],
                )
        except Exception as exc:  # the run's failure is the run's state
            self._set_run(
                run_id,
                JobRunState="FAILED",
                ErrorMessage=str(exc),
                CompletedOn=time.time(),
                ExecutionTime=int(time.time() - started),
            )
        finally:
            self._processes.pop(run_id, None)

    def get_job_run(self, call: Call) -> dict[str, Any]:
        run_id = str(call.params["RunId"])
        if (
            run_id not in self.runs.items
            or self.runs.items[run_id]["JobName"] != call.params["JobName"]
        ):
            raise _not_found(f"Job run {run_id} not found.")
        return {"JobRun": self._run_out(run_id)}

    def get_job_runs(self, call: Call) -> dict[str, Any]:
        name = str(call.params["JobName"])
        self._job(name)
        ids = sorted(
            (r["StartedOn"], i) for i, r in self.runs.items.items() if r["JobName"] == name
        )
        return _paged("JobRuns", [i for _, i in reversed(ids)], call, self._run_out)

    def batch_stop_job_run(self, call: Call) -> dict[str, Any]:
        name = str(call.params["JobName"])
        stopped, errors = [], []
        for run_id in call.params.get("JobRunIds") or []:
            run = self.runs.items.get(run_id)
            if (
                run is None
                or run["JobName"] != name
                or run["JobRunState"] not in ("STARTING", "RUNNING")
            ):
                errors.append(
                    {
                        "JobName": name,
                        "JobRunId": run_id,
                        "ErrorDetail": {
                            "ErrorCode": "InvalidInputException",
                            "ErrorMessage": "not running",
                        },
                    }
                )
                continue
            self._set_run(run_id, JobRunState="STOPPING")
            process = self._processes.get(run_id)
            if process is not None:
                _stop(process)
            stopped.append({"JobName": name, "JobRunId": run_id})
        return {"SuccessfulSubmissions": stopped, "Errors": errors}


def _stop(process: subprocess.Popen[str] | WarmRun) -> None:
    """End a run: its spark-submit's process group, or the warm driver it runs in."""
    if isinstance(process, WarmRun):
        process.stop()
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)


def service(context: EndpointContext) -> Service:
    glue = Glue(context)
    return Service(
        "glue",
        {
            "CreateDatabase": glue.create_database,
            "GetDatabase": glue.get_database,
            "GetDatabases": glue.get_databases,
            "DeleteDatabase": glue.delete_database,
            "GetTables": glue.get_tables,
            "GetTable": glue.get_table,
            "GetTableVersions": glue.get_table_versions,
            "CreateTable": glue.create_table,
            "UpdateTable": glue.update_table,
            "DeleteTable": glue.delete_table,
            "CreatePartition": glue.create_partition,
            "BatchCreatePartition": glue.batch_create_partition,
            "DeletePartition": glue.delete_partition,
            "BatchDeletePartition": glue.batch_delete_partition,
            "GetPartitions": glue.get_partitions,
            "GetPartition": glue.get_partition,
            "BatchGetPartition": glue.batch_get_partition,
            "CreateCrawler": glue.create_crawler,
            "UpdateCrawler": glue.update_crawler,
            "DeleteCrawler": glue.delete_crawler,
            "GetCrawler": glue.get_crawler,
            "GetCrawlers": glue.get_crawlers,
            "ListCrawlers": glue.list_crawlers,
            "StartCrawler": glue.start_crawler,
            "StopCrawler": glue.stop_crawler,
            "GetCrawlerMetrics": glue.get_crawler_metrics,
            "CreateJob": glue.create_job,
            "GetJob": glue.get_job,
            "GetJobs": glue.get_jobs,
            "DeleteJob": glue.delete_job,
            "StartJobRun": glue.start_job_run,
            "GetJobRun": glue.get_job_run,
            "GetJobRuns": glue.get_job_runs,
            "BatchStopJobRun": glue.batch_stop_job_run,
        },
    )
