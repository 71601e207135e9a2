"""One local Trino 476 server: a Java 24+, its configuration, its process, and when it is ready.

The server is a single node whose coordinator also schedules work, bound to
127.0.0.1 on a free port, with a modest heap. It has two catalogs over one
file metastore (the folder :mod:`zfish.trino.metastore` writes):

* ``awsdatacatalog``, Athena's catalog name: the Hive connector, reading the
  lake through Trino's native local file system, with Hudi tables redirected
  to ``hudi`` (``hive.hudi-catalog-name``), as Athena redirects them;
* ``hudi``: the Hudi connector, Athena's read path for Hudi tables.

Trino 476 needs Java 24 or newer: ``$ZFISH_TRINO_JAVA_HOME``, else a Temurin
25 in /usr/lib/jvm, else ``$JAVA_HOME`` or ``java`` on PATH when new enough;
otherwise ``PrerequisiteError`` (exit 5) says what to install.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from zfish.exceptions import PrerequisiteError, QueryError
from zfish.trino import install

ENV_JAVA_HOME = "ZFISH_TRINO_JAVA_HOME"
MIN_JAVA = 24
JAVA_CANDIDATES = (
    Path("/usr/lib/jvm/temurin-25-jdk-amd64"),
    Path("/usr/lib/jvm/temurin-25-jdk-arm64"),
    Path("/usr/lib/jvm/temurin-24-jdk-amd64"),
)
HIVE_CATALOG = "awsdatacatalog"
HUDI_CATALOG = "hudi"
USER = "zfish"
HEAP = "1536m"
START_TIMEOUT_SECONDS = 240.0
STOP_TIMEOUT_SECONDS = 30.0
MAIN_CLASS = "io.trino.server.TrinoServer"
_JVM_OPTIONS = (
    "-XX:+UseG1GC",
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:ReservedCodeCacheSize=256M",
    "-Djdk.attach.allowAttachSelf=true",
    "-XX:+EnableDynamicAgentLoading",
    "-Dfile.encoding=UTF-8",
    "-Duser.timezone=UTC",
    # Fewer compiler threads: 2 cores are shared with the rest of the machine.
    "-XX:CICompilerCount=2",
)


def java_version(home: Path) -> int | None:
    """The feature version of the Java in ``home`` (25 for 25.0.3), from its ``release`` file."""
    try:
        text = (home / "release").read_text()
    except OSError:
        return None
    match = re.search(r'^JAVA_VERSION="(\d+)', text, re.MULTILINE)
    return int(match.group(1)) if match else None


def _java_on_path() -> Path | None:
    java = shutil.which("java")
    return Path(java).resolve().parent.parent if java else None


def find_java() -> Path:
    """The ``java`` executable Trino runs on; PrerequisiteError (exit 5) saying what to install."""
    explicit = os.environ.get(ENV_JAVA_HOME)
    if explicit:
        home = Path(explicit).expanduser()
        version = java_version(home)
        if not (home / "bin" / "java").is_file() or version is None or version < MIN_JAVA:
            raise PrerequisiteError(
                f"{ENV_JAVA_HOME}={home} is not a Java {MIN_JAVA}+ home (found version "
                f"{version}). Fix: point it at a JDK or JRE {MIN_JAVA} or newer"
            )
        return home / "bin" / "java"
    java_home = os.environ.get("JAVA_HOME")
    homes: list[Path | None] = [
        *JAVA_CANDIDATES,
        Path(java_home) if java_home else None,
        _java_on_path(),
    ]
    jvm = Path("/usr/lib/jvm")
    if jvm.is_dir():
        homes.extend(sorted(jvm.iterdir(), reverse=True))
    for candidate in homes:
        if candidate is None:
            continue
        found = java_version(candidate)
        if found is not None and found >= MIN_JAVA and (candidate / "bin" / "java").is_file():
            return candidate / "bin" / "java"
    raise PrerequisiteError(
        f"Trino {install.TRINO_VERSION} needs Java {MIN_JAVA} or newer, and none was found "
        f"(looked at ${ENV_JAVA_HOME}, {', '.join(str(p) for p in JAVA_CANDIDATES)}, $JAVA_HOME, "
        "java on PATH and /usr/lib/jvm). Fix: install one (e.g. Eclipse Temurin 25: "
        "apt-get install temurin-25-jdk from Adoptium's repository; macOS: brew install "
        f"--cask temurin) and set {ENV_JAVA_HOME} to its home. Spark keeps its Java 17"
    )


def _die_with_parent() -> None:
    """In the child, before Java starts: SIGTERM when zfish dies (Linux), so no server is orphaned."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _properties(values: dict[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())


class TrinoServer:
    """A Trino process over the file metastore in ``work/metastore``; start() waits until ready.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, work: Path, *, heap: str = HEAP, port: int | None = None) -> None:
        self.work = work
        self.heap = heap
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self.started_seconds: float | None = None

    @property
    def metastore(self) -> Path:
        return self.work / "metastore"

    @property
    def etc(self) -> Path:
        return self.work / "etc"

    @property
    def log_path(self) -> Path:
        return self.work / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _configure(self, home: Path) -> None:
        """etc/ for a single node, two catalogs over one file metastore, plugins of the install."""
        catalogs = self.etc / "catalog"
        catalogs.mkdir(parents=True, exist_ok=True)
        self.metastore.mkdir(parents=True, exist_ok=True)
        (self.work / "data").mkdir(exist_ok=True)
        (self.etc / "config.properties").write_text(
            _properties(
                {
                    "coordinator": "true",
                    "node-scheduler.include-coordinator": "true",
                    "http-server.http.port": str(self.port),
                    "discovery.uri": self.url,
                    "query.max-memory": "1GB",
                    "query.max-memory-per-node": "512MB",
                    "plugin.dir": str(home / "plugin"),
                    "catalog.config-dir": str(catalogs),
                    # One worker thread per core is plenty for a lake of a few thousand rows.
                    "task.concurrency": "2",
                    "task.max-worker-threads": "8",
                }
            )
        )
        (self.etc / "log.properties").write_text("io.trino=WARN\n")
        shared = {
            "hive.metastore": "file",
            "hive.metastore.catalog.dir": f"local://{self.metastore.resolve()}",
            "fs.native-local.enabled": "true",
            # local:///abs/path is the file /abs/path: the lake and the metastore folder alike.
            "local.location": "/",
        }
        (catalogs / f"{HIVE_CATALOG}.properties").write_text(
            _properties(
                {
                    "connector.name": "hive",
                    **shared,
                    "hive.hudi-catalog-name": HUDI_CATALOG,
                    # Queries read; the lake changes only through zfish (the Hudi connector
                    # never writes).
                    "hive.security": "read-only",
                }
            )
        )
        (catalogs / f"{HUDI_CATALOG}.properties").write_text(
            _properties({"connector.name": "hudi", **shared})
        )

    def command(self, java: Path, home: Path) -> list[str]:
        return [
            str(java),
            f"-Xmx{self.heap}",
            *_JVM_OPTIONS,
            f"-Dconfig={self.etc / 'config.properties'}",
            f"-Dlog.levels-file={self.etc / 'log.properties'}",
            "-Dnode.environment=zfish",
            "-Dnode.id=zfish",
            f"-Dnode.data-dir={self.work / 'data'}",
            "-Dnode.bind-ip=127.0.0.1",
            "-Dnode.internal-address=127.0.0.1",
            "-cp",
            str(home / "lib" / "*"),
            MAIN_CLASS,
        ]

    def start(self, *, download: bool = True) -> TrinoServer:
        """Start the server (downloading Trino once if needed) and wait until it takes queries."""
        home = install.ensure(download=download)
        java = find_java()
        self.work.mkdir(parents=True, exist_ok=True)
        if self.port is None:
            self.port = free_port()
        self._configure(home)
        started = time.perf_counter()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(java, home),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.work,
                start_new_session=True,  # Ctrl-C in a terminal reaches zfish, which stops it
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        try:
            self._wait_ready(started)
        except BaseException:
            self.stop()
            raise
        self.started_seconds = time.perf_counter() - started
        return self

    def _wait_ready(self, started: float) -> None:
        while time.perf_counter() - started < START_TIMEOUT_SECONDS:
            assert self.process is not None
            if self.process.poll() is not None:
                raise QueryError(
                    f"Trino exited with code {self.process.returncode} while starting; "
                    f"its log ({self.log_path}) ends:\n{self.log_tail()}"
                )
            if self.ready():
                return
            time.sleep(0.5)
        raise QueryError(
            f"Trino did not become ready within {START_TIMEOUT_SECONDS:.0f}s; its log "
            f"({self.log_path}) ends:\n{self.log_tail()}"
        )

    def ready(self) -> bool:
        """True once the node is no longer starting and runs a query (its worker is registered)."""
        try:
            with urllib.request.urlopen(f"{self.url}/v1/info", timeout=2) as response:
                info = json.load(response)
        except (urllib.error.URLError, OSError, ValueError):
            return False
        return info.get("starting") is False and self._runs_a_query()

    def _runs_a_query(self) -> bool:
        """``SELECT 1`` through the REST protocol; False while Trino says NO_NODES_AVAILABLE."""
        headers = {"X-Trino-User": USER}
        request = urllib.request.Request(
            f"{self.url}/v1/statement", data=b"SELECT 1", headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                answer = json.load(response)
            while "nextUri" in answer and "error" not in answer:
                next_request = urllib.request.Request(answer["nextUri"], headers=headers)
                with urllib.request.urlopen(next_request, timeout=10) as response:
                    answer = json.load(response)
        except (urllib.error.URLError, OSError, ValueError):
            return False
        return "error" not in answer

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.strip().splitlines()[-lines:])

    def rss_bytes(self) -> int | None:
        """The server's resident memory, from /proc (Linux), or None."""
        if self.process is None:
            return None
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        return int(match.group(1)) * 1024 if match else None

    def stop(self) -> None:
        """SIGTERM (Trino shuts down gracefully), then SIGKILL after a grace period."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> TrinoServer:
        return self.start() if self.process is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
