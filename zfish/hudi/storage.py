"""Table storage through ``pyarrow.fs``: relative paths under the table root, atomic writes.

Everything the writer touches goes through ``Storage`` so the same code writes
to a local directory (what the tests use) or an object store such as S3.

Atomicity: on a local or other rename-capable filesystem, ``write_atomic``
writes a hidden temp file next to the target and renames it over the target; a
reader sees the old state or the complete new file, never a prefix. On object
stores (S3, GCS) a single PUT is already atomic and there is no cheap rename,
so the object is written directly. Exclusive creation (the lock) uses
``O_CREAT | O_EXCL`` locally; object stores have no such primitive through
pyarrow, so there it is best effort (create, then read back the owner token).

Checksum sidecars: a JVM writer on a local disk goes through Hadoop's
``LocalFileSystem`` (a ``ChecksumFileSystem``), which writes ``.<name>.crc`` next
to every file it writes and deletes it with the file. ``delete_file`` does the
same on local disks, so a file zfish removes (a rolled-back JVM data file, a
cleaned slice, an instant file) leaves no orphan sidecar behind.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.fs as pafs

from zfish.hudi.options import HADOOP_CRC_SUFFIX


@dataclass(frozen=True)
class Entry:
    """One listed file or directory, ``path`` relative to the table root."""

    path: str
    name: str
    is_dir: bool
    size: int
    mtime_ns: int


def _join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


class Storage:
    """A table root on a ``pyarrow.fs`` filesystem. Picklable (no open handles)."""

    def __init__(self, base_path: str, filesystem: pafs.FileSystem | None = None):
        base_path = str(base_path)
        if filesystem is None:
            if "://" in base_path:
                filesystem, root = pafs.FileSystem.from_uri(base_path)
                self.base_uri = base_path.rstrip("/")
            else:
                filesystem = pafs.LocalFileSystem()
                root = os.path.abspath(base_path)
                self.base_uri = root
        else:
            root = base_path
            self.base_uri = base_path.rstrip("/")
        self.fs: pafs.FileSystem = filesystem
        self.root = root.rstrip("/") or "/"
        self.local = isinstance(filesystem, pafs.LocalFileSystem)

    # --- paths ---

    def full(self, rel: str) -> str:
        """The filesystem path of a table-relative path."""
        rel = rel.strip("/")
        if not rel:
            return self.root
        return self.root + "/" + rel if self.root != "/" else "/" + rel

    def uri(self, rel: str) -> str:
        """An absolute URI of a table-relative path (as Hudi records paths in clean plans)."""
        rel = rel.strip("/")
        return self.base_uri + ("/" + rel if rel else "")

    @staticmethod
    def join(*parts: str) -> str:
        return _join(*parts)

    @staticmethod
    def crc_sidecar(rel: str) -> str:
        """Hadoop's checksum file of ``rel``: ``.<name>.crc`` in the same directory."""
        parent, _, name = rel.rpartition("/")
        return _join(parent, f".{name}{HADOOP_CRC_SUFFIX}")

    @staticmethod
    def is_crc_sidecar(name: str) -> bool:
        return name.startswith(".") and name.endswith(HADOOP_CRC_SUFFIX)

    # --- queries ---

    def info(self, rel: str) -> pafs.FileInfo:
        return self.fs.get_file_info(self.full(rel))

    def exists(self, rel: str) -> bool:
        return bool(self.info(rel).type != pafs.FileType.NotFound)

    def is_dir(self, rel: str) -> bool:
        return bool(self.info(rel).type == pafs.FileType.Directory)

    def size(self, rel: str) -> int | None:
        info = self.info(rel)
        if info.type != pafs.FileType.File:
            return None
        return int(info.size)

    def list_dir(self, rel: str, recursive: bool = False) -> list[Entry]:
        """Entries of a directory (empty when it does not exist)."""
        selector = pafs.FileSelector(self.full(rel), allow_not_found=True, recursive=recursive)
        prefix = self.root.rstrip("/") + "/"
        out = []
        for info in self.fs.get_file_info(selector):
            path = info.path
            relpath = path[len(prefix) :] if path.startswith(prefix) else path.lstrip("/")
            out.append(
                Entry(
                    path=relpath,
                    name=info.base_name,
                    is_dir=info.type == pafs.FileType.Directory,
                    size=int(info.size or 0),
                    mtime_ns=int(info.mtime_ns or 0),
                )
            )
        out.sort(key=lambda e: e.path)
        return out

    def read_bytes(self, rel: str) -> bytes:
        with self.fs.open_input_stream(self.full(rel)) as f:
            data: bytes = f.read()
        return data

    def open_input_file(self, rel: str) -> pa.NativeFile:
        return self.fs.open_input_file(self.full(rel))

    # --- mutations ---

    def mkdirs(self, rel: str) -> None:
        self.fs.create_dir(self.full(rel), recursive=True)

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write a file directly (not atomic on local disks; used for data files and markers)."""
        parent = rel.rsplit("/", 1)[0] if "/" in rel else ""
        if parent and self.local:
            self.mkdirs(parent)
        with self.fs.open_output_stream(self.full(rel)) as f:
            f.write(data)

    def write_atomic(self, rel: str, data: bytes, durable: bool = False) -> None:
        """Write a file so that readers see either nothing/old content or all of ``data``.

        ``durable`` also flushes the content to disk before the rename (commit
        points), so a power loss cannot leave a renamed but empty file.
        """
        if not self.local:
            # An object-store PUT is atomic; rename would be a copy.
            self.write_bytes(rel, data)
            return
        parent, _, name = rel.rpartition("/")
        tmp = _join(parent, f".{name}.{uuid.uuid4().hex}.tmp")
        self.write_bytes(tmp, data)
        try:
            if durable:
                with open(self.full(tmp), "rb+") as fh:
                    os.fsync(fh.fileno())
            self.fs.move(self.full(tmp), self.full(rel))
        except BaseException:
            self.delete_file(tmp)
            raise

    def create_exclusive(self, rel: str, data: bytes) -> bool:
        """Create a file only if it does not exist; False when it already exists."""
        if self.local:
            parent = rel.rsplit("/", 1)[0] if "/" in rel else ""
            if parent:
                self.mkdirs(parent)
            try:
                fd = os.open(self.full(rel), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            return True
        if self.exists(rel):
            return False
        self.write_bytes(rel, data)
        return self.read_bytes(rel) == data

    def rename(self, src: str, dst: str) -> None:
        self.fs.move(self.full(src), self.full(dst))

    def delete_file(self, rel: str) -> bool:
        """Delete a file (and its Hadoop ``.crc`` sidecar); False when it was already gone."""
        deleted = self._delete(rel)
        if self.local:
            self._delete(self.crc_sidecar(rel))
        return deleted

    def _delete(self, rel: str) -> bool:
        try:
            self.fs.delete_file(self.full(rel))
        except FileNotFoundError:
            return False
        except OSError:
            if self.exists(rel):
                raise
            return False
        return True

    def delete_dir(self, rel: str) -> None:
        """Delete a directory tree; nothing when it is already gone."""
        if self.is_dir(rel):
            self.fs.delete_dir(self.full(rel))

    def remove_empty_dirs(self, rel: str, stop: str = "") -> None:
        """Remove ``rel`` and its parents up to (excluding) ``stop`` while they are empty."""
        rel = rel.strip("/")
        stop = stop.strip("/")
        while rel and rel != stop:
            if not self.is_dir(rel) or self.list_dir(rel):
                return
            self.fs.delete_dir(self.full(rel))
            rel = rel.rpartition("/")[0]
