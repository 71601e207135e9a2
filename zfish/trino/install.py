"""The Trino server install: ``io.trino:trino-server:476`` from Maven Central, cached once outside the repo.

The tarball (821 MB) is downloaded once with a progress line, into a
temporary file beside its final place, checked against the SHA-1 Maven Central
publishes for it (pinned here, so an offline check needs no second request),
and unpacked atomically: a crash never leaves half an install that a later run
takes for a whole one. Only what a single node reading Hive and Hudi tables
needs is kept (``lib/`` and the ``hive`` and ``hudi`` plugins, 380 MB of the
900); Trino then loads two plugins instead of fifty-five at start. The
tarball is removed once unpacked, so a second run downloads nothing and the
cache holds one copy.

Cache: ``<zfish cache>/trino`` (``$ZFISH_CACHE`` or ``~/.cache/zfish``, as for
the Hudi bundle, :mod:`zfish.jars`); ``$ZFISH_TRINO_HOME`` names an install
of one's own (an unpacked ``trino-server-476``) instead.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from zfish import console, jars
from zfish.exceptions import PrerequisiteError
from zfish.fsutil import exclusive_lock

TRINO_VERSION = "476"
ENV_TRINO_HOME = "ZFISH_TRINO_HOME"
ARTIFACT = f"io.trino:trino-server:{TRINO_VERSION}"
TARBALL = f"trino-server-{TRINO_VERSION}.tar.gz"
URL = f"{jars.MAVEN_CENTRAL}/io/trino/trino-server/{TRINO_VERSION}/{TARBALL}"
# Maven Central's trino-server-476.tar.gz.sha1.
SHA1 = "c9b38be4017ebd2f7095455aaac772fb40247ebe"
PLUGINS = ("hive", "hudi")
COMPLETE_MARK = ".zfish-complete"
DOWNLOAD_TIMEOUT_SECONDS = 60  # per read; a stalled connection fails instead of hanging
_CHUNK = 1 << 20


def cache_dir() -> Path:
    return jars.cache_dir() / "trino"


def install_dir() -> Path:
    """Where zfish unpacks the server."""
    return cache_dir() / f"trino-server-{TRINO_VERSION}"


def _whole(home: Path) -> bool:
    return (home / "lib").is_dir() and all((home / "plugin" / p).is_dir() for p in PLUGINS)


def find() -> Path | None:
    """An unpacked Trino 476 on this machine ($ZFISH_TRINO_HOME, then the cache), or None."""
    explicit = os.environ.get(ENV_TRINO_HOME)
    if explicit:
        home = Path(explicit).expanduser()
        if not _whole(home):
            raise PrerequisiteError(
                f"{ENV_TRINO_HOME}={home} is not an unpacked trino-server-{TRINO_VERSION} "
                f"(it needs lib/ and plugin/{{{','.join(PLUGINS)}}}). Fix: point it at one, or "
                "unset it and let zfish download the server into its cache"
            )
        return home
    home = install_dir()
    return home if (home / COMPLETE_MARK).is_file() and _whole(home) else None


def ensure(*, download: bool = True, note: Callable[[str], None] | None = None) -> Path:
    """The Trino server's home; downloads and unpacks it once when missing.

    ``PrerequisiteError`` (exit 5) says what could not be had and the fix.
    """
    found = find()
    if found is not None:
        return found
    say = note or console.note
    lock = cache_dir() / ".install.lock"
    # One download at a time: a second zfish (or the test suite's prefetch) waits for it.
    with exclusive_lock(
        lock, waiting=lambda: say(f"waiting for another process installing Trino ({lock}) ...")
    ):
        found = find()
        if found is not None:
            return found
        tarball = cache_dir() / TARBALL
        if not (tarball.is_file() and _sha1(tarball) == SHA1):
            if not download:
                raise PrerequisiteError(_missing("downloads are off"))
            _download(tarball, say)
        _unpack(tarball, say)
        tarball.unlink(missing_ok=True)
    return install_dir()


def _missing(detail: str) -> str:
    return (
        f"Trino {TRINO_VERSION} ({ARTIFACT}) is not on this machine and could not be "
        f"downloaded: {detail}.\n"
        f"  cache: {install_dir()}\n"
        f"  fix: run again where Maven Central is reachable (zfish downloads it once), or "
        f"download {URL} to {cache_dir() / TARBALL}, or set {ENV_TRINO_HOME} to an unpacked "
        f"trino-server-{TRINO_VERSION}"
    )


def _sha1(path: Path) -> str:
    digest = hashlib.sha1()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(target: Path, say: Callable[[str], None]) -> None:
    """The tarball into ``target``, atomically, checked against its SHA-1."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    started = time.perf_counter()
    say(f"downloading {ARTIFACT} (821 MB, once) from {URL} ...")
    try:
        with urllib.request.urlopen(URL, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
            total = int(response.headers.get("Content-Length") or 0)
            digest = hashlib.sha1()
            megabytes = (total + _CHUNK - 1) // _CHUNK if total else None
            with (
                tmp.open("wb") as out,
                console.progress(f"{TARBALL} (MB)", megabytes) as advance,
            ):
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    advance(1)
        if total and tmp.stat().st_size != total:
            raise PrerequisiteError(
                _missing(f"the download was cut at {tmp.stat().st_size} of {total} bytes")
            )
        if digest.hexdigest() != SHA1:
            raise PrerequisiteError(
                _missing(f"its SHA-1 is {digest.hexdigest()}, Maven Central says {SHA1}")
            )
        os.replace(tmp, target)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise PrerequisiteError(_missing(f"{type(exc).__name__}: {exc}")) from exc
    finally:
        tmp.unlink(missing_ok=True)
    say(f"downloaded {TARBALL} in {time.perf_counter() - started:.0f}s")


def _unpack(tarball: Path, say: Callable[[str], None]) -> None:
    """lib/ and the plugins into the install folder, all or nothing."""
    home = install_dir()
    tmp = home.with_name(f".{home.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    started = time.perf_counter()
    say(f"unpacking {TARBALL}, keeping lib/ and plugin/{{{','.join(PLUGINS)}}} ...")
    try:
        # Whole, then pruned: the plugins' jars are hard links to each other's, so
        # extracting only some members would need the others anyway.
        with tarfile.open(tarball, "r:gz") as archive:
            archive.extractall(tmp, filter="data")
        (top,) = [p for p in tmp.iterdir() if p.is_dir()]
        for plugin in (top / "plugin").iterdir():
            if plugin.name not in PLUGINS:
                shutil.rmtree(plugin)
        for extra in top.iterdir():
            if extra.name not in ("lib", "plugin") and extra.is_dir():
                shutil.rmtree(extra)
            elif extra.name not in ("lib", "plugin"):
                extra.unlink()
        if not _whole(top):
            raise PrerequisiteError(_missing(f"{tarball} lacks lib/ or a plugin it should hold"))
        (top / COMPLETE_MARK).write_text(f"{ARTIFACT} {SHA1}\n")
        shutil.rmtree(home, ignore_errors=True)
        os.replace(top, home)
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        tarball.unlink(missing_ok=True)  # a corrupt tarball is fetched again next time
        raise PrerequisiteError(_missing(f"unpacking failed: {exc}")) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    say(f"unpacked Trino {TRINO_VERSION} in {time.perf_counter() - started:.0f}s -> {home}")
