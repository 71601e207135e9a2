"""Write statistics of one base file, and the JSON ``HoodieCommitMetadata`` built from them.

A ``WriteStat`` is what a Spark task returns to the driver (as JSON text) and
what the driver puts into ``partitionToWriteStats`` of ``<t>.commit``. Its JSON
uses exactly Hudi's field names (``HoodieWriteStat`` as Jackson writes it, see
the fixtures), so ``to_json`` output can go into the commit unchanged. Readers
find the files of an incremental query through ``fileId`` and ``path`` here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

NULL_COMMIT = "null"  # prevCommit of a new file group, as Hudi writes it


@dataclass
class WriteStat:
    """Statistics of one base file written by one instant."""

    file_id: str
    path: str  # relative to the table root, e.g. "10/<fileId>_0-1-0_<instant>.parquet"
    partition_path: str
    prev_commit: str = NULL_COMMIT
    num_writes: int = 0
    num_inserts: int = 0
    num_update_writes: int = 0
    num_deletes: int = 0
    total_write_bytes: int = 0
    file_size_in_bytes: int = 0
    total_write_errors: int = 0
    runtime_stats: dict[str, int] = field(default_factory=dict)

    @property
    def file_name(self) -> str:
        return self.path.rpartition("/")[2]

    @property
    def instant(self) -> str:
        """The instant encoded in the file name."""
        return self.file_name.rsplit("_", 1)[1].split(".", 1)[0]

    def to_hudi(self) -> dict[str, Any]:
        """The ``HoodieWriteStat`` JSON object, field for field as Hudi 0.14/0.15 writes it."""
        return {
            "fileId": self.file_id,
            "path": self.path,
            "cdcStats": None,
            "prevCommit": self.prev_commit,
            "numWrites": self.num_writes,
            "numDeletes": self.num_deletes,
            "numUpdateWrites": self.num_update_writes,
            "numInserts": self.num_inserts,
            "totalWriteBytes": self.total_write_bytes,
            "totalWriteErrors": self.total_write_errors,
            "tempPath": None,
            "partitionPath": self.partition_path,
            "totalLogRecords": 0,
            "totalLogFilesCompacted": 0,
            "totalLogSizeCompacted": 0,
            "totalUpdatedRecordsCompacted": 0,
            "totalLogBlocks": 0,
            "totalCorruptLogBlock": 0,
            "totalRollbackBlocks": 0,
            "fileSizeInBytes": self.file_size_in_bytes,
            "minEventTime": None,
            "maxEventTime": None,
            "runtimeStats": {
                "totalScanTime": int(self.runtime_stats.get("totalScanTime", 0)),
                "totalUpsertTime": int(self.runtime_stats.get("totalUpsertTime", 0)),
                "totalCreateTime": int(self.runtime_stats.get("totalCreateTime", 0)),
            },
        }

    @classmethod
    def from_hudi(cls, data: dict[str, Any]) -> WriteStat:
        runtime = data.get("runtimeStats") or {}
        return cls(
            file_id=str(data["fileId"]),
            path=str(data["path"]),
            partition_path=str(data.get("partitionPath") or ""),
            prev_commit=str(data.get("prevCommit") or NULL_COMMIT),
            num_writes=int(data.get("numWrites") or 0),
            num_inserts=int(data.get("numInserts") or 0),
            num_update_writes=int(data.get("numUpdateWrites") or 0),
            num_deletes=int(data.get("numDeletes") or 0),
            total_write_bytes=int(data.get("totalWriteBytes") or 0),
            file_size_in_bytes=int(data.get("fileSizeInBytes") or 0),
            total_write_errors=int(data.get("totalWriteErrors") or 0),
            runtime_stats={k: int(v or 0) for k, v in runtime.items()},
        )

    def to_json(self) -> str:
        return json.dumps(self.to_hudi(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> WriteStat:
        return cls.from_hudi(json.loads(text))


def commit_metadata(
    stats: list[WriteStat],
    operation: str,
    schema: str | None,
    extra_metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The ``HoodieCommitMetadata`` JSON object of a COW commit."""
    by_partition: dict[str, list[dict[str, Any]]] = {}
    for stat in sorted(stats, key=lambda s: (s.partition_path, s.file_id)):
        by_partition.setdefault(stat.partition_path, []).append(stat.to_hudi())
    extra: dict[str, str] = {}
    if schema is not None:
        extra["schema"] = schema
    for key, value in (extra_metadata or {}).items():
        if key == "schema":
            raise ValueError("extra_metadata may not override 'schema' (the table schema)")
        extra[str(key)] = str(value)
    return {
        "partitionToWriteStats": by_partition,
        "compacted": False,
        "extraMetadata": extra,
        "operationType": operation,
    }


def dumps_commit(metadata: dict[str, Any]) -> bytes:
    """Commit metadata as bytes (pretty-printed like Jackson's default printer)."""
    return json.dumps(metadata, indent=2).encode("utf-8")
