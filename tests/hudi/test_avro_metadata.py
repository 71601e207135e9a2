"""zfish.hudi.avro_metadata: clean plans and clean metadata as Hudi's Avro containers."""

from __future__ import annotations

import io
import json

import fastavro

from zfish.hudi import avro_metadata as am

# Field names (in order) of Hudi 0.15's avsc files, which Java resolves our records against.
CLEANER_PLAN_FIELDS = [
    "earliestInstantToRetain",
    "lastCompletedCommitTimestamp",
    "policy",
    "filesToBeDeletedPerPartition",
    "version",
    "filePathsToBeDeletedPerPartition",
    "partitionsToBeDeleted",
]
CLEAN_METADATA_FIELDS = [
    "policy",
    "startCleanTime",
    "timeTakenInMillis",
    "totalFilesDeleted",
    "earliestCommitToRetain",
    "lastCompletedCommitTimestamp",
    "partitionMetadata",
    "version",
    "bootstrapPartitionMetadata",
]
CLEAN_PARTITION_FIELDS = [
    "partitionPath",
    "policy",
    "deletePathPatterns",
    "successDeleteFiles",
    "failedDeleteFiles",
    "isPartitionDeleted",
]


def _writer_schema(data: bytes) -> dict:
    reader = fastavro.reader(io.BytesIO(data))
    assert reader.codec == "null"
    schema: dict = json.loads(reader.metadata["avro.schema"])
    return schema


def test_cleaner_plan_round_trips_as_an_avro_container() -> None:
    plan = am.cleaner_plan(
        "20240101000000000",
        "20240105000000000",
        "KEEP_LATEST_COMMITS",
        {"d1": ["s3://b/t/d1/f-0_0-1-0_20231231000000000.parquet"]},
    )
    data = am.serialize(plan, am.HOODIE_CLEANER_PLAN)
    assert data[:4] == b"Obj\x01"
    assert am.deserialize(data) == plan
    schema = _writer_schema(data)
    assert schema["name"] == "org.apache.hudi.avro.model.HoodieCleanerPlan"
    assert [f["name"] for f in schema["fields"]] == CLEANER_PLAN_FIELDS
    assert "__fastavro" not in json.dumps(schema)
    assert plan["version"] == 2
    assert plan["earliestInstantToRetain"] == {
        "timestamp": "20240101000000000",
        "action": "commit",
        "state": "COMPLETED",
    }


def test_clean_metadata_round_trips_as_an_avro_container() -> None:
    meta = am.clean_metadata(
        "20240106000000000",
        12,
        "20240101000000000",
        "20240105000000000",
        "KEEP_LATEST_COMMITS",
        {"d1": (["a.parquet", "b.parquet"], ["a.parquet"], ["b.parquet"])},
    )
    data = am.serialize(meta, am.HOODIE_CLEAN_METADATA)
    assert data[:4] == b"Obj\x01"
    back = am.deserialize(data)
    assert back == meta
    assert back["totalFilesDeleted"] == 1
    schema = _writer_schema(data)
    assert [f["name"] for f in schema["fields"]] == CLEAN_METADATA_FIELDS
    partition = schema["fields"][6]["type"]["values"]
    assert [f["name"] for f in partition["fields"]] == CLEAN_PARTITION_FIELDS


def test_records_resolve_against_hudi_reader_schemas_with_extra_fields() -> None:
    # Java reads with its own generated schema; newer Hudi adds optional fields with defaults.
    newer = json.loads(json.dumps(am.HOODIE_CLEAN_METADATA))
    newer["fields"].append(
        {
            "name": "extraMetadata",
            "type": ["null", {"type": "map", "values": "string"}],
            "default": None,
        }
    )
    data = am.serialize(
        am.clean_metadata("1", 0, "0", "0", "KEEP_LATEST_COMMITS", {}), am.HOODIE_CLEAN_METADATA
    )
    record = next(fastavro.reader(io.BytesIO(data), reader_schema=fastavro.parse_schema(newer)))
    assert record["extraMetadata"] is None
    assert record["earliestCommitToRetain"] == "0"
