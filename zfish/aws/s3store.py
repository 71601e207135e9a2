"""S3 objects over the lake directory: a bucket is a top-level folder, an object is a file.

What zfish writes directly is an object, and what a client PUTs is a plain
file that the crawler and the ETL read byte for byte. What S3 has and a
file system does not lives in ``<lake>/.zfish-s3/``, which no listing,
crawler or ETL sees:

- ``objects.sqlite``: per file, the ETag (MD5, or the ``-N`` form of a
  multipart upload), Content-Type, user metadata and checksum, valid while
  the file's size, mtime and inode are the ones recorded. A file written by
  something else gets its MD5 computed once and cached; one modified within
  the last two seconds is not cached yet, because a second write within the
  file system's timestamp granularity could leave size and mtime unchanged.
- ``markers``: folder markers (``PUT key/``), since folders are never objects.
- ``tmp/``: bodies being received; ``uploads/``: multipart uploads in progress.

Writes are atomic: a body goes to ``tmp/`` and is renamed into place only
after its digests check out, so an object appears whole or not at all.
Bodies are not fsynced (a killed server leaves whole files or none; a power
cut may lose the newest objects, as on an unflushed disk).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import stat as stat_module
import threading
import time
import uuid
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zfish.exceptions import AwsApiError
from zfish.fsutil import TEMP_MARK
from zfish.settings import check_bucket

STATE_DIR = ".zfish-s3"
# zfish's own catalog folder; never reachable through the API.
HIDDEN_SEGMENTS = frozenset({"_catalog"})
MAX_KEY_BYTES = 1024
MAX_SEGMENT_BYTES = 255
# A file modified this recently may change again within one mtime tick: do not cache its MD5 yet.
RACY_SECONDS = 2.0
COPY_BUFFER = 1024 * 1024
EMPTY_MD5 = hashlib.md5(b"").hexdigest()
DIR_CACHE_SIZE = 512


@dataclass
class ObjectInfo:
    """One object as S3 reports it."""

    key: str
    size: int
    mtime: float
    etag: str  # without quotes
    content_type: str = "binary/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)  # Content-Encoding, Cache-Control, ...
    metadata: dict[str, str] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    is_marker: bool = False


@dataclass(frozen=True)
class ListEntry:
    """A key or a common prefix in listing order."""

    key: str
    path: Path | None
    is_prefix: bool = False
    is_marker: bool = False


def no_such_bucket(bucket: str) -> AwsApiError:
    return AwsApiError(
        "NoSuchBucket",
        "The specified bucket does not exist",
        status=404,
        fields={"BucketName": bucket},
    )


def no_such_key(key: str) -> AwsApiError:
    return AwsApiError(
        "NoSuchKey", "The specified key does not exist.", status=404, fields={"Key": key}
    )


def _invalid_key(key: str, why: str) -> AwsApiError:
    return AwsApiError(
        "InvalidArgument",
        f"zfish maps S3 keys onto files in the lake and cannot store key {key!r}: {why}",
        status=400,
        fields={"ArgumentName": "key", "ArgumentValue": key[:200]},
    )


def _hidden_name(name: str) -> bool:
    return name.endswith(TEMP_MARK) or name in HIDDEN_SEGMENTS


class ObjectStore:
    """Buckets and objects of one lake root."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.state = self.root / STATE_DIR
        self.tmp = self.state / "tmp"
        self.uploads = self.state / "uploads"
        for folder in (self.tmp, self.uploads):
            folder.mkdir(parents=True, exist_ok=True)
        self._clean_temporaries()
        self._lock = threading.Lock()
        self._db = self._open_db()
        # Folder markers, by lake-relative path: this process owns the lake's S3 state.
        self._markers: set[str] = {row[0] for row in self._db.execute("SELECT path FROM markers")}
        self._dir_cache: OrderedDict[Path, tuple[int, list[str], list[bool]]] = OrderedDict()
        self._dir_lock = threading.Lock()

    # -- state ------------------------------------------------------------------

    def _clean_temporaries(self) -> None:
        """Bodies a killed server was receiving: never visible, removed at the next start."""
        for leftover in self.tmp.iterdir():
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
        for upload in self.uploads.iterdir():
            for part in upload.glob("*.tmp"):
                part.unlink(missing_ok=True)
            if not (upload / "upload.json").is_file():
                shutil.rmtree(upload, ignore_errors=True)

    def _open_db(self) -> sqlite3.Connection:
        path = self.state / "objects.sqlite"
        for attempt in range(2):
            try:
                db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS objects (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,"
                    " ino INTEGER, etag TEXT, content_type TEXT, headers TEXT, metadata TEXT, checksums TEXT)"
                )
                db.execute("CREATE TABLE IF NOT EXISTS markers (path TEXT PRIMARY KEY)")
                return db
            except sqlite3.DatabaseError:
                # A cache: a corrupt one is rebuilt (multipart ETags fall back to the MD5).
                if attempt:
                    raise
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    # -- buckets ----------------------------------------------------------------

    def bucket_path(self, bucket: str) -> Path:
        try:
            check_bucket(bucket)
        except Exception:
            raise AwsApiError(
                "InvalidBucketName",
                "The specified bucket is not valid.",
                status=400,
                fields={"BucketName": bucket},
            ) from None
        return self.root / bucket

    def existing_bucket(self, bucket: str) -> Path:
        path = self.bucket_path(bucket)
        if not path.is_dir():
            raise no_such_bucket(bucket)
        return path

    def buckets(self) -> list[tuple[str, float]]:
        found = []
        for entry in sorted(os.scandir(self.root), key=lambda e: e.name):
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            try:
                check_bucket(entry.name)
            except Exception:
                continue
            found.append((entry.name, entry.stat().st_mtime))
        return found

    def create_bucket(self, bucket: str) -> bool:
        """True when it was created, False when it already existed."""
        path = self.bucket_path(bucket)
        try:
            path.mkdir()
        except FileExistsError:
            return False
        return True

    def delete_bucket(self, bucket: str) -> None:
        path = self.existing_bucket(bucket)
        if next(self.walk(bucket, "", ""), None) is not None:
            raise AwsApiError(
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty",
                status=409,
                fields={"BucketName": bucket},
            )
        for _dirpath, _dirs, files in os.walk(path):
            if files:
                raise AwsApiError(
                    "BucketNotEmpty",
                    f"The bucket holds files zfish keeps out of the API (e.g. its catalog); delete {path} by hand",
                    status=409,
                    fields={"BucketName": bucket},
                )
        with self._lock:
            self._db.execute(
                "DELETE FROM markers WHERE path = ? OR path LIKE ?", (bucket, f"{bucket}/%")
            )
            self._markers = {
                m for m in self._markers if m != bucket and not m.startswith(f"{bucket}/")
            }
        shutil.rmtree(path)

    # -- keys and paths -----------------------------------------------------------

    def path_for(self, bucket: str, key: str) -> Path:
        """The file (or, for ``key/``, the folder) a key maps to; refuses keys that cannot map."""
        base = self.existing_bucket(bucket)
        if not key:
            raise _invalid_key(key, "the key is empty")
        if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
            raise AwsApiError("KeyTooLongError", "Your key is too long", status=400)
        body = key[:-1] if key.endswith("/") else key
        segments = body.split("/")
        for segment in segments:
            if segment in ("", ".", ".."):
                raise _invalid_key(
                    key, "it has an empty, '.' or '..' path segment, which would leave its folder"
                )
            if (
                "\x00" in segment
                or len(segment.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES
            ):
                raise _invalid_key(key, "a path segment holds NUL or is longer than 255 bytes")
            if _hidden_name(segment):
                raise AwsApiError(
                    "AccessDenied",
                    f"{segment!r} is zfish's own and not reachable through S3",
                    status=403,
                )
        return base.joinpath(*segments)

    def _conflict(self, key: str, why: str) -> AwsApiError:
        return AwsApiError(
            "InvalidRequest",
            f"zfish maps S3 keys onto files in the lake and cannot store key {key!r}: {why}. "
            "A key cannot be both an object and a prefix of other objects here.",
            status=409,
        )

    # -- metadata cache -------------------------------------------------------------

    def record(
        self,
        path: Path,
        etag: str,
        *,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        metadata: dict[str, str] | None = None,
        checksums: dict[str, str] | None = None,
    ) -> os.stat_result:
        st = path.stat()
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self._rel(path),
                    st.st_size,
                    st.st_mtime_ns,
                    st.st_ino,
                    etag,
                    content_type,
                    json.dumps(headers or {}),
                    json.dumps(metadata or {}),
                    json.dumps(checksums or {}),
                ),
            )
        return st

    def info(self, key: str, path: Path, st: os.stat_result | None = None) -> ObjectInfo:
        """The object a file is; its MD5 computed once if nothing recorded it."""
        return self._resolve([(key, self._rel(path), path, st or path.stat())])[0]

    def _is_marker(self, folder: Path) -> bool:
        return bool(self._markers) and self._rel(folder) in self._markers

    def head(self, bucket: str, key: str) -> ObjectInfo:
        path = self.path_for(bucket, key)
        if key.endswith("/"):
            if path.is_dir() and self._is_marker(path):
                return ObjectInfo(key, 0, path.stat().st_mtime, EMPTY_MD5, is_marker=True)
            raise no_such_key(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise no_such_key(key) from None
        if not _is_regular(st):
            raise no_such_key(key)
        return self.info(key, path, st)

    # -- listing ------------------------------------------------------------------------

    def _entries(self, folder: Path) -> tuple[list[str], list[bool]]:
        """A folder's visible entries in S3 key order (a folder sorts as ``name/``)."""
        try:
            st = folder.stat()
        except (FileNotFoundError, NotADirectoryError):
            return [], []
        with self._dir_lock:
            hit = self._dir_cache.get(folder)
            if hit is not None and hit[0] == st.st_mtime_ns:
                self._dir_cache.move_to_end(folder)
                return hit[1], hit[2]
        names: list[tuple[str, bool]] = []
        try:
            with os.scandir(folder) as it:
                for entry in it:
                    name = entry.name
                    if _hidden_name(name) or (folder == self.root and name.startswith(".")):
                        continue
                    try:
                        is_dir = entry.is_dir(follow_symlinks=False)
                    except OSError:
                        continue
                    names.append((name + "/" if is_dir else name, is_dir))
        except (FileNotFoundError, NotADirectoryError):
            return [], []
        names.sort()
        sort_keys = [n for n, _ in names]
        dirs = [d for _, d in names]
        # A folder changed within the mtime granularity might change again unseen: don't cache it yet.
        if time.time() - st.st_mtime > RACY_SECONDS:
            with self._dir_lock:
                self._dir_cache[folder] = (st.st_mtime_ns, sort_keys, dirs)
                while len(self._dir_cache) > DIR_CACHE_SIZE:
                    self._dir_cache.popitem(last=False)
        return sort_keys, dirs

    def _has_visible(self, folder: Path, rel_prefix: str) -> bool:
        if self._is_marker(folder):
            return True
        names, dirs = self._entries(folder)
        for name, is_dir in zip(names, dirs, strict=True):
            if not is_dir:
                return True
            if self._has_visible(folder / name[:-1], rel_prefix + name):
                return True
        return False

    def walk(
        self, bucket: str, prefix: str, start: str, delimiter: str | None = None
    ) -> Iterator[ListEntry]:
        """Keys (and, for delimiter ``/``, common prefixes) after ``start``, in S3 order."""
        base = self.existing_bucket(bucket)
        anchor = prefix.rpartition("/")[0]
        folder = base
        rel = ""
        if anchor:
            for segment in anchor.split("/"):
                if segment in ("", ".", "..") or _hidden_name(segment):
                    return
            folder = base.joinpath(*anchor.split("/"))
            rel = anchor + "/"
            if self._is_marker(folder) and rel.startswith(prefix) and rel > start:
                yield ListEntry(rel, folder, is_marker=True)
        yield from self._walk(folder, rel, prefix, start, delimiter)

    def _walk(
        self, folder: Path, rel: str, prefix: str, start: str, delimiter: str | None
    ) -> Iterator[ListEntry]:
        names, dirs = self._entries(folder)
        # Skip straight to the first entry that can hold a key after `start`.
        first = 0
        if start > rel and start.startswith(rel):
            rest = start[len(rel) :]
            first = bisect_right(names, rest)
            # A folder whose name sorts at or before `rest` may still hold later keys.
            if first > 0 and dirs[first - 1] and rest.startswith(names[first - 1]):
                first -= 1
        for index in range(first, len(names)):
            name = names[index]
            key = rel + name
            if dirs[index]:
                if not (key.startswith(prefix) or prefix.startswith(key)):
                    if key > prefix:
                        return
                    continue
                sub = folder / name[:-1]
                if delimiter == "/" and key.startswith(prefix) and len(key) > len(prefix):
                    # The whole folder rolls up into one common prefix.
                    if key > start and self._has_visible(sub, key):
                        yield ListEntry(key, sub, is_prefix=True)
                    continue
                if key > start and self._is_marker(sub) and key.startswith(prefix):
                    yield ListEntry(key, sub, is_marker=True)
                if start < key or start.startswith(key):
                    yield from self._walk(sub, key, prefix, start, delimiter)
            else:
                if key <= start:
                    continue
                if not key.startswith(prefix):
                    if key > prefix:
                        return
                    continue
                yield ListEntry(key, folder / name)

    def list_page(
        self, bucket: str, prefix: str, start: str, delimiter: str | None, max_keys: int
    ) -> tuple[list[ObjectInfo], list[str], bool]:
        """One page: objects, common prefixes, and whether more follow."""
        prefixes: list[str] = []
        files: list[tuple[str, Path]] = []  # objects' keys in listing order
        markers: dict[str, ObjectInfo] = {}
        count = 0
        truncated = False
        for entry in self.walk(bucket, prefix, start, delimiter):
            common = None
            if delimiter and delimiter != "/" and not entry.is_prefix:
                cut = entry.key.find(delimiter, len(prefix))
                if cut >= 0:
                    common = entry.key[: cut + len(delimiter)]
                    if common <= start or (prefixes and prefixes[-1] == common):
                        continue
            if count == max_keys:
                truncated = True
                break
            if common is not None:
                prefixes.append(common)
            elif entry.is_prefix:
                prefixes.append(entry.key)
            elif entry.is_marker:
                assert entry.path is not None
                marker = ObjectInfo(
                    entry.key, 0, entry.path.stat().st_mtime, EMPTY_MD5, is_marker=True
                )
                markers[entry.key] = marker
                files.append((entry.key, entry.path))
            else:
                assert entry.path is not None
                files.append((entry.key, entry.path))
            count += 1
        # Files are resolved in one batch; markers keep their place among them (key order).
        resolved = {o.key: o for o in self.infos(bucket, [f for f in files if f[0] not in markers])}
        objects = [
            markers.get(key) or resolved[key]
            for key, _ in files
            if key in markers or key in resolved
        ]
        return objects, prefixes, truncated

    def infos(self, bucket: str, files: list[tuple[str, Path]]) -> list[ObjectInfo]:
        """Objects of many files at once: one stat each, one cache query per 500, MD5s of the rest."""
        stats: list[tuple[str, str, Path, os.stat_result]] = []
        for key, path in files:
            try:
                st = os.stat(path)
            except (FileNotFoundError, NotADirectoryError):
                continue  # deleted since its folder was read
            if _is_regular(st):
                stats.append((key, f"{bucket}/{key}", path, st))
        return self._resolve(stats)

    def _resolve(self, stats: list[tuple[str, str, Path, os.stat_result]]) -> list[ObjectInfo]:
        """(key, lake-relative path, path, stat) to objects: recorded rows where they still
        match the file, else its MD5, recorded once the file has settled and did not change
        while it was read."""
        rows: dict[str, tuple[Any, ...]] = {}
        with self._lock:
            for start in range(0, len(stats), 500):
                chunk = [rel for _, rel, _, _ in stats[start : start + 500]]
                marks = ",".join("?" * len(chunk))
                for row in self._db.execute(
                    "SELECT path, size, mtime_ns, ino, etag, content_type, headers, metadata, checksums"
                    f" FROM objects WHERE path IN ({marks})",
                    chunk,
                ):
                    rows[row[0]] = tuple(row)
        found: list[ObjectInfo] = []
        fresh: list[tuple[Any, ...]] = []
        now = time.time()
        for key, rel, path, st in stats:
            identity = (st.st_size, st.st_mtime_ns, st.st_ino)
            row = rows.get(rel)
            if row is not None and row[1:4] == identity:
                found.append(_from_row(key, path, st, row[4:]))
                continue
            etag = _md5_of(path)
            if now - st.st_mtime > RACY_SECONDS:
                try:
                    again = os.stat(path)
                except FileNotFoundError:
                    again = None
                if (
                    again is not None
                    and (again.st_size, again.st_mtime_ns, again.st_ino) == identity
                ):
                    fresh.append((rel, *identity, etag))
            found.append(ObjectInfo(key, st.st_size, st.st_mtime, etag, path=path))
        if fresh:
            with self._lock:
                self._db.executemany(
                    "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, NULL, '{}', '{}', '{}')",
                    fresh,
                )
        return found

    # -- writes -------------------------------------------------------------------------

    def temp_file(self) -> Path:
        return self.tmp / f"{uuid.uuid4().hex}.tmp"

    def _prepare_parent(self, bucket: str, key: str, path: Path) -> None:
        base = self.existing_bucket(bucket)
        parent = path.parent
        probe = parent
        while probe != base:
            if probe.exists() and not probe.is_dir():
                raise self._conflict(key, f"{self._rel(probe)!r} is an object")
            probe = probe.parent
        parent.mkdir(parents=True, exist_ok=True)

    def commit(self, bucket: str, key: str, temp: Path) -> Path:
        """Rename a fully received and checked body into place (atomic)."""
        path = self.path_for(bucket, key)
        if path.is_dir():
            temp.unlink(missing_ok=True)
            raise self._conflict(key, "it is a folder in the lake that holds other objects")
        for attempt in range(5):
            self._prepare_parent(bucket, key, path)
            try:
                os.replace(temp, path)
                return path
            except FileNotFoundError:
                # A concurrent delete pruned the (then empty) parent folder: make it again.
                if attempt == 4:
                    raise
            except IsADirectoryError:
                temp.unlink(missing_ok=True)
                raise self._conflict(
                    key, "it is a folder in the lake that holds other objects"
                ) from None
        raise AssertionError("unreachable")

    def put_marker(self, bucket: str, key: str) -> ObjectInfo:
        path = self.path_for(bucket, key)
        if path.exists() and not path.is_dir():
            raise self._conflict(key, "an object of that name exists")
        self._prepare_parent(bucket, key, path / "x")
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO markers VALUES (?)", (self._rel(path),))
            self._markers.add(self._rel(path))
        return ObjectInfo(key, 0, path.stat().st_mtime, EMPTY_MD5, is_marker=True)

    def delete(self, bucket: str, key: str) -> None:
        """Delete one object (absent is fine, as in S3), then prune the folders it leaves empty."""
        path = self.path_for(bucket, key)
        if key.endswith("/"):
            with self._lock:
                self._db.execute("DELETE FROM markers WHERE path = ?", (self._rel(path),))
                self._markers.discard(self._rel(path))
            self._prune(bucket, path)
            return
        try:
            st = path.lstat()
        except (FileNotFoundError, NotADirectoryError):
            return
        if not _is_regular(st):
            return
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        with self._lock:
            self._db.execute("DELETE FROM objects WHERE path = ?", (self._rel(path),))
        self._prune(bucket, path.parent)

    def _prune(self, bucket: str, folder: Path) -> None:
        base = self.root / bucket
        while folder != base and base in folder.parents:
            if self._is_marker(folder):
                return
            try:
                folder.rmdir()
            except OSError:
                return  # not empty (or gone): S3 prefixes exist while they hold objects
            folder = folder.parent

    def copy_to_temp(
        self, source: Path, start: int = 0, length: int | None = None
    ) -> tuple[Path, str, int]:
        """Copy (a range of) a file to a temp file; returns it, its MD5 and size."""
        temp = self.temp_file()
        digest = hashlib.md5()
        size = 0
        with source.open("rb") as src, temp.open("wb") as dst:
            src.seek(start)
            remaining = length
            while remaining is None or remaining > 0:
                block = src.read(COPY_BUFFER if remaining is None else min(COPY_BUFFER, remaining))
                if not block:
                    break
                dst.write(block)
                digest.update(block)
                size += len(block)
                if remaining is not None:
                    remaining -= len(block)
        return temp, digest.hexdigest(), size

    def receive(self, chunks: Iterable[bytes], folder: Path | None = None) -> Path:
        """Write a body to a temp file; removed again if reading fails."""
        temp = (folder or self.tmp) / f".{uuid.uuid4().hex}.tmp"
        try:
            with temp.open("wb") as out:
                for chunk in chunks:
                    out.write(chunk)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return temp


def _from_row(key: str, path: Path, st: os.stat_result, row: tuple[Any, ...]) -> ObjectInfo:
    etag, content_type, headers, metadata, checksums = row
    return ObjectInfo(
        key,
        st.st_size,
        st.st_mtime,
        etag,
        content_type or "binary/octet-stream",
        _loads(headers),
        _loads(metadata),
        _loads(checksums),
        path,
    )


def _loads(text: str | None) -> dict[str, str]:
    # Most rows hold no extras: skip the parser for them (1,000 rows a listing page).
    if not text or text == "{}":
        return {}
    value: dict[str, str] = json.loads(text)
    return value


def _is_regular(st: os.stat_result) -> bool:
    return stat_module.S_ISREG(st.st_mode)


def _md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as handle:
        while block := handle.read(COPY_BUFFER):
            digest.update(block)
    return digest.hexdigest()
