"""``zfish upload --until DAY``: the seed's ``upload_to_s3.sh``, made incremental and crash-safe.

For observations, images and outcomes, every ``day=`` partition of the study
whose date is strictly before DAY is copied into the lake; JSON is compacted
exactly as ``jq -c .`` would, everything else (the PNGs) is copied byte for
byte. A file already in the lake with the right bytes is left alone, so a
rerun copies nothing and a later DAY copies only the new partitions; a
partition whose source changed is re-copied and reported.

A partition holding a file that is not valid JSON is not copied at all (a
half partition would be visible to the crawler); every bad file is reported
with its reason, the valid partitions still land, and the command exits
non-zero. Files land through temp + rename, so a killed upload leaves no
partial file and a rerun completes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from zfish import console
from zfish.exceptions import ValidationError
from zfish.fsutil import atomic_write_bytes, remove_stale_temp_files
from zfish.lake import partitions
from zfish.lake.jsoncompact import JsonInputError, compact
from zfish.problems import Problem
from zfish.settings import KINDS, LakeLayout, ensure_inside


@dataclass
class KindStats:
    """What happened to one kind (observations, images or outcomes)."""

    partitions_new: list[str] = field(default_factory=list)
    partitions_updated: list[str] = field(default_factory=list)
    partitions_unchanged: int = 0
    partitions_empty: int = 0
    partitions_not_due: int = 0
    partitions_rejected: int = 0
    files_new: int = 0
    files_updated: int = 0
    files_unchanged: int = 0
    bytes_written: int = 0


@dataclass
class UploadReport:
    source: Path
    destination: str
    until: date
    kinds: dict[str, KindStats] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def files_copied(self) -> int:
        return sum(k.files_new + k.files_updated for k in self.kinds.values())

    def rows(self) -> list[tuple[str, str]]:
        rows = [("destination", self.destination), ("until (exclusive)", self.until.isoformat())]
        for kind, stats in self.kinds.items():
            rows.append(
                (
                    kind,
                    f"{len(stats.partitions_new)} new, {len(stats.partitions_updated)} re-copied, "
                    f"{stats.partitions_unchanged} unchanged, {stats.partitions_not_due} not due"
                    + (
                        f", {stats.partitions_rejected} rejected"
                        if stats.partitions_rejected
                        else ""
                    )
                    + f" partitions; files {stats.files_new} new, {stats.files_updated} updated, "
                    f"{stats.files_unchanged} unchanged ({console.human_bytes(stats.bytes_written)})",
                )
            )
            if stats.partitions_updated:
                rows.append((f"  {kind} re-copied", ", ".join(stats.partitions_updated)))
        rows.append(("problems", str(len(self.problems))))
        rows.append(("seconds", f"{self.seconds:.2f}"))
        return rows


def _lake_bytes(path: Path, data: bytes) -> bytes:
    """What the lake should hold for a source file: ``jq -c .`` of JSON, else the bytes."""
    return compact(data) if path.suffix.lower() == ".json" else data


def _same_content(target: Path, expected: bytes) -> bool:
    try:
        if target.stat().st_size != len(expected):
            return False
        return target.read_bytes() == expected
    except FileNotFoundError:
        return False


def upload(
    source: Path,
    layout: LakeLayout,
    until: date,
    *,
    show_progress: bool = True,
    before_writing: Callable[[partitions.Partition], None] | None = None,
) -> UploadReport:
    """Copy every partition strictly before ``until`` from ``source`` into the lake.

    ``before_writing`` is called with a partition right before the first of its
    files is written (not for partitions already as they should be).
    """
    started = time.perf_counter()
    if not source.is_dir():
        raise ValidationError(
            f"no study at {source}: run `zfish generate` first or point --data/ZFISH_DATA at it"
        )
    if not any((source / kind).is_dir() for kind in KINDS):
        raise ValidationError(
            f"{source} holds none of {', '.join(KINDS)}; point --data at the study folder "
            "(the one with observations/, images/ and outcomes/)"
        )
    report = UploadReport(source=source, destination=layout.s3_uri, until=until)
    layout.root.mkdir(parents=True, exist_ok=True)

    plan: list[tuple[str, partitions.Partition, list[Path]]] = []
    for kind in KINDS:
        stats = report.kinds.setdefault(kind, KindStats())
        found, problems = partitions.scan(source / kind)
        report.problems.extend(problems)
        for part in found:
            if part.day >= until:
                stats.partitions_not_due += 1
                continue
            files = partitions.files_in(part.path)
            if not files:
                # S3 has no empty folders: the seed's `aws s3 cp` of an empty day uploads nothing.
                stats.partitions_empty += 1
                continue
            plan.append((kind, part, files))

    total = sum(len(files) for _, _, files in plan)
    with console.progress("upload", total, enabled=show_progress) as advance:
        for kind, part, files in plan:
            _upload_partition(layout, kind, part, files, report, before_writing)
            advance(len(files))
    report.seconds = time.perf_counter() - started
    return report


def stage_partition(
    part: partitions.Partition, files: list[Path]
) -> tuple[list[tuple[Path, bytes]], list[Problem]]:
    """(relative path, the bytes the lake holds for it) of each file, and the files that cannot be.

    A partition with any problem is not to be written at all (a half partition
    would be visible to the crawler); ``zfish feed`` holds it back the same way.
    """
    staged: list[tuple[Path, bytes]] = []
    bad: list[Problem] = []
    for rel in files:
        src = part.path / rel
        try:
            staged.append((rel, _lake_bytes(src, src.read_bytes())))
        except JsonInputError as exc:
            bad.append(Problem(src, f"invalid JSON: {exc.reason}"))
        except OSError as exc:
            bad.append(Problem(src, f"unreadable: {exc.strerror or exc}"))
    return staged, bad


def _upload_partition(
    layout: LakeLayout,
    kind: str,
    part: partitions.Partition,
    files: list[Path],
    report: UploadReport,
    before_writing: Callable[[partitions.Partition], None] | None = None,
) -> None:
    stats = report.kinds[kind]
    # Validate the whole partition before writing any of it.
    staged, bad = stage_partition(part, files)
    if bad:
        report.problems.extend(bad)
        report.problems.append(
            Problem(
                part.path, f"partition not uploaded: {len(bad)} bad file(s); fix them and rerun"
            )
        )
        stats.partitions_rejected += 1
        return

    target_dir = ensure_inside(layout.kind_dir(kind) / part.name, layout.root)
    existed = target_dir.is_dir()
    for folder in {(target_dir / rel).parent for rel, _ in staged}:
        remove_stale_temp_files(folder)
    changed = 0
    for rel, data in staged:
        target = target_dir / rel
        if _same_content(target, data):
            stats.files_unchanged += 1
            continue
        is_new = not target.exists()
        if before_writing is not None and not changed:
            before_writing(part)
        atomic_write_bytes(target, data)
        stats.bytes_written += len(data)
        changed += 1
        if is_new:
            stats.files_new += 1
        else:
            stats.files_updated += 1
    if not existed:
        stats.partitions_new.append(part.name)
    elif changed:
        stats.partitions_updated.append(part.name)
    else:
        stats.partitions_unchanged += 1
