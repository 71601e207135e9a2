"""Start-up flags of the Spark driver JVM: C1-only JIT and a class-data-sharing archive.

A zfish command is short: most of a cold ``make simulate`` is the driver JVM
loading about 17,000 classes and compiling Spark's planner, not data work.
Two measured remedies (figures in README, "Performance"):

* ``-XX:TieredStopAtLevel=1``: the C1 compiler only. C2's compile threads
  otherwise compete with the job for the machine's cores; on this 2-core
  machine the JVM then spends about half the CPU time on a cold run.
  ``ZFISH_SPARK_JIT=tiered`` restores the JVM's default.
* AppCDS (Java 17): the first session dumps the classes it loaded
  (``-XX:ArchiveClassesAtExit``) into zfish's cache, every later session maps
  them (``-XX:SharedArchiveFile``). The archive is keyed by the Java runtime,
  the Spark jars (names, sizes, times) and the JVM options; a changed key
  builds a new one, and only the newest three are kept. A truncated archive crashes the
  JVM (SIGBUS), so an archive is only used after a ``java -Xshare:on``
  check of the very file passed, and its size is re-checked at every use.
  ``ZFISH_SPARK_CDS=0`` turns it off; any failure falls back to no archive,
  never to a failed run.

Only a JVM that zfish launches gets these flags: under ``spark-submit`` the
JVM is already running, and executors on a cluster keep their defaults.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zfish import jars

ENV_JIT = "ZFISH_SPARK_JIT"  # c1 (default) or tiered
ENV_CDS = "ZFISH_SPARK_CDS"  # 0/false/off disables the archive
C1_ONLY = "-XX:TieredStopAtLevel=1"
# CDS reports every class it cannot archive (signed jars, generated classes) as a warning.
_QUIET_CDS = "-Xlog:cds=off -Xlog:cds+dynamic=off"
_DUMP_TIMEOUT_SECONDS = 300
KEEP_ARCHIVES = 3  # this key's and the two most recent others
_KEY_VERSION = "1"


def _off(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("0", "false", "off", "no")


def jit_options() -> str:
    """The JIT flags for a short-lived driver (C1 only unless ``ZFISH_SPARK_JIT=tiered``)."""
    return "" if os.environ.get(ENV_JIT, "c1").strip().lower() == "tiered" else C1_ONLY


def cds_dir() -> Path:
    return jars.cache_dir() / "cds"


def archive_key(java: str, java_banner: str, spark_home: Path, options: str) -> str:
    """What an archive depends on: the runtime, the Spark jars on the class path, the options."""
    digest = hashlib.sha256(_KEY_VERSION.encode())
    digest.update(os.path.realpath(java).encode())
    digest.update(java_banner.encode())
    digest.update(options.encode())
    jar_dir = spark_home / "jars"
    try:
        entries = sorted(os.scandir(jar_dir), key=lambda e: e.name)
    except OSError:
        entries = []
    for entry in entries:
        st = entry.stat()
        digest.update(f"{entry.name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:20]


@dataclass
class ArchivePlan:
    """The CDS part of one JVM launch: use an archive, or dump one at exit, or neither."""

    options: str
    key: str = ""
    dump_to: Path | None = None  # the temporary file the JVM dumps into at exit


def _ok_file(archive: Path) -> Path:
    return archive.with_name(archive.name + ".ok")


def _usable(archive: Path) -> bool:
    """A checked archive whose size is still the one that passed the check."""
    try:
        expected = int(_ok_file(archive).read_text().strip())
        return archive.stat().st_size == expected
    except (OSError, ValueError):
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _claim_dump(folder: Path, key: str) -> bool:
    """One process at a time dumps an archive for a key (a lock file with its pid)."""
    lock = folder / f"{key}.dumping"
    for _attempt in range(2):
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                owner = int(lock.read_text().strip() or "0")
            except (OSError, ValueError):
                owner = 0
            if owner and _pid_alive(owner):
                return False
            try:
                lock.unlink()
            except OSError:
                return False
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        # Dumps of a process that died before it could check them (killed, or a crash).
        for stale in folder.glob(f"{key}.*.tmp"):
            pid = stale.name.split(".")[1]
            if not (pid.isdigit() and _pid_alive(int(pid))):
                stale.unlink(missing_ok=True)
        return True
    return False


def plan_archive(java: str, java_banner: str, spark_home: Path, options: str) -> ArchivePlan:
    """The CDS flags for a driver JVM started with ``options`` (never raises)."""
    if _off(ENV_CDS):
        return ArchivePlan("")
    try:
        key = archive_key(java, java_banner, spark_home, options)
        folder = cds_dir()
        if any(c.isspace() or c in "'\"" for c in str(folder)):
            return ArchivePlan("")  # Spark splits extraJavaOptions at spaces
        archive = folder / f"{key}.jsa"
        if _usable(archive):
            return ArchivePlan(f"-XX:SharedArchiveFile={archive} -Xshare:auto {_QUIET_CDS}", key)
        folder.mkdir(parents=True, exist_ok=True)
        if (folder / f"{key}.failed").exists() or not _claim_dump(folder, key):
            return ArchivePlan("", key)
        dump = folder / f"{key}.{os.getpid()}.tmp"
        return ArchivePlan(f"-XX:ArchiveClassesAtExit={dump} {_QUIET_CDS}", key, dump)
    except OSError:
        return ArchivePlan("")


def _check_archive(java: str, archive: Path, class_path: str) -> bool:
    """``java -Xshare:on`` refuses an archive it cannot map for this class path."""
    try:
        proc = subprocess.run(
            [java, f"-XX:SharedArchiveFile={archive}", "-Xshare:on", "-cp", class_path, "-version"],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def finish_archive(plan: ArchivePlan, java: str, proc: Any, class_path: str) -> None:
    """Let the JVM exit and dump, check the dump, and put it in place (at interpreter exit)."""
    if plan.dump_to is None:
        return
    folder = plan.dump_to.parent
    archive = folder / f"{plan.key}.jsa"
    try:
        print(
            "zfish: saving Spark's classes for faster start-ups (once per Spark/Java version) ...",
            file=sys.stderr,
            flush=True,
        )
        if proc.poll() is None:
            if proc.stdin is not None:
                proc.stdin.close()  # the gateway JVM exits when its stdin closes
            proc.wait(timeout=_DUMP_TIMEOUT_SECONDS)
        if plan.dump_to.is_file() and _check_archive(java, plan.dump_to, class_path):
            os.replace(plan.dump_to, archive)
            _ok_file(archive).write_text(str(archive.stat().st_size))
            _remove_other_keys(folder, plan.key)
        else:
            (folder / f"{plan.key}.failed").write_text("the JVM left no usable archive\n")
    except (OSError, subprocess.TimeoutExpired):
        pass
    finally:
        for leftover in (plan.dump_to, folder / f"{plan.key}.dumping"):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _remove_other_keys(folder: Path, key: str) -> None:
    """Keep the newest few archives (about 120 MB each); older keys are another Spark or Java.

    A few, not one: JVM options are part of the key, so a machine that also runs
    ``ZFISH_SPARK_JIT=tiered`` sessions would otherwise rebuild both in turn.
    """
    archives = sorted(
        (p for p in folder.glob("*.jsa") if not p.name.startswith(key)),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in archives[KEEP_ARCHIVES - 1 :]:
        stem = old.name.split(".", 1)[0]
        for path in (old, _ok_file(old), folder / f"{stem}.failed"):
            with contextlib.suppress(OSError):
                path.unlink()
    for entry in folder.glob("*.tmp"):
        stem = entry.name.split(".", 1)[0]
        if stem != key and not _dumping(folder, stem):
            with contextlib.suppress(OSError):
                entry.unlink()


def _dumping(folder: Path, key: str) -> bool:
    try:
        return _pid_alive(int((folder / f"{key}.dumping").read_text().strip() or "0"))
    except (OSError, ValueError):
        return False


def register_finish(plan: ArchivePlan, java: str, spark: Any) -> None:
    """Arrange :func:`finish_archive` for the session's gateway JVM at interpreter exit."""
    if plan.dump_to is None:
        return
    from pyspark import SparkContext

    proc = getattr(SparkContext._gateway, "proc", None)
    try:
        class_path = str(spark.sparkContext._jvm.java.lang.System.getProperty("java.class.path"))
    except Exception:
        proc = None
    if proc is None:  # not a JVM this process launched: nothing will dump
        for leftover in (plan.dump_to.parent / f"{plan.key}.dumping",):
            leftover.unlink(missing_ok=True)
        return

    def finish() -> None:
        with contextlib.suppress(Exception):
            spark.stop()
        finish_archive(plan, java, proc, class_path)

    atexit.register(finish)
