"""The Athena API over ``zfish query``: queries on a worker pool, results as Athena returns and stores them.

StartQueryExecution queues the statement; a worker runs it with zfish's own
engine (sqlglot's Athena dialect to DuckDB, :mod:`zfish.catalog.query`) and
writes Athena's result CSV to ``<OutputLocation>/<QueryExecutionId>.csv`` in
the lake, where clients that read results through S3 find it. Its
``.csv.metadata`` beside it is zfish's JSON of the column info, not
Athena's binary format (no client reads that file). GetQueryResults returns
the header row first and Athena's type names in ``ColumnInfo``. Each query
reads the catalog under a shared lock, so a crawl running meanwhile is
either wholly before or wholly after it.

GetQueryExecution of a query still queued or running waits up to
``HOLD_SECONDS`` for it to end before it answers (Athena answers at once; no
client can tell the difference but the time). A client polling in a tight
loop otherwise takes the CPU and the GIL the query needs, and one polling
every second sees the end sooner.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from zfish.aws.context import EndpointContext
from zfish.aws.protocol import Call, Service, offset_token, token_offset
from zfish.aws.state import Records
from zfish.catalog import dialect, statements, writes
from zfish.catalog import glue as catalog
from zfish.catalog.query import QueryResult, run_query
from zfish.catalog.render import athena_text, csv_lines
from zfish.exceptions import AthenaQueryError, AwsApiError, CatalogError, ZfishError
from zfish.fsutil import atomic_write_bytes
from zfish.hudi.options import METAFOLDER
from zfish.settings import DATABASE, resolve_location

WORKERS = 4
PRIMARY = "primary"
CATALOG = "AwsDataCatalog"
ENGINE = {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"}
MAX_RESULTS = 1000
# Results kept in memory for GetQueryResults; older ones are read back from their CSV.
KEEP_RESULTS = 64
# How long GetQueryExecution waits for a running query to end (see the module docstring).
HOLD_SECONDS = 0.25
_RUNNING = ("QUEUED", "RUNNING")
# A folder changed this recently may change again within one mtime tick: not cached yet.
SCAN_RACY_SECONDS = 2.0


def athena_type(kind: pa.DataType) -> str:
    """Athena's (Trino's) type name for an Arrow type, as ColumnInfo.Type carries it."""
    if getattr(kind, "extension_name", None) == "arrow.json":
        return "json"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_int8(kind):
        return "tinyint"
    if pa.types.is_int16(kind):
        return "smallint"
    if pa.types.is_int32(kind):
        return "integer"
    if pa.types.is_integer(kind):
        return "bigint"
    if pa.types.is_float32(kind):
        return "real"
    if pa.types.is_floating(kind):
        return "double"
    if pa.types.is_decimal(kind):
        return "decimal"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "varchar"
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return "varbinary"
    if pa.types.is_date(kind):
        return "date"
    if pa.types.is_timestamp(kind):
        return "timestamp with time zone" if kind.tz else "timestamp"
    if pa.types.is_time(kind):
        return "time"
    if pa.types.is_interval(kind):
        return "interval day to second"
    if pa.types.is_map(kind):
        return "map"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return "array"
    if pa.types.is_struct(kind):
        return "row"
    return "varchar"


def _column_info(schema: pa.Schema) -> list[dict[str, Any]]:
    info = []
    for field in schema:
        kind = field.type
        precision, scale = (kind.precision, kind.scale) if pa.types.is_decimal(kind) else (0, 0)
        if pa.types.is_string(kind):
            precision = 2147483647
        info.append(
            {
                "CatalogName": "hive",
                "SchemaName": "",
                "TableName": "",
                "Name": field.name,
                "Label": field.name,
                "Type": athena_type(kind),
                "Precision": precision,
                "Scale": scale,
                "Nullable": "UNKNOWN",
                "CaseSensitive": athena_type(kind) == "varchar",
            }
        )
    return info


def _statement_type(sql: str) -> str:
    if writes.statement_kind(sql) == writes.UNLOAD:
        return "DML"
    head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    if head in ("SHOW", "DESCRIBE", "EXPLAIN"):
        return "UTILITY"
    if head in ("CREATE", "DROP", "ALTER", "MSCK"):
        return "DDL"
    return "DML"


class Athena:
    """The handlers, bound to one lake."""

    def __init__(self, context: EndpointContext) -> None:
        self.context = context
        self.layout = context.layout
        self.executions = Records(context.layout.root, "athena", "query-executions")
        self.workgroups = Records(context.layout.root, "athena", "workgroups")
        with self.workgroups.lock:
            self.workgroups.items.setdefault(
                PRIMARY,
                {
                    "Description": "zfish: results inside the lake",
                    "OutputLocation": f"s3://{self.layout.bucket}/athena-results/",
                    "CreationTime": time.time(),
                },
            )
            self.workgroups.save()
        with self.executions.lock:
            for record in self.executions.items.values():
                if record["State"] in ("QUEUED", "RUNNING"):
                    record.update(
                        State="FAILED", StateChangeReason="zfish serve stopped while the query ran"
                    )
            self.executions.save()
        self._results: dict[str, pa.Table] = {}
        self._results_lock = threading.Lock()
        # folder -> (its mtime_ns, bytes of its files, its subfolders): see _scanned.
        self._scan_cache: dict[str, tuple[int, int, list[str]]] = {}
        self._tokens: dict[str, str] = {}
        # Notified at every state change, for GetQueryExecution's hold.
        self._changed = threading.Condition()
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="athena")
        context.on_close.append(lambda: self._pool.shutdown(wait=False, cancel_futures=True))

    # -- queries ------------------------------------------------------------------------

    def start_query_execution(self, call: Call) -> dict[str, Any]:
        params = call.params
        sql = str(params.get("QueryString") or "")
        token = params.get("ClientRequestToken")
        if token and token in self._tokens:
            return {"QueryExecutionId": self._tokens[token]}
        workgroup = str(params.get("WorkGroup") or PRIMARY)
        group = self.workgroups.items.get(workgroup)
        if group is None:
            raise AwsApiError("InvalidRequestException", f"WorkGroup {workgroup} is not found.")
        try:
            # UNLOAD has no sqlglot parse; writes.run checks it when it runs.
            if (
                not statements.is_catalog_statement(sql)
                and writes.statement_kind(sql) != writes.UNLOAD
            ):
                dialect.parse(sql)
        except AthenaQueryError as exc:
            raise AwsApiError(
                "InvalidRequestException", str(exc), fields={"AthenaErrorCode": exc.code}
            ) from None
        except ZfishError as exc:
            raise AwsApiError("InvalidRequestException", str(exc)) from None
        context = params.get("QueryExecutionContext") or {}
        database = str(context.get("Database") or DATABASE).lower()
        output = str(
            (params.get("ResultConfiguration") or {}).get("OutputLocation")
            or group["OutputLocation"]
        )
        query_id = str(uuid.uuid4())
        record = {
            "QueryExecutionId": query_id,
            "Query": sql,
            "StatementType": _statement_type(sql),
            "OutputLocation": output.rstrip("/") + f"/{query_id}.csv",
            "Database": database,
            "Catalog": str(context.get("Catalog") or CATALOG),
            "WorkGroup": workgroup,
            "State": "QUEUED",
            "SubmissionDateTime": time.time(),
        }
        with self.executions.lock:
            self.executions.items[query_id] = record
            self.executions.save()
        if token:
            self._tokens[token] = query_id
        self._pool.submit(self._run, query_id)
        return {"QueryExecutionId": query_id}

    def _set(self, query_id: str, **fields: Any) -> None:
        with self.executions.lock:
            self.executions.items[query_id].update(fields)
            self.executions.save()
        with self._changed:
            self._changed.notify_all()

    def _hold(self, query_id: str) -> None:
        """Wait up to HOLD_SECONDS for a queued or running query to end."""
        record = self.executions.items.get(query_id)
        if record is None:
            return
        with self._changed:
            self._changed.wait_for(lambda: record["State"] not in _RUNNING, HOLD_SECONDS)

    def _run(self, query_id: str) -> None:
        record = self.executions.items[query_id]
        if record["State"] == "CANCELLED":
            return
        started = time.time()
        self._set(query_id, State="RUNNING", StartDateTime=started)
        try:
            if writes.statement_kind(record["Query"]) is not None:
                self._run_write(query_id, record, started)
                return
            result = None
            for attempt in range(5):
                try:
                    with self.context.catalog_lock.shared():
                        result = self._answer(record["Query"], record["Database"])
                    break
                except CatalogError:
                    # Another process (a job run's catalog sync) holds the catalog: wait for it.
                    if attempt == 4:
                        raise
                    time.sleep(0.5)
            assert result is not None
            table = result.table
            body = ("\n".join(csv_lines(table)) + "\n").encode()
            target = resolve_location(record["OutputLocation"], self.layout.root)
            atomic_write_bytes(target, body)
            atomic_write_bytes(
                target.with_name(target.name + ".metadata"),
                json.dumps(_column_info(table.schema)).encode(),
            )
            with self._results_lock:
                self._results[query_id] = table
                while len(self._results) > KEEP_RESULTS:
                    self._results.pop(next(iter(self._results)))
            if self.executions.items[query_id]["State"] == "CANCELLED":
                return
            scanned = self._scanned(result.folders)
            done = time.time()
            self._set(
                query_id,
                State="SUCCEEDED",
                CompletionDateTime=done,
                EngineMillis=int(result.seconds * 1000),
                TotalMillis=int((done - record["SubmissionDateTime"]) * 1000),
                QueueMillis=int((started - record["SubmissionDateTime"]) * 1000),
                ScannedBytes=scanned,
                Rows=table.num_rows,
            )
        except Exception as exc:  # a failed query is the query's state; the server keeps serving
            self._failed(query_id, exc)

    def _failed(self, query_id: str, exc: Exception) -> None:
        reason = str(exc)
        code = exc.code if isinstance(exc, AthenaQueryError) else "GENERIC_INTERNAL_ERROR"
        if not isinstance(exc, ZfishError):
            reason = f"GENERIC_INTERNAL_ERROR: {exc}"
        self._set(
            query_id,
            State="FAILED",
            StateChangeReason=reason,
            ErrorCode=code,
            CompletionDateTime=time.time(),
        )

    def _run_write(self, query_id: str, record: dict[str, Any], started: float) -> None:
        """CTAS, UNLOAD or DROP TABLE: files and catalog changes, and Athena's data manifest."""
        output = record["OutputLocation"].rsplit("/", 1)[0]
        lock = self.context.catalog_lock
        result = writes.run(
            self.layout,
            record["Query"],
            database=record["Database"],
            default_location=f"{output}/tables/{query_id}/",
            read_guard=lock.shared,
            write_guard=lock.exclusive,
        )
        fields: dict[str, Any] = {}
        if result.statement != writes.DROP:
            # Athena lists what a CTAS or UNLOAD wrote in a manifest; awswrangler reads it.
            folder = "tables/" if result.statement == writes.CTAS else ""
            manifest = f"{output}/{folder}{query_id}-manifest.csv"
            lines = "".join(self.layout.uri_of(path) + "\n" for path in result.files)
            atomic_write_bytes(resolve_location(manifest, self.layout.root), lines.encode())
            fields["DataManifestLocation"] = manifest
        empty = pa.table({})
        target = resolve_location(record["OutputLocation"], self.layout.root)
        atomic_write_bytes(target, b"")
        atomic_write_bytes(
            target.with_name(target.name + ".metadata"),
            json.dumps(_column_info(empty.schema)).encode(),
        )
        with self._results_lock:
            self._results[query_id] = empty
        done = time.time()
        self._set(
            query_id,
            State="SUCCEEDED",
            CompletionDateTime=done,
            EngineMillis=int((done - started) * 1000),
            TotalMillis=int((done - record["SubmissionDateTime"]) * 1000),
            QueueMillis=int((started - record["SubmissionDateTime"]) * 1000),
            Rows=0,
            UpdateCount=result.rows,
            **fields,
        )

    def _answer(self, sql: str, database: str) -> QueryResult:
        """zfish's engine, or the warm Trino of ``--athena-engine trino`` (SHOW, DESCRIBE: zfish's)."""
        from zfish.catalog import statements

        if self.context.trino is None or statements.is_catalog_statement(sql):
            return run_query(self.layout, sql, database=database)
        from zfish.trino import query as trino_query

        return trino_query.run_query(self.layout, sql, server=self.context.trino)

    def _scanned(self, folders: tuple[Path, ...]) -> int:
        """Bytes of the tables the statement read (Athena reports what it read), Hudi metadata aside.

        Each folder's sum is kept until the folder's mtime changes (objects arrive and
        go by rename, which changes it): the study at hatch rate 500 (88,500 objects)
        took 250 ms of os.scandir and stat in every round trip, a stat per folder now.
        An object rewritten in place outside zfish keeps its old size here until its
        folder changes; the figure is a statistic, never data.
        """
        total = 0
        now = time.time()
        pending = [str(folder) for folder in folders]
        while pending:
            path = pending.pop()
            try:
                mtime_ns = os.stat(path).st_mtime_ns
                hit = self._scan_cache.get(path)
                if hit is not None and hit[0] == mtime_ns:
                    _, size, subfolders = hit
                else:
                    size, subfolders = _folder_bytes(path)
                    if now - mtime_ns / 1e9 > SCAN_RACY_SECONDS:
                        self._scan_cache[path] = (mtime_ns, size, subfolders)
            except OSError:  # a folder removed meanwhile scanned nothing
                continue
            total += size
            pending.extend(subfolders)
        return total

    def _execution(self, query_id: str) -> dict[str, Any]:
        record = self.executions.items.get(query_id)
        if record is None:
            raise AwsApiError("InvalidRequestException", f"QueryExecution {query_id} was not found")
        status: dict[str, Any] = {
            "State": record["State"],
            "SubmissionDateTime": datetime.fromtimestamp(record["SubmissionDateTime"], UTC),
        }
        if record.get("CompletionDateTime"):
            status["CompletionDateTime"] = datetime.fromtimestamp(record["CompletionDateTime"], UTC)
        if record.get("StateChangeReason"):
            status["StateChangeReason"] = record["StateChangeReason"]
        if record["State"] == "FAILED":
            status["AthenaError"] = {
                "ErrorCategory": 2,
                "ErrorType": 1000,
                "Retryable": False,
                "ErrorMessage": record.get("StateChangeReason", ""),
            }
        return {
            "QueryExecutionId": query_id,
            "Query": record["Query"],
            "StatementType": record["StatementType"],
            "ResultConfiguration": {"OutputLocation": record["OutputLocation"]},
            "QueryExecutionContext": {"Database": record["Database"], "Catalog": record["Catalog"]},
            "Status": status,
            "Statistics": {
                **(
                    {"DataManifestLocation": record["DataManifestLocation"]}
                    if record.get("DataManifestLocation")
                    else {}
                ),
                "EngineExecutionTimeInMillis": record.get("EngineMillis", 0),
                "DataScannedInBytes": record.get("ScannedBytes", 0),
                "TotalExecutionTimeInMillis": record.get("TotalMillis", 0),
                "QueryQueueTimeInMillis": record.get("QueueMillis", 0),
            },
            "WorkGroup": record["WorkGroup"],
            "EngineVersion": ENGINE,
        }

    def get_query_execution(self, call: Call) -> dict[str, Any]:
        query_id = str(call.params["QueryExecutionId"])
        self._hold(query_id)
        return {"QueryExecution": self._execution(query_id)}

    def batch_get_query_execution(self, call: Call) -> dict[str, Any]:
        found, missing = [], []
        for query_id in call.params.get("QueryExecutionIds") or []:
            if query_id in self.executions.items:
                found.append(self._execution(query_id))
            else:
                missing.append(
                    {
                        "QueryExecutionId": query_id,
                        "ErrorCode": "INVALID_INPUT",
                        "ErrorMessage": "not found",
                    }
                )
        return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}

    def list_query_executions(self, call: Call) -> dict[str, Any]:
        workgroup = str(call.params.get("WorkGroup") or PRIMARY)
        ids = [
            q
            for q, r in sorted(
                self.executions.items.items(), key=lambda kv: -kv[1]["SubmissionDateTime"]
            )
            if r["WorkGroup"] == workgroup
        ]
        start = token_offset(call, "InvalidRequestException")
        size = min(int(call.params.get("MaxResults") or 50), 50)
        out: dict[str, Any] = {"QueryExecutionIds": ids[start : start + size]}
        if start + size < len(ids):
            out["NextToken"] = offset_token(start + size)
        return out

    def stop_query_execution(self, call: Call) -> dict[str, Any]:
        query_id = str(call.params["QueryExecutionId"])
        self._execution(query_id)
        if self.executions.items[query_id]["State"] in _RUNNING:
            self._set(
                query_id,
                State="CANCELLED",
                StateChangeReason="Query cancelled by user",
                CompletionDateTime=time.time(),
            )
        return {}

    def _table_for(self, query_id: str) -> pa.Table:
        with self._results_lock:
            table = self._results.get(query_id)
        if table is not None:
            return table
        import pyarrow.csv as pacsv

        record = self.executions.items[query_id]
        path = resolve_location(record["OutputLocation"], self.layout.root)
        return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(strings_can_be_null=False))

    def get_query_results(self, call: Call) -> dict[str, Any]:
        query_id = str(call.params["QueryExecutionId"])
        record = self.executions.items.get(query_id)
        if record is None:
            raise AwsApiError("InvalidRequestException", f"QueryExecution {query_id} was not found")
        if record["State"] != "SUCCEEDED":
            reason = (
                record.get("StateChangeReason")
                or f"Query has not yet finished. Current state: {record['State']}"
            )
            raise AwsApiError(
                "InvalidRequestException",
                reason
                if record["State"] == "FAILED"
                else f"Query has not yet finished. Current state: {record['State']}",
            )
        table = self._table_for(query_id)
        size = min(int(call.params.get("MaxResults") or MAX_RESULTS), MAX_RESULTS)
        start = token_offset(call, "InvalidRequestException")
        rows: list[dict[str, Any]] = []
        if start == 0:
            rows.append({"Data": [{"VarCharValue": name} for name in table.column_names]})
            size -= 1
            data_start = 0
        else:
            data_start = start - 1
        chunk = table.slice(data_start, size)
        types = table.schema.types
        for row in chunk.to_pylist():
            rows.append(
                {
                    "Data": [
                        {} if value is None else {"VarCharValue": athena_text(value, kind)}
                        for value, kind in zip(row.values(), types, strict=True)
                    ]
                }
            )
        consumed = data_start + chunk.num_rows
        out: dict[str, Any] = {
            "UpdateCount": record.get("UpdateCount", 0),
            "ResultSet": {
                "Rows": rows,
                "ResultSetMetadata": {"ColumnInfo": _column_info(table.schema)},
            },
        }
        if consumed < table.num_rows:
            out["NextToken"] = offset_token(consumed + 1)
        return out

    def get_query_runtime_statistics(self, call: Call) -> dict[str, Any]:
        query_id = str(call.params["QueryExecutionId"])
        self._execution(query_id)
        record = self.executions.items[query_id]
        return {
            "QueryRuntimeStatistics": {
                "Timeline": {
                    "QueryQueueTimeInMillis": record.get("QueueMillis", 0),
                    "EngineExecutionTimeInMillis": record.get("EngineMillis", 0),
                    "TotalExecutionTimeInMillis": record.get("TotalMillis", 0),
                },
                "Rows": {"OutputRows": record.get("Rows", 0)},
            }
        }

    # -- workgroups and catalogs ----------------------------------------------------------

    def _workgroup(self, name: str) -> dict[str, Any]:
        group = self.workgroups.items.get(name)
        if group is None:
            raise AwsApiError("InvalidRequestException", f"WorkGroup {name} is not found.")
        return {
            "Name": name,
            "State": "ENABLED",
            "Description": group.get("Description", ""),
            "CreationTime": datetime.fromtimestamp(group["CreationTime"], UTC),
            "Configuration": {
                "ResultConfiguration": {"OutputLocation": group["OutputLocation"]},
                "EnforceWorkGroupConfiguration": False,
                "PublishCloudWatchMetricsEnabled": False,
                "RequesterPaysEnabled": False,
                "EngineVersion": ENGINE,
            },
        }

    def get_work_group(self, call: Call) -> dict[str, Any]:
        return {"WorkGroup": self._workgroup(str(call.params["WorkGroup"]))}

    def list_work_groups(self, call: Call) -> dict[str, Any]:
        return {
            "WorkGroups": [
                {
                    "Name": n,
                    "State": "ENABLED",
                    "Description": g.get("Description", ""),
                    "CreationTime": datetime.fromtimestamp(g["CreationTime"], UTC),
                    "EngineVersion": ENGINE,
                }
                for n, g in sorted(self.workgroups.items.items())
            ]
        }

    def create_work_group(self, call: Call) -> dict[str, Any]:
        name = str(call.params["Name"])
        configuration = call.params.get("Configuration") or {}
        output = (configuration.get("ResultConfiguration") or {}).get(
            "OutputLocation"
        ) or f"s3://{self.layout.bucket}/athena-results/{name}/"
        with self.workgroups.lock:
            if name in self.workgroups.items:
                raise AwsApiError("InvalidRequestException", f"WorkGroup {name} is already created")
            self.workgroups.items[name] = {
                "Description": call.params.get("Description", ""),
                "OutputLocation": output,
                "CreationTime": time.time(),
            }
            self.workgroups.save()
        return {}

    def list_data_catalogs(self, call: Call) -> dict[str, Any]:
        return {"DataCatalogsSummary": [{"CatalogName": CATALOG, "Type": "GLUE"}]}

    def _tables(self, call: Call) -> dict[str, catalog.TableEntry]:
        database = str(call.params.get("DatabaseName") or DATABASE).lower()
        with self.context.catalog_lock.shared():
            if database not in catalog.load_databases(self.layout):
                raise AwsApiError("MetadataException", f"Database {database} not found.")
            return catalog.load_tables(self.layout, database)

    def list_databases(self, call: Call) -> dict[str, Any]:
        with self.context.catalog_lock.shared():
            found = catalog.load_databases(self.layout)
        return {
            "DatabaseList": [
                {"Name": d.name, "Description": d.description, "Parameters": d.parameters}
                for d in found.values()
            ]
        }

    def _table_metadata(self, entry: catalog.TableEntry) -> dict[str, Any]:
        return {
            "Name": entry.name,
            "CreateTime": datetime.fromtimestamp(self.layout.catalog_db.stat().st_mtime, UTC),
            "TableType": "EXTERNAL_TABLE",
            "Columns": [{"Name": c.name, "Type": c.glue_type} for c in entry.columns],
            "PartitionKeys": [
                {"Name": k, "Type": catalog.glue_type(entry.key_type(i))}
                for i, k in enumerate(entry.partition_keys)
            ],
            "Parameters": {
                "classification": {
                    catalog.KIND_HUDI: "hudi",
                    catalog.KIND_PARQUET: "parquet",
                }.get(entry.kind, "json"),
                "EXTERNAL": "TRUE",
            },
        }

    def list_table_metadata(self, call: Call) -> dict[str, Any]:
        tables = self._tables(call)
        return {"TableMetadataList": [self._table_metadata(tables[n]) for n in sorted(tables)]}

    def get_table_metadata(self, call: Call) -> dict[str, Any]:
        tables = self._tables(call)
        name = str(call.params["TableName"]).lower()
        if name not in tables:
            raise AwsApiError("MetadataException", f"Table {name} not found.")
        return {"TableMetadata": self._table_metadata(tables[name])}


def service(context: EndpointContext) -> Service:
    athena = Athena(context)
    return Service(
        "athena",
        {
            "StartQueryExecution": athena.start_query_execution,
            "GetQueryExecution": athena.get_query_execution,
            "BatchGetQueryExecution": athena.batch_get_query_execution,
            "ListQueryExecutions": athena.list_query_executions,
            "StopQueryExecution": athena.stop_query_execution,
            "GetQueryResults": athena.get_query_results,
            "GetQueryRuntimeStatistics": athena.get_query_runtime_statistics,
            "GetWorkGroup": athena.get_work_group,
            "ListWorkGroups": athena.list_work_groups,
            "CreateWorkGroup": athena.create_work_group,
            "ListDataCatalogs": athena.list_data_catalogs,
            "ListDatabases": athena.list_databases,
            "ListTableMetadata": athena.list_table_metadata,
            "GetTableMetadata": athena.get_table_metadata,
        },
    )


def _folder_bytes(path: str) -> tuple[int, list[str]]:
    """The bytes of a folder's own files and its subfolders (the Hudi metadata folder aside)."""
    size, subfolders = 0, []
    with os.scandir(path) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != METAFOLDER:
                    subfolders.append(entry.path)
            elif entry.is_file(follow_symlinks=False):
                size += entry.stat(follow_symlinks=False).st_size
    return size, subfolders
