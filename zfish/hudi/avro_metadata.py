"""Avro timeline metadata for clean instants (``.clean.requested``, ``.clean.inflight``, ``.clean``).

In a v6 timeline only commit metadata is JSON; clean plans and clean metadata
are Avro object containers (``Obj\\x01``, null codec, one record), which the
JVM reads with ``DataFileReader`` and its own generated classes. Avro resolves
writer and reader schemas by field name, so the schemas below are our own
transcription of Hudi 0.15's ``HoodieCleanerPlan.avsc``,
``HoodieCleanMetadata.avsc`` and ``HoodieCleanPartitionMetadata.avsc`` (with
the named types inlined where they are first used).

Plan version 2 lists absolute file paths in ``filePathsToBeDeletedPerPartition``;
metadata version 2 lists bare file names (``CleanMetadataV2MigrationHandler``).
JVM incremental queries read ``earliestCommitToRetain`` of the last clean to
decide whether an incremental range is still served by the retained files.
"""

from __future__ import annotations

import io
from typing import Any

import fastavro

CLEAN_PLAN_VERSION = 2
CLEAN_METADATA_VERSION = 2

_NS = "org.apache.hudi.avro.model"

HOODIE_ACTION_INSTANT: dict[str, Any] = {
    "type": "record",
    "name": "HoodieActionInstant",
    "namespace": _NS,
    "fields": [
        {"name": "timestamp", "type": "string"},
        {"name": "action", "type": "string"},
        {"name": "state", "type": "string"},
    ],
}

HOODIE_CLEAN_FILE_INFO: dict[str, Any] = {
    "type": "record",
    "name": "HoodieCleanFileInfo",
    "namespace": _NS,
    "fields": [
        {"name": "filePath", "type": ["null", "string"], "default": None},
        {"name": "isBootstrapBaseFile", "type": ["null", "boolean"], "default": None},
    ],
}

HOODIE_CLEANER_PLAN: dict[str, Any] = {
    "type": "record",
    "name": "HoodieCleanerPlan",
    "namespace": _NS,
    "fields": [
        {
            "name": "earliestInstantToRetain",
            "type": ["null", HOODIE_ACTION_INSTANT],
            "default": None,
        },
        {"name": "lastCompletedCommitTimestamp", "type": "string", "default": ""},
        {"name": "policy", "type": "string"},
        {
            "name": "filesToBeDeletedPerPartition",
            "type": ["null", {"type": "map", "values": {"type": "array", "items": "string"}}],
            "default": None,
        },
        {"name": "version", "type": ["int", "null"], "default": 1},
        {
            "name": "filePathsToBeDeletedPerPartition",
            "doc": "This field replaces the field filesToBeDeletedPerPartition",
            "type": [
                "null",
                {"type": "map", "values": {"type": "array", "items": HOODIE_CLEAN_FILE_INFO}},
            ],
            "default": None,
        },
        {
            "name": "partitionsToBeDeleted",
            "doc": "partitions to be deleted",
            "type": ["null", {"type": "array", "items": "string"}],
            "default": None,
        },
    ],
}

HOODIE_CLEAN_PARTITION_METADATA: dict[str, Any] = {
    "type": "record",
    "name": "HoodieCleanPartitionMetadata",
    "namespace": _NS,
    "fields": [
        {"name": "partitionPath", "type": "string"},
        {"name": "policy", "type": "string"},
        {"name": "deletePathPatterns", "type": {"type": "array", "items": "string"}},
        {"name": "successDeleteFiles", "type": {"type": "array", "items": "string"}},
        {"name": "failedDeleteFiles", "type": {"type": "array", "items": "string"}},
        {"name": "isPartitionDeleted", "type": ["null", "boolean"], "default": None},
    ],
}

HOODIE_CLEAN_METADATA: dict[str, Any] = {
    "type": "record",
    "name": "HoodieCleanMetadata",
    "namespace": _NS,
    "fields": [
        {"name": "policy", "type": "string", "default": ""},
        {"name": "startCleanTime", "type": "string"},
        {"name": "timeTakenInMillis", "type": "long"},
        {"name": "totalFilesDeleted", "type": "int"},
        {"name": "earliestCommitToRetain", "type": "string"},
        {"name": "lastCompletedCommitTimestamp", "type": "string", "default": ""},
        {
            "name": "partitionMetadata",
            "type": {"type": "map", "values": HOODIE_CLEAN_PARTITION_METADATA},
        },
        {"name": "version", "type": ["int", "null"], "default": 1},
        {
            "name": "bootstrapPartitionMetadata",
            "type": [
                "null",
                {"type": "map", "values": f"{_NS}.HoodieCleanPartitionMetadata"},
            ],
            "default": None,
        },
    ],
}

_PARSED: dict[str, Any] = {}


def _parsed(schema: dict[str, Any]) -> Any:
    name = schema["name"]
    if name not in _PARSED:
        _PARSED[name] = fastavro.parse_schema(schema)
    return _PARSED[name]


def serialize(record: dict[str, Any], schema: dict[str, Any]) -> bytes:
    """One record as an Avro object container file (null codec), like TimelineMetadataUtils."""
    buf = io.BytesIO()
    fastavro.writer(buf, _parsed(schema), [record], codec="null")
    return buf.getvalue()


def deserialize(data: bytes) -> dict[str, Any]:
    """The single record of an Avro object container (with the writer schema it embeds)."""
    records = list(fastavro.reader(io.BytesIO(data)))
    if len(records) != 1:
        raise ValueError(f"expected one Avro record, found {len(records)}")
    record = records[0]
    if not isinstance(record, dict):
        raise ValueError("the Avro record is not a record")
    return record


def cleaner_plan(
    earliest_to_retain: str | None,
    last_completed_commit: str,
    policy: str,
    files_per_partition: dict[str, list[str]],
) -> dict[str, Any]:
    """A version-2 ``HoodieCleanerPlan``; ``files_per_partition`` holds absolute paths."""
    return {
        "earliestInstantToRetain": (
            {"timestamp": earliest_to_retain, "action": "commit", "state": "COMPLETED"}
            if earliest_to_retain
            else None
        ),
        "lastCompletedCommitTimestamp": last_completed_commit,
        "policy": policy,
        "filesToBeDeletedPerPartition": {},
        "version": CLEAN_PLAN_VERSION,
        "filePathsToBeDeletedPerPartition": {
            partition: [{"filePath": p, "isBootstrapBaseFile": False} for p in paths]
            for partition, paths in files_per_partition.items()
        },
        "partitionsToBeDeleted": [],
    }


def clean_metadata(
    start_clean_time: str,
    time_taken_ms: int,
    earliest_commit_to_retain: str,
    last_completed_commit: str,
    policy: str,
    deleted_per_partition: dict[str, tuple[list[str], list[str], list[str]]],
) -> dict[str, Any]:
    """A version-2 ``HoodieCleanMetadata``; per partition (patterns, succeeded, failed) names."""
    partitions = {
        partition: {
            "partitionPath": partition,
            "policy": policy,
            "deletePathPatterns": patterns,
            "successDeleteFiles": success,
            "failedDeleteFiles": failed,
            "isPartitionDeleted": False,
        }
        for partition, (patterns, success, failed) in deleted_per_partition.items()
    }
    return {
        "policy": policy,
        "startCleanTime": start_clean_time,
        "timeTakenInMillis": time_taken_ms,
        "totalFilesDeleted": sum(len(v[1]) for v in deleted_per_partition.values()),
        "earliestCommitToRetain": earliest_commit_to_retain,
        "lastCompletedCommitTimestamp": last_completed_commit,
        "partitionMetadata": partitions,
        "version": CLEAN_METADATA_VERSION,
        "bootstrapPartitionMetadata": {},
    }
