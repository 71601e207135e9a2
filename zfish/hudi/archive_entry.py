"""``HoodieArchivedMetaEntry``: the Avro record of one archived instant file, and how to make one.

Each file of an archived instant (``.commit.requested``, ``.inflight``,
``.commit``...) becomes one record, as ``MetadataConversionUtils.createMetaWrapper``
builds it: ``commitTime``, ``actionType``, ``actionState``,
``stateTransitionTime`` (the file's modification time as an instant in local
time, ``HoodieInstantTimeGenerator.formatDate``) and the instant's content in
the field of its action: JSON commit metadata converted to the Avro
``HoodieCommitMetadata`` (with ``extraMetadata.ROLLING_STAT`` blanked, as
Hudi does), Avro clean plans, clean metadata, rollback metadata and requested
replace metadata re-encoded as they are. A completed instant with an empty
file gets only the four plain fields.

The schemas are our own transcription of the parts of Hudi 0.15's
``HoodieArchivedMetaEntry.avsc`` that a Copy-on-Write table's archive uses (the
compaction, savepoint and index fields are left out: those instants are never
archived from such a table). Avro resolves writer and reader schemas by
field name, so the JVM reads these records with its full generated schema,
defaulting every field we leave out to null. The clean schemas extend those
of :mod:`zfish.hudi.avro_metadata` with the ``extraMetadata`` field the JVM's
records also carry.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from zfish.hudi import avro_metadata as am
from zfish.hudi.timeline import (
    CLEAN,
    COMMIT,
    DELTA_COMMIT,
    REPLACE_COMMIT,
    ROLLBACK,
    State,
)

_NS = "org.apache.hudi.avro.model"
ROLLING_STAT_KEY = "ROLLING_STAT"  # HoodieRollingStatMetadata.ROLLING_STAT_METADATA_KEY


def _opt(name: str, avro_type: Any) -> dict[str, Any]:
    return {"name": name, "type": ["null", avro_type], "default": None}


def _version() -> dict[str, Any]:
    return {"name": "version", "type": ["int", "null"], "default": 1}


_STRING_MAP = {"type": "map", "values": "string"}
_EXTRA_METADATA = _opt("extraMetadata", _STRING_MAP)

_WRITE_STAT_STRINGS = ("fileId", "path", "prevCommit", "partitionPath")
_WRITE_STAT_LONGS = (
    "numWrites",
    "numDeletes",
    "numUpdateWrites",
    "totalWriteBytes",
    "totalWriteErrors",
    "totalLogRecords",
    "totalLogFiles",
    "totalUpdatedRecordsCompacted",
    "numInserts",
    "totalLogBlocks",
    "totalCorruptLogBlock",
    "totalRollbackBlocks",
    "fileSizeInBytes",
)
_WRITE_STAT_ORDER = (
    "fileId",
    "path",
    "prevCommit",
    "numWrites",
    "numDeletes",
    "numUpdateWrites",
    "totalWriteBytes",
    "totalWriteErrors",
    "partitionPath",
    "totalLogRecords",
    "totalLogFiles",
    "totalUpdatedRecordsCompacted",
    "numInserts",
    "totalLogBlocks",
    "totalCorruptLogBlock",
    "totalRollbackBlocks",
    "fileSizeInBytes",
)
# Fields of the Java HoodieWriteStat POJO that are primitive longs (0 when absent);
# totalLogFiles has no POJO getter, so the JVM archives it as null.
_POJO_LONGS = frozenset(_WRITE_STAT_LONGS) - {"totalLogFiles"}

HOODIE_WRITE_STAT: dict[str, Any] = {
    "type": "record",
    "name": "HoodieWriteStat",
    "namespace": _NS,
    "fields": [
        _opt(f, "string" if f in _WRITE_STAT_STRINGS else "long") for f in _WRITE_STAT_ORDER
    ],
}

_WRITE_STATS = _opt(
    "partitionToWriteStats",
    {"type": "map", "values": {"type": "array", "items": HOODIE_WRITE_STAT}},
)

HOODIE_COMMIT_METADATA: dict[str, Any] = {
    "type": "record",
    "name": "HoodieCommitMetadata",
    "namespace": _NS,
    "fields": [_WRITE_STATS, _EXTRA_METADATA, _version(), _opt("operationType", "string")],
}

HOODIE_REPLACE_COMMIT_METADATA: dict[str, Any] = {
    "type": "record",
    "name": "HoodieReplaceCommitMetadata",
    "namespace": _NS,
    "fields": [
        _opt(
            "partitionToWriteStats",
            {"type": "map", "values": {"type": "array", "items": f"{_NS}.HoodieWriteStat"}},
        ),
        _EXTRA_METADATA,
        _version(),
        _opt("operationType", "string"),
        _opt(
            "partitionToReplaceFileIds",
            {"type": "map", "values": {"type": "array", "items": "string"}},
        ),
    ],
}

HOODIE_ROLLBACK_METADATA: dict[str, Any] = {
    "type": "record",
    "name": "HoodieRollbackMetadata",
    "namespace": _NS,
    "fields": [
        {"name": "startRollbackTime", "type": "string"},
        {"name": "timeTakenInMillis", "type": "long"},
        {"name": "totalFilesDeleted", "type": "int"},
        {"name": "commitsRollback", "type": {"type": "array", "items": "string"}},
        {
            "name": "partitionMetadata",
            "type": {
                "type": "map",
                "values": {
                    "type": "record",
                    "name": "HoodieRollbackPartitionMetadata",
                    "fields": [
                        {"name": "partitionPath", "type": "string"},
                        {
                            "name": "successDeleteFiles",
                            "type": {"type": "array", "items": "string"},
                        },
                        {"name": "failedDeleteFiles", "type": {"type": "array", "items": "string"}},
                        _opt("rollbackLogFiles", {"type": "map", "values": "long"}),
                        _opt("logFilesFromFailedCommit", {"type": "map", "values": "long"}),
                    ],
                },
            },
        },
        _version(),
        {
            "name": "instantsRollback",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "HoodieInstantInfo",
                    "fields": [
                        {"name": "commitTime", "type": "string"},
                        {"name": "action", "type": "string"},
                    ],
                },
            },
            "default": [],
        },
    ],
}

HOODIE_REQUESTED_REPLACE_METADATA: dict[str, Any] = {
    "type": "record",
    "name": "HoodieRequestedReplaceMetadata",
    "namespace": _NS,
    "fields": [
        _opt("operationType", "string"),
        _opt(
            "clusteringPlan",
            {
                "type": "record",
                "name": "HoodieClusteringPlan",
                "fields": [
                    _opt(
                        "inputGroups",
                        {
                            "type": "array",
                            "items": {
                                "type": "record",
                                "name": "HoodieClusteringGroup",
                                "fields": [
                                    _opt(
                                        "slices",
                                        {
                                            "type": "array",
                                            "items": {
                                                "type": "record",
                                                "name": "HoodieSliceInfo",
                                                "fields": [
                                                    _opt("dataFilePath", "string"),
                                                    _opt(
                                                        "deltaFilePaths",
                                                        {"type": "array", "items": "string"},
                                                    ),
                                                    {"name": "fileId", "type": ["null", "string"]},
                                                    _opt("partitionPath", "string"),
                                                    _opt("bootstrapFilePath", "string"),
                                                    _version(),
                                                ],
                                            },
                                        },
                                    ),
                                    _opt("metrics", {"type": "map", "values": "double"}),
                                    {
                                        "name": "numOutputFileGroups",
                                        "type": ["int", "null"],
                                        "default": 1,
                                    },
                                    _EXTRA_METADATA,
                                    _version(),
                                ],
                            },
                        },
                    ),
                    _opt(
                        "strategy",
                        {
                            "type": "record",
                            "name": "HoodieClusteringStrategy",
                            "fields": [
                                _opt("strategyClassName", "string"),
                                _opt("strategyParams", _STRING_MAP),
                                _version(),
                            ],
                        },
                    ),
                    _EXTRA_METADATA,
                    _version(),
                    _opt("preserveHoodieMetadata", "boolean"),
                ],
            },
        ),
        _EXTRA_METADATA,
        _version(),
    ],
}


def _with_extra_metadata(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "fields": [*schema["fields"], _EXTRA_METADATA]}


HOODIE_ARCHIVED_META_ENTRY: dict[str, Any] = {
    "type": "record",
    "name": "HoodieArchivedMetaEntry",
    "namespace": _NS,
    "fields": [
        _opt("hoodieCommitMetadata", HOODIE_COMMIT_METADATA),
        _opt("hoodieCleanMetadata", _with_extra_metadata(am.HOODIE_CLEAN_METADATA)),
        _opt("hoodieRollbackMetadata", HOODIE_ROLLBACK_METADATA),
        _opt("commitTime", "string"),
        _opt("actionType", "string"),
        _version(),
        _opt("hoodieCleanerPlan", _with_extra_metadata(am.HOODIE_CLEANER_PLAN)),
        _opt("actionState", "string"),
        _opt("hoodieReplaceCommitMetadata", HOODIE_REPLACE_COMMIT_METADATA),
        _opt("hoodieRequestedReplaceMetadata", HOODIE_REQUESTED_REPLACE_METADATA),
        _opt("HoodieInflightReplaceMetadata", f"{_NS}.HoodieCommitMetadata"),
        _opt("stateTransitionTime", "string"),
    ],
}

# Action names MetadataConversionUtils can archive (ActionType enum names).
ARCHIVABLE_ACTIONS = (COMMIT, DELTA_COMMIT, CLEAN, REPLACE_COMMIT, ROLLBACK)


def state_transition_time(mtime_ns: int) -> str:
    """A file's modification time as ``HoodieInstantTimeGenerator.formatDate`` writes it."""
    moment = datetime.fromtimestamp(mtime_ns / 1e9)  # the JVM's system default zone
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


def _write_stat(stat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _WRITE_STAT_ORDER:
        value = stat.get(name)
        if name in _WRITE_STAT_STRINGS:
            out[name] = None if value is None else str(value)
        elif name in _POJO_LONGS:
            out[name] = int(value or 0)
        else:
            out[name] = None if value is None else int(value)
    return out


def commit_metadata_record(meta: dict[str, Any], replace: bool = False) -> dict[str, Any]:
    """JSON commit metadata as the Avro record ``convertCommitMetadata`` makes of it."""
    stats = {
        str(partition): [_write_stat(s) for s in (group or [])]
        for partition, group in (meta.get("partitionToWriteStats") or {}).items()
    }
    extra = {
        str(k): "" if v is None else str(v) for k, v in (meta.get("extraMetadata") or {}).items()
    }
    extra[ROLLING_STAT_KEY] = ""
    operation = str(meta.get("operationType") or "UNKNOWN")
    if meta.get("compacted") and not replace:
        operation = "COMPACT"
    record: dict[str, Any] = {
        "partitionToWriteStats": stats,
        "extraMetadata": extra,
        # Jackson fills the generated class through its no-arg constructor: no version.
        "version": None,
        "operationType": operation,
    }
    if replace:
        record["partitionToReplaceFileIds"] = {
            str(p): [str(f) for f in fids]
            for p, fids in (meta.get("partitionToReplaceFileIds") or {}).items()
        }
    return record


def _json(content: bytes, what: str) -> dict[str, Any]:
    if not content.strip():
        return {}  # HoodieCommitMetadata.fromJsonString: an empty file is an empty object
    try:
        data = json.loads(content)
    except ValueError as exc:
        raise ValueError(f"{what} is not valid JSON commit metadata ({exc})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{what} is not a JSON object")
    return data


def _avro(content: bytes, what: str) -> dict[str, Any]:
    try:
        return am.deserialize(content)
    except (ValueError, EOFError, StopIteration) as exc:
        raise ValueError(f"{what} is not a readable Avro instant file ({exc})") from exc


def to_entry(
    timestamp: str, action: str, state: State, content: bytes, transition_time: str | None
) -> dict[str, Any]:
    """The archive record of one instant file (``action`` as the file name says it)."""
    if action not in ARCHIVABLE_ACTIONS:
        raise ValueError(f"instant {timestamp} ({action}) cannot be archived")
    what = f"instant file {timestamp}.{action} ({state.value})"
    entry: dict[str, Any] = {
        "commitTime": timestamp,
        "actionType": action,
        "actionState": state.value,
        "stateTransitionTime": transition_time,
        "version": None,
    }
    if state is State.COMPLETED and not content:
        return entry  # createMetaWrapperForEmptyInstant
    if action in (COMMIT, DELTA_COMMIT):
        entry["hoodieCommitMetadata"] = commit_metadata_record(_json(content, what))
    elif action == CLEAN:
        if state is State.COMPLETED:
            entry["hoodieCleanMetadata"] = _avro(content, what)
        elif content:
            entry["hoodieCleanerPlan"] = _avro(content, what)
    elif action == REPLACE_COMMIT:
        if state is State.COMPLETED:
            entry["hoodieReplaceCommitMetadata"] = commit_metadata_record(
                _json(content, what), replace=True
            )
        elif state is State.INFLIGHT:
            if content.strip():
                entry["HoodieInflightReplaceMetadata"] = commit_metadata_record(
                    _json(content, what)
                )
        elif content:
            entry["hoodieRequestedReplaceMetadata"] = _avro(content, what)
    elif action == ROLLBACK and state is State.COMPLETED:
        entry["hoodieRollbackMetadata"] = _avro(content, what)
    return entry


def commit_metadata_json(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The commit metadata of an archived completed write as the JVM reads it back (a dict)."""
    record = entry.get("hoodieCommitMetadata") or entry.get("hoodieReplaceCommitMetadata")
    if record is None:
        return None
    out = dict(record)
    out["partitionToWriteStats"] = record.get("partitionToWriteStats") or {}
    out["extraMetadata"] = {
        k: v for k, v in (record.get("extraMetadata") or {}).items() if k != ROLLING_STAT_KEY
    }
    return out
