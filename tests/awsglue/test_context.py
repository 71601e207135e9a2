"""GlueContext in this process's Spark session: catalog reads as Athena sees them, s3 reads and writes, frames."""

from __future__ import annotations

import runpy
import sys
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, StringType, StructType

from awsglue._shim import UnsupportedError
from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.transforms import ApplyMapping, Relationalize
from zfish.exceptions import CatalogError, ValidationError
from zfish.lake.upload import upload
from zfish.settings import ENV_LAKE, LakeLayout
from zfish.simulate import evening

pytestmark = pytest.mark.spark

DB = "zebra_fish_demo"
OBSERVATIONS = "s3://my-data-bucket/use-cases/fish-demo/observations/"

# The shape of Glue's own script template, unchanged but for what it reads and prints.
GLUE_SCRIPT = """
import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

args = getResolvedOptions(sys.argv, ["JOB_NAME"])
sc = SparkContext.getOrCreate()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

observations = glueContext.create_dynamic_frame.from_catalog(
    database="zebra_fish_demo", table_name="observations", transformation_ctx="observations"
)
print(f"observations: {observations.count()}")
job.commit()
"""


@pytest.fixture(scope="module")
def lake(
    spark: SparkSession, default_study: Path, tmp_path_factory: pytest.TempPathFactory
) -> LakeLayout:
    """The seed's 2025-05-10 evening (540 / 20 / 60), then two more days uploaded but not crawled."""
    layout = LakeLayout(root=tmp_path_factory.mktemp("awsglue") / "lake")
    evening(spark, default_study, layout, date(2025, 5, 10), show_progress=False)
    upload(default_study, layout, date(2025, 5, 12), show_progress=False)
    return layout


@pytest.fixture
def glue(lake: LakeLayout, spark: SparkSession, monkeypatch: pytest.MonkeyPatch) -> GlueContext:
    monkeypatch.setenv(ENV_LAKE, str(lake.root))
    return GlueContext(spark.sparkContext)


def _days(frame: DynamicFrame) -> list[str]:
    return sorted(r.day for r in frame.toDF().select("day").distinct().collect())


def _files(folder: Path, days: list[str] | None = None) -> int:
    return sum(
        1
        for path in folder.glob("day=*/*.json")
        if days is None or path.parent.name.removeprefix("day=") in days
    )


def test_a_glue_shaped_script_counts_540_observations_through_the_catalog(
    lake: LakeLayout,
    spark: SparkSession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    script = tmp_path / "count_job.py"
    script.write_text(GLUE_SCRIPT)
    monkeypatch.setenv(ENV_LAKE, str(lake.root))
    monkeypatch.setattr(
        sys, "argv", [str(script), "--JOB_NAME", "count_job", "--JOB_RUN_ID", "jr_1"]
    )
    namespace = runpy.run_path(str(script), run_name="__main__")
    assert "observations: 540\n" in capsys.readouterr().out
    assert namespace["job"].name == "count_job"
    assert namespace["job"].committed


def test_catalog_reads_see_registered_partitions_only_with_the_catalogued_schema(
    glue: GlueContext, lake: LakeLayout
) -> None:
    frame = glue.create_dynamic_frame.from_catalog(database=DB, table_name="observations")
    schema = frame.toDF().schema
    assert schema["day"].dataType == StringType()
    markers = schema["genetic_markers"].dataType
    assert isinstance(markers, StructType)
    assert markers["gene_a"].dataType == BooleanType()
    days = _days(frame)
    assert days[-1] == "2025-05-09"  # 05-10 and 05-11 were uploaded after the crawl
    # An s3 read sees the objects themselves, crawled or not, as Glue's from_options does.
    direct = glue.create_dynamic_frame.from_options(
        connection_type="s3",
        connection_options={"paths": [OBSERVATIONS + "day=2025-05-11/"]},
        format="json",
    )
    assert direct.count() == _files(lake.observations, ["2025-05-11"]) > 0
    # outcomes.json holds one JSON array per file: each element is a row.
    outcomes = glue.create_dynamic_frame.from_catalog(database=DB, table_name="outcomes")
    assert outcomes.count() == 20


def test_push_down_predicate_prunes_partitions_before_reading(
    glue: GlueContext, lake: LakeLayout
) -> None:
    frame = glue.create_dynamic_frame.from_catalog(
        database=DB, table_name="observations", push_down_predicate="day >= '2025-05-08'"
    )
    assert _days(frame) == ["2025-05-08", "2025-05-09"]
    assert frame.count() == _files(lake.observations, ["2025-05-08", "2025-05-09"])
    with pytest.raises(ValidationError, match=r"only the partition key\(s\) 'day'"):
        glue.create_dynamic_frame.from_catalog(
            database=DB, table_name="observations", push_down_predicate="fish_id = 'x'"
        )


def test_the_hudi_table_reads_as_its_latest_snapshot(glue: GlueContext) -> None:
    table = glue.create_dynamic_frame.from_catalog(database=DB, table_name="joined_fish_data")
    df = table.toDF()
    assert df.count() == 60
    assert {"image_id", "condition_developed", "_hoodie_commit_time"} <= set(df.columns)
    last = sorted(r.day for r in df.select("day").distinct().collect())[-1]
    pruned = glue.create_data_frame.from_catalog(
        database=DB, table_name="joined_fish_data", push_down_predicate=f"day = '{last}'"
    )
    assert pruned.count() == df.filter(F.col("day") == last).count() > 0


def test_a_ctas_table_of_another_database_reads_with_its_typed_partition_key(
    glue: GlueContext, lake: LakeLayout
) -> None:
    from zfish.catalog import glue as catalog
    from zfish.catalog import writes
    from zfish.catalog.query import run_query

    with catalog.updating(lake) as (con, _):
        catalog.save_database(con, catalog.Database("scratch"))
    writes.run(
        lake,
        "CREATE TABLE scratch.by_age WITH (format = 'PARQUET', "
        "external_location = 's3://my-data-bucket/ctas/by_age/', partitioned_by = ARRAY['age_days']) "
        "AS SELECT image_id, length_mm, age_days FROM zebra_fish_demo.observations",
        database=DB,
        default_location="s3://my-data-bucket/athena-results/tables/by_age/",
    )
    frame = glue.create_dynamic_frame.from_catalog(
        database="scratch", table_name="by_age", push_down_predicate="age_days >= 3"
    )
    df = frame.toDF()
    assert dict(df.dtypes) == {"image_id": "string", "length_mm": "double", "age_days": "int"}
    expected = run_query(
        lake, "SELECT count(*) AS n FROM scratch.by_age WHERE age_days >= 3"
    ).table.to_pylist()[0]["n"]
    assert df.count() == expected > 0
    assert sorted(r.age_days for r in df.select("age_days").distinct().collect()) == [3, 5]


def test_unknown_tables_and_calls_say_what_is_supported(glue: GlueContext) -> None:
    with pytest.raises(
        CatalogError,
        match=r"EntityNotFoundException: Table nope .*tables: joined_fish_data, observations, outcomes",
    ):
        glue.create_dynamic_frame.from_catalog(database=DB, table_name="nope")
    with pytest.raises(CatalogError, match="Database other not found"):
        glue.create_dynamic_frame.from_catalog(database="other", table_name="observations")
    with pytest.raises(NotImplementedError, match=r"GlueContext\.purge_s3_path .*from_catalog"):
        glue.purge_s3_path("s3://my-data-bucket/x/")
    assert not hasattr(glue, "purge_s3_path")  # still an AttributeError for hasattr
    with pytest.raises(UnsupportedError, match=r"from_options\(connection_type='jdbc'\)"):
        glue.create_dynamic_frame.from_options(connection_type="jdbc", connection_options={})
    frame = DynamicFrame.fromDF(glue.spark_session.range(1), glue, "one")
    with pytest.raises(NotImplementedError, match=r"DynamicFrame\.resolveChoice .*select_fields"):
        frame.resolveChoice(specs=[])
    with pytest.raises(NotImplementedError, match=r"Relationalize\.apply"):
        Relationalize.apply(frame=frame, staging_path="s3://b/t/")


def test_frame_calls_keep_glues_nested_paths(glue: GlueContext) -> None:
    df = glue.spark_session.createDataFrame(
        [("a", 1, (True, False)), ("b", 2, None)],
        "id string, n int, m struct<x: boolean, y: boolean>",
    )
    frame = DynamicFrame.fromDF(df, glue, "f")
    assert frame.toDF() is df
    assert frame.count() == 2
    selected = frame.select_fields(["id", "m.y", "missing"]).toDF()
    assert selected.schema.simpleString() == "struct<id:string,m:struct<y:boolean>>"
    assert [r.m for r in selected.orderBy("id").collect()] == [(False,), None]  # null stays null
    dropped = frame.drop_fields(["n", "m.x"]).toDF()
    assert dropped.schema.simpleString() == "struct<id:string,m:struct<y:boolean>>"
    renamed = frame.rename_field("m.x", "m.z").rename_field("id", "key").toDF()
    assert renamed.schema.simpleString() == "struct<key:string,n:int,m:struct<z:boolean,y:boolean>>"
    mapped = ApplyMapping.apply(
        frame=frame, mappings=[("id", "string", "name", "string"), ("m.x", "boolean", "x", "int")]
    ).toDF()
    assert [tuple(r) for r in mapped.orderBy("name").collect()] == [("a", 1), ("b", None)]
    with pytest.raises(UnsupportedError, match="across structs"):
        frame.rename_field("m.x", "x")


def test_writes_land_whole_append_and_leave_nothing_when_they_fail(
    glue: GlueContext, lake: LakeLayout
) -> None:
    frame = glue.create_dynamic_frame.from_catalog(
        database=DB, table_name="observations", push_down_predicate="day = '2025-05-09'"
    ).select_fields(["image_id", "day"])
    target = lake.root / "my-data-bucket" / "exports" / "picked"
    options = {"path": "s3://my-data-bucket/exports/picked/", "partitionKeys": ["day"]}
    written = glue.write_dynamic_frame.from_options(
        frame=frame, connection_type="s3", connection_options=options, format="parquet"
    )
    assert written is frame
    n = frame.count()
    assert pq.read_table(target / "day=2025-05-09").num_rows == n
    glue.write_dynamic_frame.from_options(
        frame=frame, connection_type="s3", connection_options=options, format="parquet"
    )
    back = glue.create_dynamic_frame.from_options(
        connection_type="s3",
        connection_options={"paths": ["s3://my-data-bucket/exports/picked/"]},
        format="parquet",
    )
    assert back.count() == 2 * n  # Glue's writer adds files; it never replaces a folder
    assert not list(target.rglob("*.crc"))
    failing = DynamicFrame.fromDF(
        frame.toDF().withColumn("boom", F.raise_error(F.lit("boom"))), glue, "failing"
    )
    with pytest.raises(Exception, match="boom"):
        glue.write_dynamic_frame.from_options(
            frame=failing,
            connection_type="s3",
            connection_options={"path": "s3://my-data-bucket/exports/failed/"},
            format="json",
        )
    assert sorted(p.name for p in (lake.root / "my-data-bucket" / "exports").iterdir()) == [
        "picked"
    ]
    for outside in ("s3://my-data-bucket/../elsewhere/", str(lake.root.parent / "elsewhere")):
        with pytest.raises(ValidationError, match="lake root"):
            glue.write_dynamic_frame.from_options(
                frame=frame,
                connection_type="s3",
                connection_options={"path": outside},
                format="json",
            )
    assert not (lake.root.parent / "elsewhere").exists()
