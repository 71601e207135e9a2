"""SHOW and DESCRIBE answer in Glue's types and Athena's shapes, for the seed's three tables."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from zfish.catalog.query import run_query
from zfish.exceptions import QueryError

if TYPE_CHECKING:
    from zfish.ml.notebooks import SmallLake

pytestmark = pytest.mark.spark


def _rows(lake: SmallLake, sql: str) -> list[tuple[str, ...]]:
    table = run_query(lake.layout, sql).table
    return list(zip(*(c.to_pylist() for c in table.columns), strict=True))


def test_describe_outcomes_in_glue_types(small_lake: SmallLake) -> None:
    result = run_query(small_lake.layout, "DESCRIBE outcomes").table
    assert result.column_names == ["col_name", "data_type", "comment"]
    assert _rows(small_lake, "DESCRIBE zebra_fish_demo.outcomes") == [
        ("fish_id", "string", ""),
        ("condition_developed", "boolean", ""),
        ("day", "string", ""),
        ("", "", ""),
        ("# Partition Information", "", ""),
        ("# col_name", "data_type", "comment"),
        ("", "", ""),
        ("day", "string", ""),
    ]


def test_describe_observations_struct(small_lake: SmallLake) -> None:
    rows = dict((r[0], r[1]) for r in _rows(small_lake, 'DESCRIBE "observations"')[:9])
    assert rows == {
        "fish_id": "string",
        "image_id": "string",
        "timestamp": "string",
        "age_days": "int",  # Glue's JSON classifier: a number that fits 32 bits
        "treatment": "string",
        "genetic_markers": "struct<gene_a:boolean,gene_b:boolean,gene_c:boolean>",
        "length_mm": "double",
        "sex": "string",
        "day": "string",
    }


def test_describe_joined_hudi_meta_columns_first(small_lake: SmallLake) -> None:
    rows = _rows(small_lake, "DESCRIBE joined_fish_data")
    names = [r[0] for r in rows]
    assert names[:5] == [
        "_hoodie_commit_time",
        "_hoodie_commit_seqno",
        "_hoodie_record_key",
        "_hoodie_partition_path",
        "_hoodie_file_name",
    ]
    types = {r[0]: r[1] for r in rows[:18]}
    assert types["timestamp"] == "timestamp"
    assert types["age_days"] == "int"
    assert types["gene_a"] == "boolean"
    assert names[17] == "day"  # the partition column comes last
    assert rows[-1] == ("day", "string", "")


def test_show_tables_databases_partitions_columns(small_lake: SmallLake) -> None:
    assert _rows(small_lake, "SHOW DATABASES") == [("zebra_fish_demo",)]
    assert _rows(small_lake, "SHOW TABLES IN zebra_fish_demo") == [
        ("joined_fish_data",),
        ("observations",),
        ("outcomes",),
    ]
    assert _rows(small_lake, "SHOW TABLES LIKE 'o%'") == [("observations",), ("outcomes",)]
    assert _rows(small_lake, "SHOW TABLES 'out*|join*'") == [("joined_fish_data",), ("outcomes",)]
    days = sorted(p.name.removeprefix("day=") for p in small_lake.layout.outcomes.iterdir())
    assert _rows(small_lake, "SHOW PARTITIONS outcomes") == [(f"day={d}",) for d in days]
    assert _rows(small_lake, "SHOW COLUMNS IN outcomes") == [
        ("fish_id",),
        ("condition_developed",),
        ("day",),
    ]
    assert _rows(small_lake, "SHOW COLUMNS FROM `outcomes` IN zebra_fish_demo") == _rows(
        small_lake, "SHOW COLUMNS IN outcomes"
    )


def test_show_create_table_json(small_lake: SmallLake) -> None:
    ddl = "\n".join(r[0] for r in _rows(small_lake, "SHOW CREATE TABLE outcomes"))
    assert ddl.startswith(
        "CREATE EXTERNAL TABLE `outcomes`(\n  `fish_id` string COMMENT 'from deserializer', "
    )
    assert "PARTITIONED BY ( \n  `day` string)" in ddl
    assert "ROW FORMAT SERDE \n  'org.openx.data.jsonserde.JsonSerDe' " in ddl
    assert "'paths'='condition_developed,fish_id'" in ddl
    assert "STORED AS INPUTFORMAT \n  'org.apache.hadoop.mapred.TextInputFormat' " in ddl
    assert "OUTPUTFORMAT \n  'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'" in ddl
    assert "LOCATION\n  's3://my-data-bucket/use-cases/fish-demo/outcomes/'" in ddl
    assert "'classification'='json'" in ddl


def test_show_create_table_hudi(small_lake: SmallLake) -> None:
    ddl = "\n".join(r[0] for r in _rows(small_lake, "SHOW CREATE TABLE joined_fish_data"))
    assert "  `timestamp` timestamp COMMENT '', " in ddl
    assert "'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'" in ddl
    assert "'org.apache.hudi.hadoop.HoodieParquetInputFormat'" in ddl
    assert "'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'" in ddl
    assert "'s3://my-data-bucket/use-cases/fish-demo/processed/joined_fish_data'" in ddl
    assert "PARTITIONED BY ( \n  `day` string COMMENT '')" in ddl
    assert "`day` string COMMENT '', " not in ddl.split("PARTITIONED BY")[0]


def test_show_tblproperties(small_lake: SmallLake) -> None:
    from zfish import fishtable

    props = dict(_rows(small_lake, "SHOW TBLPROPERTIES outcomes"))
    files = sorted(small_lake.layout.outcomes.glob("day=*/*.json"))
    assert props["classification"] == "json"
    assert props["compressionType"] == "none"
    assert props["typeOfData"] == "file"
    assert props["objectCount"] == str(len(files))
    assert props["sizeKey"] == str(sum(f.stat().st_size for f in files))
    records = sum(len(json.loads(f.read_text())) for f in files)
    assert props["recordCount"] == str(records)
    hudi = dict(_rows(small_lake, "SHOW TBLPROPERTIES joined_fish_data"))
    assert hudi["spark.sql.sources.provider"] == "hudi"
    assert hudi["last_commit_time_sync"] == fishtable.commits(small_lake.layout.table)[-1].instant
    assert hudi["spark.sql.sources.schema.partCol.0"] == "day"
    schema = json.loads(hudi["spark.sql.sources.schema.part.0"])
    assert schema["fields"][-1]["name"] == "day"
    one = _rows(small_lake, "SHOW TBLPROPERTIES joined_fish_data('spark.sql.sources.provider')")
    assert one == [("spark.sql.sources.provider", "hudi")]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "DESCRIBE nope",
            "TABLE_NOT_FOUND: line 1:10: Table 'awsdatacatalog.zebra_fish_demo.nope' does not exist",
        ),
        ("SHOW TABLES IN other", "SCHEMA_NOT_FOUND: line 1:16: Schema 'other' does not exist"),
        ("SHOW PARTITIONS", "SYNTAX_ERROR"),
        ("SHOW FUNCTIONS", "SYNTAX_ERROR: line 1:6: mismatched input 'FUNCTIONS'"),
    ],
)
def test_catalog_statement_errors(small_lake: SmallLake, sql: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        run_query(small_lake.layout, sql)
    assert str(info.value).startswith(message)
