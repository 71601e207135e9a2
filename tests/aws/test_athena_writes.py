"""Writes that Athena clients make by default: CTAS, UNLOAD, DROP TABLE, and Glue's table and partition calls."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws.conftest import KEY, REGION, SECRET, Live, athena_query, crawled_lake_server
from zfish.catalog import glue as catalog
from zfish.catalog.query import run_query

DB = "zebra_fish_demo"
SQL = (
    'SELECT image_id, fish_id, length_mm, genetic_markers, day FROM "zebra_fish_demo"."observations" '
    "WHERE day < '2025-04-12' ORDER BY image_id"
)


@pytest.fixture(scope="module")
def lake(default_study: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with crawled_lake_server(
        default_study, tmp_path_factory.mktemp("athena-writes") / "lake"
    ) as live:
        yield live


@pytest.fixture
def session(lake: Live, monkeypatch: pytest.MonkeyPatch) -> Any:
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", lake.url)
    return boto3.Session(aws_access_key_id=KEY, aws_secret_access_key=SECRET, region_name=REGION)


def _athena(live: Live, sql: str, database: str = DB) -> dict[str, Any]:
    return athena_query(live, sql, database, polls=1200)[1]


def _rows(live: Live, sql: str, database: str = DB) -> list[tuple[Any, ...]]:
    return [
        tuple(r.values()) for r in run_query(live.layout, sql, database=database).table.to_pylist()
    ]


def _frame_rows(frame: Any) -> list[tuple[Any, ...]]:
    out = []
    for row in frame.itertuples(index=False):
        values = []
        for value in row:
            # awswrangler gives structs as dicts; zfish's engine as dicts too.
            values.append(dict(value) if isinstance(value, dict) else value)
        out.append(tuple(values))
    return out


def test_wrangler_ctas_and_unload_approaches_equal_zfish_query(lake: Live, session: Any) -> None:
    wr = pytest.importorskip("awswrangler")
    expected = _rows(lake, SQL)
    assert len(expected) > 50
    ctas = wr.athena.read_sql_query(SQL, database=DB, ctas_approach=True, boto3_session=session)
    assert _frame_rows(ctas) == expected
    assert list(ctas.columns) == ["image_id", "fish_id", "length_mm", "genetic_markers", "day"]
    unload = wr.athena.read_sql_query(
        SQL,
        database=DB,
        ctas_approach=False,
        unload_approach=True,
        s3_output="s3://my-data-bucket/athena-results/unload-test/",
        boto3_session=session,
    )
    assert _frame_rows(unload) == expected
    # The CTAS's temporary table was deleted again (through Glue's DeleteTable).
    assert sorted(catalog.load_tables(lake.layout)) == ["observations", "outcomes"]


def test_ctas_creates_a_partitioned_parquet_table_that_every_reader_sees(lake: Live) -> None:
    glue = lake.client("glue")
    glue.create_database(DatabaseInput={"Name": "scratch"})
    created = _athena(
        lake,
        "CREATE TABLE scratch.early_fish WITH (format = 'PARQUET', "
        "external_location = 's3://my-data-bucket/scratch/early_fish/', "
        "partitioned_by = ARRAY['day']) AS "
        "SELECT image_id, length_mm, day FROM observations WHERE day < '2025-04-05'",
    )
    assert created["Status"]["State"] == "SUCCEEDED", created["Status"]
    assert created["StatementType"] == "DDL"
    manifest = created["Statistics"]["DataManifestLocation"]
    assert manifest.endswith("-manifest.csv")
    bucket, _, key = manifest.removeprefix("s3://").partition("/")
    listed = lake.client().get_object(Bucket=bucket, Key=key)["Body"].read().decode().split()
    assert listed
    assert all(u.startswith("s3://my-data-bucket/scratch/early_fish/day=") for u in listed)
    source = _rows(
        lake,
        "SELECT day, count(*), sum(length_mm) FROM observations WHERE day < '2025-04-05' "
        "GROUP BY day ORDER BY day",
    )
    copied = _rows(
        lake,
        "SELECT day, count(*), sum(length_mm) FROM early_fish GROUP BY day ORDER BY day",
        database="scratch",
    )
    assert copied == source
    assert len(source) == 3
    table = glue.get_table(DatabaseName="scratch", Name="early_fish")["Table"]
    assert table["StorageDescriptor"]["Location"] == "s3://my-data-bucket/scratch/early_fish/"
    assert "Parquet" in table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
    assert table["PartitionKeys"] == [{"Name": "day", "Type": "string"}]
    partitions = glue.get_partitions(DatabaseName="scratch", TableName="early_fish")["Partitions"]
    assert sorted(p["Values"][0] for p in partitions) == [r[0] for r in source]
    # Again: Athena's errors, nothing changed.
    again = _athena(
        lake,
        "CREATE TABLE scratch.early_fish WITH (external_location = "
        "'s3://my-data-bucket/scratch/other/') AS SELECT 1 AS x",
    )
    assert again["Status"]["State"] == "FAILED"
    assert again["Status"]["StateChangeReason"].startswith("TABLE_ALREADY_EXISTS")
    taken = _athena(
        lake,
        "CREATE TABLE scratch.second WITH (external_location = "
        "'s3://my-data-bucket/scratch/early_fish/') AS SELECT 1 AS x",
    )
    assert taken["Status"]["StateChangeReason"].startswith("HIVE_PATH_ALREADY_EXISTS")
    assert "second" not in catalog.load_tables(lake.layout, "scratch")
    dropped = _athena(lake, "DROP TABLE scratch.early_fish")
    assert dropped["Status"]["State"] == "SUCCEEDED", dropped["Status"]
    assert catalog.load_tables(lake.layout, "scratch") == {}
    # Athena's DROP TABLE of an external table leaves its files.
    assert any((lake.layout.root / "my-data-bucket" / "scratch" / "early_fish").rglob("*_00000"))


def test_the_study_stays_read_only(lake: Live) -> None:
    before = {n: e.partitions for n, e in catalog.load_tables(lake.layout).items()}
    for sql, code in [
        ("DROP TABLE observations", "PERMISSION_DENIED"),
        (
            "CREATE TABLE sneaky WITH (external_location = "
            "'s3://my-data-bucket/use-cases/fish-demo/outcomes/day=2099-01-01/') AS SELECT 1 AS x",
            "PERMISSION_DENIED",
        ),
        ("CREATE TABLE outcomes AS SELECT 1 AS x", "TABLE_ALREADY_EXISTS"),
        (
            "UNLOAD (SELECT 1 AS x) TO 's3://my-data-bucket/use-cases/fish-demo/observations/' "
            "WITH (format = 'PARQUET')",
            "PERMISSION_DENIED",
        ),
    ]:
        execution = _athena(lake, sql)
        assert execution["Status"]["State"] == "FAILED", sql
        assert execution["Status"]["StateChangeReason"].startswith(code), (sql, execution)
    glue = lake.client("glue")
    with pytest.raises(ClientError) as refused:
        glue.delete_table(DatabaseName=DB, Name="outcomes")
    assert refused.value.response["Error"]["Code"] == "InvalidInputException"
    with pytest.raises(ClientError) as inside:
        glue.create_table(
            DatabaseName=DB,
            TableInput={
                "Name": "shadow",
                "StorageDescriptor": {
                    "Columns": [{"Name": "x", "Type": "int"}],
                    "Location": "s3://my-data-bucket/use-cases/fish-demo/observations/",
                    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                },
            },
        )
    assert inside.value.response["Error"]["Code"] == "InvalidInputException"
    assert {n: e.partitions for n, e in catalog.load_tables(lake.layout).items()} == before
    assert not (lake.layout.dataset / "outcomes" / "day=2099-01-01").exists()


def test_wrangler_writes_a_catalogued_dataset_read_back_by_athena(lake: Live, session: Any) -> None:
    wr = pytest.importorskip("awswrangler")
    import pandas as pd

    wr.catalog.create_database("ml_features", boto3_session=session)
    frame = pd.DataFrame(
        {
            "fish_id": [f"f{i:03d}" for i in range(40)],
            "redness": [i / 40 for i in range(40)],
            "tags": [["a", "b"] if i % 2 else [] for i in range(40)],
            "cohort": [str(i % 3) for i in range(40)],
        }
    )
    wr.s3.to_parquet(
        frame,
        path="s3://my-data-bucket/features/fish/",
        dataset=True,
        database="ml_features",
        table="fish",
        partition_cols=["cohort"],
        boto3_session=session,
    )
    assert "fish" in list(wr.catalog.tables(database="ml_features", boto3_session=session)["Table"])
    partitions = wr.catalog.get_partitions(
        database="ml_features", table="fish", boto3_session=session
    )
    assert sorted(v[0] for v in partitions.values()) == ["0", "1", "2"]
    sql = "SELECT fish_id, redness, cardinality(tags) AS n, cohort FROM fish ORDER BY fish_id"
    back = wr.athena.read_sql_query(
        sql, database="ml_features", ctas_approach=False, boto3_session=session
    )
    expected = [(f"f{i:03d}", i / 40, 2 if i % 2 else 0, str(i % 3)) for i in range(40)]
    assert [tuple(r) for r in back.itertuples(index=False)] == expected
    assert _rows(lake, sql, database="ml_features") == expected
    # A second write appends a partition's files; a new partition is registered by Glue's calls.
    wr.s3.to_parquet(
        frame.assign(cohort="9"),
        path="s3://my-data-bucket/features/fish/",
        dataset=True,
        mode="append",
        database="ml_features",
        table="fish",
        partition_cols=["cohort"],
        boto3_session=session,
    )
    counts = _rows(
        lake, "SELECT cohort, count(*) FROM fish GROUP BY cohort ORDER BY cohort", "ml_features"
    )
    assert counts == [("0", 14), ("1", 13), ("2", 13), ("9", 40)]
    assert wr.catalog.delete_table_if_exists(
        database="ml_features", table="fish", boto3_session=session
    )
    assert catalog.load_tables(lake.layout, "ml_features") == {}
