"""``day=YYYY-MM-DD`` partition folders, as the seed lays them out locally and in S3."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from zfish.problems import Problem

PARTITION_KEY = "day"
_PARTITION_RE = re.compile(r"^day=(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True, order=True)
class Partition:
    day: date
    path: Path

    @property
    def name(self) -> str:
        return partition_name(self.day)


def partition_name(day: date) -> str:
    return f"{PARTITION_KEY}={day.isoformat()}"


def parse_partition_name(name: str) -> date:
    """The day of a ``day=YYYY-MM-DD`` folder name; ``ValueError`` says why not."""
    match = _PARTITION_RE.match(name)
    if not match:
        raise ValueError(
            f"unknown partition name {name!r}; expected day=YYYY-MM-DD: rename or remove it"
        )
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        raise ValueError(
            f"partition {name!r} names no real day; expected day=YYYY-MM-DD: rename or remove it"
        ) from None


def scan(kind_dir: Path) -> tuple[list[Partition], list[Problem]]:
    """Partitions under ``kind_dir`` sorted by day, and entries that are not partitions.

    Hidden entries (``.DS_Store``, temp files) are ignored, as ``cp dir/*`` does.
    """
    partitions: list[Partition] = []
    problems: list[Problem] = []
    if not kind_dir.is_dir():
        return partitions, problems
    with os.scandir(kind_dir) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if not entry.is_dir():
                problems.append(
                    Problem(path, "file outside any day=YYYY-MM-DD partition; move it into one")
                )
                continue
            try:
                partitions.append(Partition(parse_partition_name(entry.name), path))
            except ValueError as exc:
                problems.append(Problem(path, str(exc)))
    partitions.sort()
    return partitions, problems


def files_in(partition_dir: Path) -> list[Path]:
    """Every non-hidden file below a partition folder, sorted, as relative paths."""
    found: list[Path] = []
    for root, dirs, files in os.walk(partition_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        base = Path(root)
        found.extend(
            (base / name).relative_to(partition_dir)
            for name in sorted(files)
            if not name.startswith(".")
        )
    return found
