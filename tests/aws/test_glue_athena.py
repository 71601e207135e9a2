"""The Glue Data Catalog and Athena on the endpoint, through boto3, PyAthena and awswrangler."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws.conftest import (
    KEY,
    REGION,
    SECRET,
    Live,
    athena_query,
    crawled_lake_server,
    start_in_thread,
)
from zfish.catalog import crawler
from zfish.catalog.query import run_query
from zfish.lake.upload import upload
from zfish.settings import LakeLayout

DB = "zebra_fish_demo"


@pytest.fixture(scope="module")
def lake(default_study: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A crawled lake (data up to 2025-05-10) behind a live endpoint, shared by this module's readers."""
    with crawled_lake_server(
        default_study, tmp_path_factory.mktemp("glue-athena") / "lake"
    ) as live:
        yield live


def _code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def _athena(live: Live, sql: str) -> tuple[str, dict[str, Any]]:
    return athena_query(live, sql, DB, polls=600)


def test_tables_and_partitions_as_a_crawler_registers_them(lake: Live) -> None:
    glue = lake.client("glue")
    assert [d["Name"] for d in glue.get_databases()["DatabaseList"]] == [DB]
    tables = [
        t
        for page in glue.get_paginator("get_tables").paginate(DatabaseName=DB)
        for t in page["TableList"]
    ]
    assert sorted(t["Name"] for t in tables) == ["observations", "outcomes"]
    observations = glue.get_table(DatabaseName=DB, Name="observations")["Table"]
    descriptor = observations["StorageDescriptor"]
    assert descriptor["Location"] == "s3://my-data-bucket/use-cases/fish-demo/observations/"
    assert descriptor["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert observations["Parameters"]["classification"] == "json"
    assert observations["PartitionKeys"] == [{"Name": "day", "Type": "string"}]
    names = {c["Name"]: c["Type"] for c in descriptor["Columns"]}
    assert names["length_mm"] == "double"
    assert names["genetic_markers"].startswith("struct<")
    pages = glue.get_paginator("get_partitions").paginate(
        DatabaseName=DB,
        TableName="observations",
        Expression="day >= '2025-05-01' AND day < '2025-05-10'",
        PaginationConfig={"PageSize": 4},
    )
    days = [p["Values"][0] for page in pages for p in page["Partitions"]]
    assert days == [f"2025-05-0{d}" for d in range(1, 10)]
    every = [
        p["Values"][0]
        for page in glue.get_paginator("get_partitions").paginate(
            DatabaseName=DB, TableName="observations"
        )
        for p in page["Partitions"]
    ]
    on_disk = sorted(
        p.name.removeprefix("day=") for p in (lake.layout.dataset / "observations").iterdir()
    )
    assert every == on_disk


def test_glue_errors_carry_glues_exception_names(lake: Live) -> None:
    glue = lake.client("glue")
    with pytest.raises(ClientError) as no_db:
        glue.get_tables(DatabaseName="nope")
    assert _code(no_db) == "EntityNotFoundException"
    with pytest.raises(ClientError) as no_table:
        glue.get_table(DatabaseName=DB, Name="nope")
    assert _code(no_table) == "EntityNotFoundException"
    glue.create_database(DatabaseInput={"Name": "scratch_db"})
    with pytest.raises(ClientError) as exists:
        glue.create_database(DatabaseInput={"Name": "scratch_db"})
    assert _code(exists) == "AlreadyExistsException"


def test_athena_results_have_the_header_row_and_athenas_types(lake: Live) -> None:
    query_id, execution = _athena(lake, 'SELECT * FROM "zebra_fish_demo"."observations" limit 10;')
    assert execution["Status"]["State"] == "SUCCEEDED"
    assert execution["Statistics"]["DataScannedInBytes"] > 0
    result = lake.client("athena").get_query_results(QueryExecutionId=query_id)
    rows = result["ResultSet"]["Rows"]
    info = result["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert len(rows) == 11
    assert [d["VarCharValue"] for d in rows[0]["Data"]] == [c["Name"] for c in info]
    types = {c["Name"]: c["Type"] for c in info}
    assert types["length_mm"] == "double"
    assert types["genetic_markers"] == "row"
    assert types["day"] == "varchar"
    # The result CSV is where the output location says, readable through S3.
    location = execution["ResultConfiguration"]["OutputLocation"]
    bucket, _, key = location.removeprefix("s3://").partition("/")
    csv = lake.client().get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert csv.splitlines()[0] == ",".join(f'"{c["Name"]}"' for c in info)
    assert len(csv.splitlines()) == 11


def test_get_query_results_paginates_over_more_than_1000_rows(lake: Live) -> None:
    query_id, execution = _athena(
        lake,
        'SELECT o.image_id, t.n FROM "zebra_fish_demo"."observations" o CROSS JOIN (VALUES 1, 2, 3) AS t(n)',
    )
    assert execution["Status"]["State"] == "SUCCEEDED"
    pages = (
        lake.client("athena").get_paginator("get_query_results").paginate(QueryExecutionId=query_id)
    )
    rows = [r for page in pages for r in page["ResultSet"]["Rows"]]
    assert len(rows) == 1 + 3 * 540
    pairs = {(r["Data"][0]["VarCharValue"], r["Data"][1]["VarCharValue"]) for r in rows[1:]}
    assert len(pairs) == 3 * 540


def test_athena_errors(lake: Live) -> None:
    athena = lake.client("athena")
    with pytest.raises(ClientError) as syntax:
        athena.start_query_execution(QueryString="SELEC * FROM observations")
    assert _code(syntax) == "InvalidRequestException"
    _, missing = _athena(lake, 'SELECT * FROM "zebra_fish_demo"."x"')
    assert missing["Status"]["State"] == "FAILED"
    assert missing["Status"]["StateChangeReason"].startswith(
        "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.zebra_fish_demo.x' does not exist"
    )
    query_id, done = _athena(lake, "SELECT 1 AS one")
    assert done["Status"]["State"] == "SUCCEEDED"
    with pytest.raises(ClientError) as bad_token:
        athena.get_query_results(QueryExecutionId=query_id, NextToken="not-a-token")
    assert _code(bad_token) == "InvalidRequestException"
    with pytest.raises(ClientError) as bad_glue_token:
        lake.client("glue").get_tables(DatabaseName=DB, NextToken="not-a-token")
    assert _code(bad_glue_token) == "InvalidInputException"
    with pytest.raises(ClientError) as not_ready:
        athena.get_query_results(QueryExecutionId="00000000-0000-0000-0000-000000000000")
    assert _code(not_ready) == "InvalidRequestException"


def test_a_table_whose_files_were_deleted_reads_as_athena_reads_it(
    default_study: Path, tmp_path: Path
) -> None:
    """Athena lists a partition's files when it reads them: gone files are no rows, not stale ones."""
    layout = LakeLayout(root=tmp_path / "lake")
    upload(default_study, layout, date(2025, 5, 10), show_progress=False)
    crawler.crawl(layout)
    running = start_in_thread(layout.root)
    try:
        live = Live(running.url, running.context.layout, tmp_path)
        shutil.rmtree(layout.dataset / "observations")
        query_id, after = _athena(live, 'SELECT count(*) FROM "zebra_fish_demo"."observations"')
        assert after["Status"]["State"] == "SUCCEEDED"
        rows = live.client("athena").get_query_results(QueryExecutionId=query_id)["ResultSet"][
            "Rows"
        ]
        assert rows[1]["Data"][0]["VarCharValue"] == "0"
        _, fine = _athena(live, 'SELECT count(*) FROM "zebra_fish_demo"."outcomes"')
        assert fine["Status"]["State"] == "SUCCEEDED"
    finally:
        running.stop()


def test_fifty_concurrent_queries_from_eight_clients(lake: Live) -> None:
    expected = (
        run_query(
            lake.layout,
            'SELECT count(*) AS n FROM "zebra_fish_demo"."observations" WHERE day <= \'2025-04-20\'',
        )
        .table.column("n")[0]
        .as_py()
    )

    def one(i: int) -> str:
        query_id, execution = _athena(
            lake,
            f'SELECT count(*) AS n, {i} AS i FROM "zebra_fish_demo"."observations" WHERE day <= \'2025-04-20\'',
        )
        assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
        rows = lake.client("athena").get_query_results(QueryExecutionId=query_id)["ResultSet"][
            "Rows"
        ]
        assert rows[1]["Data"][1]["VarCharValue"] == str(i)
        return str(rows[1]["Data"][0]["VarCharValue"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(one, range(50)))
    assert counts == [str(expected)] * 50


SQL = 'SELECT image_id, fish_id, length_mm, day FROM "zebra_fish_demo"."observations" WHERE day < \'2025-04-05\' ORDER BY image_id'


def _zfish_rows(live: Live) -> list[tuple[Any, ...]]:
    return [tuple(r.values()) for r in run_query(live.layout, SQL).table.to_pylist()]


def test_pyathena_cursor_sqlalchemy_and_pandas_cursor(
    lake: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyathena = pytest.importorskip("pyathena")
    import pandas as pd
    import sqlalchemy
    from pyathena.pandas.cursor import PandasCursor

    monkeypatch.setenv("AWS_ENDPOINT_URL", lake.url)
    options = {
        "aws_access_key_id": KEY,
        "aws_secret_access_key": SECRET,
        "region_name": REGION,
        "s3_staging_dir": "s3://my-data-bucket/athena-results/",
        "schema_name": DB,
    }
    expected = _zfish_rows(lake)
    assert len(expected) > 10
    with pyathena.connect(**options).cursor() as cursor:
        cursor.execute(SQL)
        assert [tuple(r) for r in cursor.fetchall()] == expected
        assert [d[1] for d in cursor.description] == ["varchar", "varchar", "double", "varchar"]
    with pyathena.connect(cursor_class=PandasCursor, **options).cursor() as cursor:
        frame = cursor.execute(SQL).as_pandas()
        assert [tuple(r) for r in frame.itertuples(index=False)] == expected
    engine = sqlalchemy.create_engine(
        f"awsathena+rest://{KEY}:{SECRET}@athena.{REGION}.amazonaws.com:443/{DB}"
        "?s3_staging_dir=s3%3A%2F%2Fmy-data-bucket%2Fathena-results%2F"
    )
    with engine.connect() as connection:
        frame = pd.read_sql(sqlalchemy.text(SQL), connection)
    assert [tuple(r) for r in frame.itertuples(index=False)] == expected


def test_awswrangler_athena_and_catalog(lake: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    wr = pytest.importorskip("awswrangler")
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", lake.url)
    session = boto3.Session(aws_access_key_id=KEY, aws_secret_access_key=SECRET, region_name=REGION)
    assert DB in list(wr.catalog.databases(boto3_session=session)["Database"])
    assert sorted(wr.catalog.tables(database=DB, boto3_session=session)["Table"]) == [
        "observations",
        "outcomes",
    ]
    assert "length_mm" in list(
        wr.catalog.table(database=DB, table="observations", boto3_session=session)["Column Name"]
    )
    partitions = wr.catalog.get_partitions(database=DB, table="observations", boto3_session=session)
    assert len(partitions) == len(list((lake.layout.dataset / "observations").iterdir()))
    frame = wr.athena.read_sql_query(SQL, database=DB, ctas_approach=False, boto3_session=session)
    assert [tuple(r) for r in frame.itertuples(index=False)] == _zfish_rows(lake)


def test_a_job_already_running_refuses_another_run(
    lake: Live, hudi_bundle: Path, tmp_path: Path
) -> None:
    """MaxConcurrentRuns 1 (Glue's default): a second StartJobRun is ConcurrentRunsExceededException."""
    glue = lake.client("glue")
    script = tmp_path / "wait.py"
    script.write_text("import time\ntime.sleep(120)\n")
    lake.client().upload_file(str(script), "my-data-bucket", "scripts/wait.py")
    glue.create_job(
        Name="waiting",
        Role="arn:aws:iam::000000000000:role/zfish",
        Command={"Name": "glueetl", "ScriptLocation": "s3://my-data-bucket/scripts/wait.py"},
    )
    first = glue.start_job_run(JobName="waiting")["JobRunId"]
    try:
        with pytest.raises(ClientError) as second:
            glue.start_job_run(JobName="waiting")
        assert _code(second) == "ConcurrentRunsExceededException"
    finally:
        stopped = glue.batch_stop_job_run(JobName="waiting", JobRunIds=[first])
        assert stopped["SuccessfulSubmissions"] == [{"JobName": "waiting", "JobRunId": first}]
    for _ in range(600):
        state = glue.get_job_run(JobName="waiting", RunId=first)["JobRun"]["JobRunState"]
        if state not in ("STARTING", "RUNNING", "STOPPING"):
            break
        time.sleep(0.1)
    assert state == "STOPPED"
    runs = glue.get_job_runs(JobName="waiting")["JobRuns"]
    assert [r["Id"] for r in runs] == [first]


def test_files_deleted_while_a_query_reads_them_fail_it_and_the_server_serves_on(
    lake: Live, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The files are listed, then deleted before they are read: the query FAILS, saying so."""
    from zfish.catalog import glue as catalog

    copy = tmp_path / "outcomes"
    shutil.copytree(lake.layout.dataset / "outcomes", copy)
    listed = catalog.json_read_sql

    def list_then_delete(layout: LakeLayout, entry: catalog.TableEntry) -> str | None:
        sql = listed(layout, entry)
        if entry.name == "outcomes":
            for path in (layout.dataset / "outcomes").rglob("*.json"):
                path.unlink()
        return sql

    monkeypatch.setattr(catalog, "json_read_sql", list_then_delete)
    try:
        _, failed = _athena(lake, 'SELECT count(*) FROM "zebra_fish_demo"."outcomes"')
    finally:
        monkeypatch.undo()
        shutil.rmtree(lake.layout.dataset / "outcomes")
        shutil.copytree(copy, lake.layout.dataset / "outcomes")
    assert failed["Status"]["State"] == "FAILED"
    reason = failed["Status"]["StateChangeReason"]
    assert reason.startswith("HIVE_FILE_NOT_FOUND"), reason
    assert "outcomes" in reason
    query_id, after = _athena(lake, 'SELECT count(*) FROM "zebra_fish_demo"."outcomes"')
    assert after["Status"]["State"] == "SUCCEEDED"
    rows = lake.client("athena").get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
    assert rows[1]["Data"][0]["VarCharValue"] == "20"
