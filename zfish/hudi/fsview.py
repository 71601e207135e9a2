"""File groups and committed file slices, from directory listings and the timeline.

A base file is ``{fileId}_{writeToken}_{instant}.parquet`` (``FSUtils.makeBaseFileName``);
all base files with the same fileId in a partition form a file group, each one
a file slice. A slice is visible only when its instant is a completed write on
the timeline, or older than the first completed write (it was archived),
exactly like ``HoodieFileGroup.isFileSliceCommitted``; file groups replaced by a
completed replacecommit are hidden. This view is what the writer merges into
and what the cleaner prunes; reads of table data go through the ``hudi`` package.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from zfish.hudi.options import METAFOLDER, PARTITION_METAFILE
from zfish.hudi.storage import Storage

BASE_FILE_RE = re.compile(
    r"^(?P<file_id>[^_/]+)_(?P<token>\d+-\d+-\d+)_(?P<instant>\d{14,})\.parquet$"
)


def base_file_name(file_id: str, write_token: str, instant: str) -> str:
    return f"{file_id}_{write_token}_{instant}.parquet"


def write_token(partition_id: int, stage_id: int, attempt_id: int) -> str:
    """``FSUtils.makeWriteToken``: ``{taskPartitionId}-{stageId}-{taskAttemptId}``."""
    return f"{partition_id}-{stage_id}-{attempt_id}"


@dataclass(frozen=True)
class BaseFile:
    partition: str
    name: str
    file_id: str
    write_token: str
    instant: str
    size: int

    @property
    def path(self) -> str:
        return f"{self.partition}/{self.name}" if self.partition else self.name


def parse_base_file(partition: str, name: str, size: int = 0) -> BaseFile | None:
    m = BASE_FILE_RE.match(name)
    if m is None:
        return None
    return BaseFile(partition, name, m["file_id"], m["token"], m["instant"], size)


class FileSystemView:
    """Committed file slices of a table as of a set of completed write instants."""

    def __init__(
        self,
        storage: Storage,
        completed: Iterable[str],
        replaced: Iterable[tuple[str, str]] = (),
    ):
        self.storage = storage
        self.completed = frozenset(completed)
        self.first_completed = min(self.completed, default=None)
        self.last_completed = max(self.completed, default=None)
        self.replaced = frozenset(replaced)

    def is_committed(self, instant: str) -> bool:
        if instant in self.completed:
            return True
        # Slices older than the active timeline were archived: committed by definition.
        return self.first_completed is not None and instant < self.first_completed

    def all_base_files(self, partition: str) -> list[BaseFile]:
        """Every base file in the partition directory, committed or not."""
        out = []
        for entry in self.storage.list_dir(partition):
            if entry.is_dir:
                continue
            bf = parse_base_file(partition, entry.name, entry.size)
            if bf is not None:
                out.append(bf)
        return out

    def file_groups(self, partition: str) -> dict[str, list[BaseFile]]:
        """Committed slices per fileId, newest first."""
        groups: dict[str, dict[str, BaseFile]] = {}
        for bf in self.all_base_files(partition):
            if not self.is_committed(bf.instant) or (partition, bf.file_id) in self.replaced:
                continue
            slices = groups.setdefault(bf.file_id, {})
            # Two files for one (fileId, instant) would break readers; keep one deterministically.
            if bf.instant not in slices or bf.name > slices[bf.instant].name:
                slices[bf.instant] = bf
        return {
            fid: sorted(slices.values(), key=lambda b: b.instant, reverse=True)
            for fid, slices in sorted(groups.items())
        }

    def latest_base_files(self, partition: str) -> list[BaseFile]:
        return [slices[0] for slices in self.file_groups(partition).values()]


def list_partitions(storage: Storage, partition_depth: int | None = None) -> list[str]:
    """Partition paths of the table: directories holding ``.hoodie_partition_metadata``.

    Also counts directories that hold base files but lost their metafile, so
    cleaning and rollback still find them. ``""`` is the root of a
    non-partitioned table.
    """
    found: set[str] = set()
    for entry in storage.list_dir("", recursive=True):
        if entry.is_dir:
            continue
        top = entry.path.split("/", 1)[0]
        if top == METAFOLDER:
            continue
        parent = entry.path.rpartition("/")[0]
        is_table_file = entry.name.startswith(PARTITION_METAFILE) or BASE_FILE_RE.match(entry.name)
        if is_table_file and (partition_depth is None or _depth(parent) == partition_depth):
            found.add(parent)
    return sorted(found)


def _depth(partition: str) -> int:
    return 0 if not partition else partition.count("/") + 1
