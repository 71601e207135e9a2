"""Write markers of an instant, ``.hoodie/.temp/<instant>/``: zfish's direct ones, and the JVM's.

A marker is written *before* its data file (``WriteMarkers.getMarkerFileName``),
so after a crash the markers of a pending instant name every data file it may
have started. zfish writes DIRECT markers: one empty file
``<partition>/<file>.marker.<IOType>`` per data file (no ``MARKERS.type`` file
means DIRECT to Hudi, ``MarkerBasedRollbackUtils``), which the JVM's
marker-based rollback reads too. The JVM Spark writer defaults to
TIMELINE_SERVER_BASED markers: ``MARKERS.type`` holds that name and the
embedded timeline server appends marker names, one per line, to
``MARKERS<n>`` files (``MarkerUtils.readTimelineServerBasedMarkersFromFileSystem``);
it answers a task's marker request only after the line is on storage, so those
files too name every data file the attempt started. Both kinds are read here,
for zfish's rollback of any pending instant and its commit-time check that
every marked file was reported (a retried Spark task leaves a marked file
nobody reports).
"""

from __future__ import annotations

from zfish.hudi.options import (
    MARKER_TYPE_DIRECT,
    MARKER_TYPE_TIMELINE_SERVER_BASED,
    MARKERS_FILE_PREFIX,
    MARKERS_TYPE_FILE,
    METAFOLDER,
    TEMP_FOLDER,
)
from zfish.hudi.storage import Storage

CREATE = "CREATE"
MERGE = "MERGE"
APPEND = "APPEND"
_SUFFIX = ".marker."


def marker_dir(instant: str) -> str:
    return f"{METAFOLDER}/{TEMP_FOLDER}/{instant}"


def marker_path(instant: str, partition: str, file_name: str, io_type: str) -> str:
    return Storage.join(marker_dir(instant), partition, f"{file_name}{_SUFFIX}{io_type}")


def create_marker(
    storage: Storage, instant: str, partition: str, file_name: str, io_type: str
) -> None:
    storage.write_bytes(marker_path(instant, partition, file_name, io_type), b"")


def marker_type(storage: Storage, instant: str) -> str:
    """``DIRECT`` or ``TIMELINE_SERVER_BASED`` (the content of ``MARKERS.type``, if any)."""
    path = Storage.join(marker_dir(instant), MARKERS_TYPE_FILE)
    if not storage.exists(path):
        return MARKER_TYPE_DIRECT
    return storage.read_bytes(path).decode("utf-8", "replace").strip()


def marker_names(storage: Storage, instant: str) -> list[str]:
    """Marker names (``<partition>/<file>.marker.<IOType>``) of ``instant``, of either type."""
    root = marker_dir(instant)
    kind = marker_type(storage, instant)
    names: set[str] = set()
    if kind == MARKER_TYPE_TIMELINE_SERVER_BASED:
        for entry in storage.list_dir(root):
            if (
                entry.is_dir
                or not entry.name.startswith(MARKERS_FILE_PREFIX)
                or entry.name == MARKERS_TYPE_FILE
            ):
                continue
            text = storage.read_bytes(entry.path).decode("utf-8", "replace")
            names.update(line.strip() for line in text.splitlines() if _SUFFIX in line)
        return sorted(names)
    if kind != MARKER_TYPE_DIRECT:
        raise ValueError(
            f"{storage.uri(root)}/{MARKERS_TYPE_FILE} names marker type {kind!r}, which Hudi "
            "0.15 does not write"
        )
    prefix = root + "/"
    for entry in storage.list_dir(root, recursive=True):
        if entry.is_dir or _SUFFIX not in entry.name or Storage.is_crc_sidecar(entry.name):
            continue
        names.add(entry.path[len(prefix) :] if entry.path.startswith(prefix) else entry.path)
    return sorted(names)


def marked_data_files(storage: Storage, instant: str) -> list[str]:
    """Table-relative paths of the data files the markers of ``instant`` name."""
    return sorted({name.rsplit(_SUFFIX, 1)[0] for name in marker_names(storage, instant)})


def delete_markers(storage: Storage, instant: str) -> None:
    storage.delete_dir(marker_dir(instant))
