"""The console's WSGI application: routes, the sign-in gate and CSRF check, and one handler per page."""

from __future__ import annotations

import base64
import io
import json
import mimetypes
import re
import sys
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import SqlLexer
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect, send_file
from werkzeug.wrappers import Request, Response

from zfish.aws.console.session import COOKIE, CSRF_FIELD, Session, Sessions

CONSOLE_PREFIX = "/console"
HERE = Path(__file__).parent
REGION = "us-east-1"
# Rows per page of the result grid and of the partitions, as the AWS console pages them.
RESULT_PAGE_ROWS = 50
PARTITION_PAGE = 25
DEFAULT_ROLE = "AWSGlueServiceRole-zebra-fish"
HOODIE = ".hoodie/"
# A completed Hudi instant: <yyyyMMddHHmmssSSS>.commit or .replacecommit (JSON metadata).
_COMPLETED = re.compile(r"^(\d{17})\.(commit|replacecommit)$")
_BUSY_CRAWLER = ("RUNNING", "STOPPING")
_BUSY_QUERY = ("QUEUED", "RUNNING")
_BUSY_JOB = ("STARTING", "RUNNING", "STOPPING", "WAITING")

Handler = Callable[..., Response]


class RefusedError(Exception):
    """A request the console will not carry out, with the reason shown to the user."""


def _split_s3(url: str) -> tuple[str, str]:
    rest = url.split("://", 1)[1] if "://" in url else url
    bucket, _, key = rest.partition("/")
    return bucket, key


def _highlight(sql: str) -> Markup:
    """The query as HTML with Pygments' SQL token classes (escaped by Pygments)."""
    return Markup(highlight(sql, SqlLexer(), HtmlFormatter(nowrap=True)))


def _size(n: int | float) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


class Console:
    """The /console/ application; ``endpoint_url`` fixes where its clients go (else the request's host)."""

    def __init__(self, endpoint_url: str | None = None) -> None:
        self.endpoint_url = endpoint_url
        self.sessions = Sessions()
        # Partitions of each crawler's tables when it was last run from here, to show what it added.
        self._before_run: dict[str, int] = {}
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html"]),
        )
        self.templates.filters["size"] = _size
        self.templates.filters["sql"] = _highlight
        self.templates.globals["sql_css"] = HtmlFormatter().get_style_defs(".sql")
        self.templates.filters["q"] = lambda s: quote(str(s), safe="")
        rules = [
            ("/", "home", ("GET",)),
            ("/login", "login", ("GET", "POST")),
            ("/logout", "logout", ("POST",)),
            ("/static/<name>", "static", ("GET",)),
            ("/catalog", "catalog", ("GET", "POST")),
            ("/catalog/<database>", "tables", ("GET",)),
            ("/catalog/<database>/<table>", "table", ("GET",)),
            ("/crawlers", "crawlers", ("GET", "POST")),
            ("/crawlers/<name>/run", "run_crawler", ("POST",)),
            ("/athena", "athena", ("GET",)),
            ("/athena/run", "run_query", ("POST",)),
            ("/athena/<query_id>/cancel", "cancel_query", ("POST",)),
            ("/athena/<query_id>/csv", "query_csv", ("GET",)),
            ("/jobs", "jobs", ("GET", "POST")),
            ("/jobs/<name>", "job", ("GET",)),
            ("/jobs/<name>/run", "run_job", ("POST",)),
            ("/hudi/<database>/<table>", "hudi", ("GET",)),
            ("/lake", "lake", ("GET",)),
            ("/lake/object", "lake_object", ("GET",)),
            ("/lake/raw", "lake_raw", ("GET",)),
            ("/study", "study", ("GET",)),
        ]
        self.routes = Map(
            [Rule(CONSOLE_PREFIX + path, endpoint=name, methods=m) for path, name, m in rules],
            strict_slashes=False,
        )

    # -- plumbing -----------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = self.routes.bind_to_environ(request.environ)
        try:
            name, args = adapter.match()
        except HTTPException as exc:
            return exc.get_response()
        if name == "static":
            return self.static(request, **args)
        session = self.sessions.find(request.cookies.get(COOKIE))
        fresh = session is None
        if session is None:
            session = self.sessions.new()
        if request.method == "POST" and not session.csrf_ok(request.form.get(CSRF_FIELD)):
            # No form of ours lacks it: this POST came from elsewhere, or an old page.
            response = self._page(
                session,
                "error.html",
                403,
                error="refused: the form's CSRF token is missing "
                "or stale; reload the page and submit it again",
            )
        elif name not in ("login", "logout") and not session.signed_in:
            if request.method == "GET" and not request.path.startswith(
                CONSOLE_PREFIX + "/lake/raw"
            ):
                response = redirect(
                    f"{CONSOLE_PREFIX}/login?{urlencode({'next': request.full_path.rstrip('?')})}",
                    303,
                )
            else:
                response = self._page(
                    session, "error.html", 401, error="refused: sign in with an access key first"
                )
        else:
            try:
                response = getattr(self, name)(request, session, **args)
            except RefusedError as exc:
                response = self._page(session, "error.html", 400, error=str(exc))
            except NotFound as exc:
                response = self._page(session, "error.html", 404, error=exc.description)
            except ClientError as exc:
                response = self._page(session, "error.html", 400, error=self._aws_error(exc))
            except BotoCoreError as exc:
                response = self._page(session, "error.html", 502, error=str(exc))
            except Exception as exc:  # a bug: say so on the page, keep serving, tell the operator
                traceback.print_exc(file=sys.stderr)
                response = self._page(
                    session, "error.html", 500, error=f"the console failed on this page: {exc}"
                )
        if fresh:
            response.set_cookie(
                COOKIE,
                self.sessions.cookie_value(session),
                httponly=True,
                samesite="Strict",
                path=CONSOLE_PREFIX + "/",
            )
        return response

    @staticmethod
    def _aws_error(exc: ClientError) -> str:
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', str(exc))}"

    def _page(self, session: Session, template: str, status: int = 200, **values: Any) -> Response:
        html = self.templates.get_template(template).render(
            prefix=CONSOLE_PREFIX,
            csrf=session.csrf,
            signed_in=session.signed_in,
            access_key=session.access_key,
            **values,
        )
        return Response(html, status=status, mimetype="text/html")

    def client(self, request: Request, session: Session, service: str) -> Any:
        """A boto3 client of this endpoint, signed with the session's key pair."""
        url = self.endpoint_url or request.host_url.rstrip("/")
        return boto3.session.Session().client(
            service,
            endpoint_url=url,
            aws_access_key_id=session.access_key,
            aws_secret_access_key=session.secret_key,
            region_name=REGION,
            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
        )

    def static(self, request: Request, name: str) -> Response:
        path = HERE / "static" / name
        if "/" in name or not path.is_file():
            raise NotFound()
        return send_file(path, request.environ, max_age=300)

    # -- sign-in ------------------------------------------------------------------------

    def home(self, request: Request, session: Session) -> Response:
        return redirect(f"{CONSOLE_PREFIX}/catalog", 303)

    def login(self, request: Request, session: Session) -> Response:
        target = request.values.get("next", "") or f"{CONSOLE_PREFIX}/catalog"
        if not target.startswith(CONSOLE_PREFIX + "/"):
            target = f"{CONSOLE_PREFIX}/catalog"  # never redirect off the console
        if request.method == "GET":
            return self._page(session, "login.html", next=target)
        key = request.form.get("access_key", "").strip()
        secret = request.form.get("secret_key", "")
        if not key or not secret:
            return self._page(
                session,
                "login.html",
                400,
                next=target,
                error="give both the access key id and the secret access key "
                "(zfish serve prints them: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)",
            )
        trial = Session(session.sid, session.csrf, key, secret)
        try:
            self.client(request, trial, "sts").get_caller_identity()
        except ClientError as exc:
            return self._page(
                session,
                "login.html",
                401,
                next=target,
                error=f"refused by the endpoint: {self._aws_error(exc)}",
            )
        session.access_key, session.secret_key = key, secret
        return redirect(target, 303)

    def logout(self, request: Request, session: Session) -> Response:
        self.sessions.drop(session)
        response = redirect(f"{CONSOLE_PREFIX}/login", 303)
        response.delete_cookie(COOKIE, path=CONSOLE_PREFIX + "/")
        return response

    # -- Data Catalog -------------------------------------------------------------------

    def catalog(self, request: Request, session: Session) -> Response:
        glue = self.client(request, session, "glue")
        if request.method == "POST":
            name = request.form.get("name", "").strip()
            if not name:
                raise RefusedError("a database needs a name")
            glue.create_database(
                DatabaseInput={"Name": name, "Description": request.form.get("description", "")}
            )
            return redirect(f"{CONSOLE_PREFIX}/catalog/{quote(name)}", 303)
        databases = glue.get_databases()["DatabaseList"]
        return self._page(session, "catalog.html", databases=databases, page="catalog")

    def tables(self, request: Request, session: Session, database: str) -> Response:
        glue = self.client(request, session, "glue")
        found = glue.get_database(Name=database)["Database"]
        tables = glue.get_tables(DatabaseName=database)["TableList"]
        return self._page(session, "tables.html", database=found, tables=tables, page="catalog")

    def table(self, request: Request, session: Session, database: str, table: str) -> Response:
        glue = self.client(request, session, "glue")
        found = glue.get_table(DatabaseName=database, Name=table)["Table"]
        args: dict[str, Any] = {
            "DatabaseName": database,
            "TableName": table,
            "MaxResults": PARTITION_PAGE,
        }
        token = request.args.get("token")
        if token:
            args["NextToken"] = token
        partitions = glue.get_partitions(**args)
        versions = glue.get_table_versions(DatabaseName=database, TableName=table).get(
            "TableVersions", []
        )
        is_hudi = "hudi" in str(found.get("StorageDescriptor", {}).get("InputFormat", "")).lower()
        return self._page(
            session,
            "table.html",
            database=database,
            table=found,
            page="catalog",
            partitions=partitions.get("Partitions", []),
            next_token=partitions.get("NextToken"),
            versions=_version_changes(versions),
            is_hudi=is_hudi,
        )

    # -- Crawlers -----------------------------------------------------------------------

    def crawlers(self, request: Request, session: Session) -> Response:
        glue = self.client(request, session, "glue")
        if request.method == "POST":
            form = request.form
            name, path = form.get("name", "").strip(), form.get("path", "").strip()
            database = form.get("database", "").strip()
            if not (name and path.startswith("s3://") and database):
                raise RefusedError("a crawler needs a name, an s3:// path and a database")
            glue.create_crawler(
                Name=name,
                Role=form.get("role", "").strip() or DEFAULT_ROLE,
                DatabaseName=database,
                Targets={"S3Targets": [{"Path": path}]},
                SchemaChangePolicy={
                    "UpdateBehavior": form.get("update", "UPDATE_IN_DATABASE"),
                    "DeleteBehavior": form.get("delete", "DEPRECATE_IN_DATABASE"),
                },
            )
            return redirect(f"{CONSOLE_PREFIX}/crawlers", 303)
        crawlers = glue.get_crawlers()["Crawlers"]
        metrics = {
            m["CrawlerName"]: m for m in glue.get_crawler_metrics().get("CrawlerMetricsList", [])
        }
        databases = [d["Name"] for d in glue.get_databases()["DatabaseList"]]
        busy = any(c.get("State") in _BUSY_CRAWLER for c in crawlers)
        partitions = {
            c["Name"]: _crawled_partitions(glue, c) for c in crawlers if c.get("State") == "READY"
        }
        added = {
            name: count - self._before_run[name]
            for name, count in partitions.items()
            if name in self._before_run
        }
        return self._page(
            session,
            "crawlers.html",
            crawlers=crawlers,
            metrics=metrics,
            databases=databases,
            busy=busy,
            page="crawlers",
            partitions=partitions,
            added=added,
        )

    def run_crawler(self, request: Request, session: Session, name: str) -> Response:
        glue = self.client(request, session, "glue")
        before = _crawled_partitions(glue, glue.get_crawler(Name=name)["Crawler"])
        glue.start_crawler(Name=name)
        self._before_run[name] = before
        return redirect(f"{CONSOLE_PREFIX}/crawlers", 303)

    # -- Athena -------------------------------------------------------------------------

    def athena(self, request: Request, session: Session) -> Response:
        athena = self.client(request, session, "athena")
        databases = [
            d["Name"] for d in athena.list_databases(CatalogName="AwsDataCatalog")["DatabaseList"]
        ]
        query_id = request.args.get("id", "")
        sql = request.args.get("sql", "")
        database = request.args.get("db", "") or (databases[0] if databases else "")
        execution: dict[str, Any] | None = None
        results: dict[str, Any] = {}
        if query_id:
            execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            sql = sql or execution["Query"]
            database = execution.get("QueryExecutionContext", {}).get("Database", database)
            if execution["Status"]["State"] == "SUCCEEDED":
                args: dict[str, Any] = {
                    "QueryExecutionId": query_id,
                    "MaxResults": RESULT_PAGE_ROWS + 1,
                }
                token = request.args.get("token")
                if token:
                    args["NextToken"] = token
                    args["MaxResults"] = RESULT_PAGE_ROWS
                page = athena.get_query_results(**args)
                rows = [
                    [cell.get("VarCharValue", "") for cell in row["Data"]]
                    for row in page["ResultSet"]["Rows"]
                ]
                columns = [c["Name"] for c in page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
                if not token and rows and rows[0] == columns:
                    rows = rows[1:]  # the first page opens with the header row, as in Athena
                start = int(request.args.get("start", "0") or 0)
                results = {
                    "columns": columns,
                    "rows": rows,
                    "next": page.get("NextToken"),
                    "start": start,
                    "next_start": start + len(rows),
                }
        ids = athena.list_query_executions(MaxResults=20).get("QueryExecutionIds", [])
        history = (
            athena.batch_get_query_execution(QueryExecutionIds=ids)["QueryExecutions"]
            if ids
            else []
        )
        history.sort(key=lambda e: e["Status"].get("SubmissionDateTime"), reverse=True)
        busy = execution is not None and execution["Status"]["State"] in _BUSY_QUERY
        return self._page(
            session,
            "athena.html",
            page="athena",
            databases=databases,
            database=database,
            sql=sql,
            execution=execution,
            results=results,
            history=history,
            busy=busy,
        )

    def run_query(self, request: Request, session: Session) -> Response:
        sql, database = request.form.get("sql", ""), request.form.get("db", "")
        if not sql.strip():
            raise RefusedError("write a query first")
        args: dict[str, Any] = {"QueryString": sql, "WorkGroup": "primary"}
        if database:
            args["QueryExecutionContext"] = {"Database": database, "Catalog": "AwsDataCatalog"}
        query_id = self.client(request, session, "athena").start_query_execution(**args)[
            "QueryExecutionId"
        ]
        return redirect(f"{CONSOLE_PREFIX}/athena?{urlencode({'id': query_id})}", 303)

    def cancel_query(self, request: Request, session: Session, query_id: str) -> Response:
        self.client(request, session, "athena").stop_query_execution(QueryExecutionId=query_id)
        return redirect(f"{CONSOLE_PREFIX}/athena?{urlencode({'id': query_id})}", 303)

    def query_csv(self, request: Request, session: Session, query_id: str) -> Response:
        """The result file in the output location, through S3 GetObject, as a download."""
        execution = self.client(request, session, "athena").get_query_execution(
            QueryExecutionId=query_id
        )["QueryExecution"]
        bucket, key = _split_s3(execution["ResultConfiguration"]["OutputLocation"])
        body = self.client(request, session, "s3").get_object(Bucket=bucket, Key=key)["Body"]
        response = Response(body.read(), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="{query_id}.csv"'
        return response

    # -- Jobs ---------------------------------------------------------------------------

    def jobs(self, request: Request, session: Session) -> Response:
        glue = self.client(request, session, "glue")
        if request.method == "POST":
            form = request.form
            name, script = form.get("name", "").strip(), form.get("script", "").strip()
            if not (name and script.startswith("s3://")):
                raise RefusedError("a job needs a name and its script's s3:// location")
            glue.create_job(
                Name=name,
                Role=form.get("role", "").strip() or DEFAULT_ROLE,
                GlueVersion="5.0",
                Command={"Name": "glueetl", "ScriptLocation": script, "PythonVersion": "3"},
                DefaultArguments={"--datalake-formats": "hudi"},
            )
            return redirect(f"{CONSOLE_PREFIX}/jobs/{quote(name)}", 303)
        jobs = glue.get_jobs()["Jobs"]
        last = {}
        for job in jobs:
            runs = glue.get_job_runs(JobName=job["Name"], MaxResults=1).get("JobRuns", [])
            last[job["Name"]] = runs[0] if runs else None
        return self._page(session, "jobs.html", page="jobs", jobs=jobs, last=last)

    def job(self, request: Request, session: Session, name: str) -> Response:
        glue = self.client(request, session, "glue")
        job = glue.get_job(JobName=name)["Job"]
        runs = glue.get_job_runs(JobName=name).get("JobRuns", [])
        busy = any(r.get("JobRunState") in _BUSY_JOB for r in runs)
        return self._page(session, "job.html", page="jobs", job=job, runs=runs, busy=busy)

    def run_job(self, request: Request, session: Session, name: str) -> Response:
        arguments = {}
        end = request.form.get("end_date", "").strip()
        if end:
            arguments["--END_DATE"] = end
        self.client(request, session, "glue").start_job_run(JobName=name, Arguments=arguments)
        return redirect(f"{CONSOLE_PREFIX}/jobs/{quote(name)}", 303)

    # -- Hudi table ---------------------------------------------------------------------

    def hudi(self, request: Request, session: Session, database: str, table: str) -> Response:
        """The timeline from the table's .hoodie/ instant files, read with S3 GetObject."""
        found = self.client(request, session, "glue").get_table(DatabaseName=database, Name=table)[
            "Table"
        ]
        bucket, key = _split_s3(found["StorageDescriptor"]["Location"])
        prefix = key.rstrip("/") + "/" + HOODIE
        s3 = self.client(request, session, "s3")
        names: list[str] = []
        for listing in s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, Delimiter="/"
        ):
            names.extend(o["Key"][len(prefix) :] for o in listing.get("Contents", []))
        commits = []
        groups: dict[str, set[str]] = {}
        for name in sorted(names):
            match = _COMPLETED.match(name)
            if not match:
                continue
            text = s3.get_object(Bucket=bucket, Key=prefix + name)["Body"].read()
            meta = json.loads(text) if text.strip() else {}
            stats = [s for ss in (meta.get("partitionToWriteStats") or {}).values() for s in ss]
            for partition, ss in (meta.get("partitionToWriteStats") or {}).items():
                groups.setdefault(partition, set()).update(s.get("fileId", "") for s in ss)
            extra = meta.get("extraMetadata") or {}
            commits.append(
                {
                    "instant": match.group(1),
                    "action": match.group(2),
                    "evening": extra.get("zfish.etl.end_date", ""),
                    "inserted": sum(int(s.get("numInserts") or 0) for s in stats),
                    "updated": sum(int(s.get("numUpdateWrites") or 0) for s in stats),
                    "files": len(stats),
                }
            )
        return self._page(
            session,
            "hudi.html",
            page="catalog",
            database=database,
            table=table,
            location=found["StorageDescriptor"]["Location"],
            commits=commits,
            groups={p: len(ids) for p, ids in sorted(groups.items())},
        )

    # -- Lake browser -------------------------------------------------------------------

    def lake(self, request: Request, session: Session) -> Response:
        s3 = self.client(request, session, "s3")
        bucket = request.args.get("bucket", "")
        if not bucket:
            buckets = s3.list_buckets().get("Buckets", [])
            return self._page(session, "lake.html", page="lake", buckets=buckets, bucket="")
        prefix = request.args.get("prefix", "")
        args: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "Delimiter": "/"}
        token = request.args.get("token")
        if token:
            args["ContinuationToken"] = token
        listing = s3.list_objects_v2(**args)
        objects = listing.get("Contents", [])
        images = [o["Key"] for o in objects if o["Key"].endswith(".png")]
        return self._page(
            session,
            "lake.html",
            page="lake",
            bucket=bucket,
            s3_prefix=prefix,
            folders=[p["Prefix"] for p in listing.get("CommonPrefixes", [])],
            objects=objects,
            images=images,
            next_token=listing.get("NextContinuationToken"),
            parent=prefix.rstrip("/").rpartition("/")[0] + "/" if "/" in prefix.rstrip("/") else "",
        )

    def lake_object(self, request: Request, session: Session) -> Response:
        bucket, key = request.args.get("bucket", ""), request.args.get("key", "")
        s3 = self.client(request, session, "s3")
        head = s3.head_object(Bucket=bucket, Key=key)
        preview = ""
        if key.endswith(".json") or "json" in head.get("ContentType", ""):
            text = s3.get_object(Bucket=bucket, Key=key)["Body"].read(256 * 1024)
            try:
                preview = json.dumps(json.loads(text), indent=2)
            except ValueError:
                # JSON Lines: one document a line.
                preview = "\n".join(
                    json.dumps(json.loads(line), indent=2) for line in text.splitlines() if line
                )
        return self._page(
            session,
            "object.html",
            page="lake",
            bucket=bucket,
            key=key,
            head=head,
            preview=preview,
            image=key.endswith(".png"),
        )

    def lake_raw(self, request: Request, session: Session) -> Response:
        bucket, key = request.args.get("bucket", ""), request.args.get("key", "")
        got = self.client(request, session, "s3").get_object(Bucket=bucket, Key=key)
        kind = got.get("ContentType") or ""
        if kind in ("", "binary/octet-stream", "application/octet-stream"):
            # An object put without a type (zfish upload, aws s3 cp of a .png): name it by its key.
            kind = mimetypes.guess_type(key)[0] or "application/octet-stream"
        return Response(got["Body"].read(), mimetype=kind)

    # -- Study at a glance --------------------------------------------------------------

    def study(self, request: Request, session: Session) -> Response:
        """Per day: observations, outcomes and joined rows through Athena, drawn by zfish.ml.plots."""
        import pandas as pd

        from zfish.ml.plots import counts_per_day

        database = request.args.get("db", "zebra_fish_demo")
        athena = self.client(request, session, "athena")
        tables = {
            t["Name"]
            for t in athena.list_table_metadata(
                CatalogName="AwsDataCatalog", DatabaseName=database
            )["TableMetadataList"]
        }
        columns: dict[str, dict[str, int]] = {}
        errors = []
        for name, column in (
            ("observations", "observations"),
            ("outcomes", "outcomes"),
            ("joined_fish_data", "joined_rows"),
        ):
            if name not in tables:
                continue
            sql = f'SELECT CAST(day AS varchar), count(*) FROM "{database}"."{name}" GROUP BY 1'
            rows, error = _run_to_rows(athena, sql, database)
            if error:
                errors.append(f"{name}: {error}")
            columns[column] = {r[0]: int(r[1]) for r in rows}
        image = ""
        if columns.get("observations"):
            frame = pd.DataFrame(columns).fillna(0).sort_index()
            buffer = io.BytesIO()
            counts_per_day(frame).savefig(buffer, format="png", dpi=80)
            image = base64.b64encode(buffer.getvalue()).decode()
        return self._page(
            session,
            "study.html",
            page="study",
            database=database,
            image=image,
            errors=errors,
            columns=columns,
        )


def _crawled_partitions(glue: Any, crawler: dict[str, Any]) -> int:
    """The partitions of the tables under a crawler's S3 paths, through GetTables and GetPartitions."""
    paths = [t["Path"].rstrip("/") + "/" for t in crawler.get("Targets", {}).get("S3Targets", [])]
    database = crawler.get("DatabaseName", "")
    try:
        tables = glue.get_tables(DatabaseName=database)["TableList"]
    except ClientError:
        return 0  # its database is gone or not made yet: nothing crawled
    total = 0
    for table in tables:
        location = table.get("StorageDescriptor", {}).get("Location", "").rstrip("/") + "/"
        if any(location.startswith(path) for path in paths):
            for page in glue.get_paginator("get_partitions").paginate(
                DatabaseName=database, TableName=table["Name"]
            ):
                total += len(page.get("Partitions", []))
    return total


def _run_to_rows(athena: Any, sql: str, database: str) -> tuple[list[list[str]], str]:
    import time

    query_id = athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": database}
    )["QueryExecutionId"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        if status["State"] not in _BUSY_QUERY:
            break
        time.sleep(0.1)
    if status["State"] != "SUCCEEDED":
        return [], status.get("StateChangeReason", status["State"])
    rows: list[list[str]] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        rows.extend(
            [c.get("VarCharValue", "") for c in r["Data"]] for r in page["ResultSet"]["Rows"]
        )
    return rows[1:], ""


def _version_changes(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each table version with the columns added and removed since the one before it."""
    ordered = sorted(versions, key=lambda v: int(v.get("VersionId", 0)))
    out = []
    previous: set[str] = set()
    for index, version in enumerate(ordered):
        table = version.get("Table", {})
        cols = {
            f"{c['Name']} {c.get('Type', '')}"
            for c in table.get("StorageDescriptor", {}).get("Columns", [])
            + table.get("PartitionKeys", [])
        }
        out.append(
            {
                "id": version.get("VersionId"),
                "updated": table.get("UpdateTime"),
                "added": sorted(cols - previous) if index else [],
                "removed": sorted(previous - cols),
            }
        )
        previous = cols
    return list(reversed(out))
