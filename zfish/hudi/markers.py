"""Direct write markers: ``.hoodie/.temp/<instant>/<partition>/<file>.marker.<IOType>``.

A marker is written *before* its data file (``WriteMarkers.getMarkerFileName``),
so after a crash the markers of a pending instant name every data file it may
have started. zfish's rollback and Hudi's JVM marker-based rollback both use
them (no ``MARKERS.type`` file means DIRECT markers to Hudi). At commit,
markers whose file is not in the write statistics (a retried Spark task) point
at files to delete.
"""

from __future__ import annotations

from zfish.hudi.options import METAFOLDER, TEMP_FOLDER
from zfish.hudi.storage import Storage

CREATE = "CREATE"
MERGE = "MERGE"
_SUFFIX = ".marker."


def marker_dir(instant: str) -> str:
    return f"{METAFOLDER}/{TEMP_FOLDER}/{instant}"


def marker_path(instant: str, partition: str, file_name: str, io_type: str) -> str:
    return Storage.join(marker_dir(instant), partition, f"{file_name}{_SUFFIX}{io_type}")


def create_marker(
    storage: Storage, instant: str, partition: str, file_name: str, io_type: str
) -> None:
    storage.write_bytes(marker_path(instant, partition, file_name, io_type), b"")


def marked_data_files(storage: Storage, instant: str) -> list[str]:
    """Table-relative paths of the data files the markers of ``instant`` name."""
    root = marker_dir(instant) + "/"
    out = []
    for entry in storage.list_dir(marker_dir(instant), recursive=True):
        if entry.is_dir or _SUFFIX not in entry.name:
            continue
        rel = entry.path[len(root) :] if entry.path.startswith(root) else entry.path
        out.append(rel.rsplit(_SUFFIX, 1)[0])
    return sorted(set(out))


def delete_markers(storage: Storage, instant: str) -> None:
    storage.delete_dir(marker_dir(instant))
