"""JVM artifacts zfish hands to Spark: the one pin of each, a cache outside the repo, and resolution.

The Hudi Spark bundle is resolved the way a Glue or EMR user gets it:
Spark's own ``spark.jars.packages`` resolution (Ivy), run once into zfish's
cache. When Spark's resolver cannot reach the registry but Maven can (a
mirror or proxy in ``~/.m2/settings.xml``), ``mvn dependency:copy`` fetches
it instead. Either way the jar lands in the cache, and every later Spark
session gets it as a plain ``spark.jars`` path: a second run downloads
nothing and starts no resolver. A jar already in the user's Maven or Ivy
cache is used where it is, after checking it is a whole jar.

Cache: ``$ZFISH_CACHE`` or ``$XDG_CACHE_HOME/zfish`` (default
``~/.cache/zfish``); jars go to ``<cache>/jars``, Spark's Ivy home is
``<cache>/ivy``. Nothing is ever written into the repository.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from zfish import console
from zfish.exceptions import PrerequisiteError

ENV_CACHE = "ZFISH_CACHE"
ENV_HUDI_BUNDLE = "ZFISH_HUDI_BUNDLE"
# Set on CI (and by anyone who wants it): a missing bundle is an error, never a skip.
ENV_REQUIRE_HUDI_BUNDLE = "ZFISH_REQUIRE_HUDI_BUNDLE"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
RESOLVE_TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class Artifact:
    """A Maven artifact (a jar) by its coordinate."""

    group: str
    artifact: str
    version: str

    @property
    def coordinate(self) -> str:
        return f"{self.group}:{self.artifact}:{self.version}"

    @property
    def jar_name(self) -> str:
        return f"{self.artifact}-{self.version}.jar"

    @property
    def repository_path(self) -> str:
        """The jar's path inside a Maven repository layout."""
        return f"{self.group.replace('.', '/')}/{self.artifact}/{self.version}/{self.jar_name}"

    @property
    def url(self) -> str:
        return f"{MAVEN_CENTRAL}/{self.repository_path}"

    @property
    def ivy_jar_name(self) -> str:
        """The name Spark's ``--packages`` gives the jar in ``<ivy home>/jars``."""
        return f"{self.group}_{self.jar_name}"


# AWS Glue 5.0 parity: Spark 3.5, Scala 2.12, Hudi 0.15.0 (table version 6). The only pin.
HUDI_BUNDLE = Artifact("org.apache.hudi", "hudi-spark3.5-bundle_2.12", "0.15.0")


def cache_dir() -> Path:
    explicit = os.environ.get(ENV_CACHE)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "zfish"


def jars_dir() -> Path:
    return cache_dir() / "jars"


def ivy_dir() -> Path:
    return cache_dir() / "ivy"


def cached_path(artifact: Artifact) -> Path:
    """Where zfish keeps the jar."""
    return jars_dir() / artifact.jar_name


def require_bundle() -> bool:
    """True where a missing Hudi bundle must fail instead of skip (CI)."""
    return any(
        os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")
        for name in (ENV_REQUIRE_HUDI_BUNDLE, "CI")
    )


def _whole_jar(path: Path) -> bool:
    """A readable zip whose central directory is intact (a cut download is not)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.getinfo("META-INF/MANIFEST.MF") is not None
    except (OSError, zipfile.BadZipFile, KeyError):
        return False


def _sha1_matches(path: Path) -> bool:
    """Against the ``.sha1`` Maven keeps beside a jar; True when there is none to check."""
    sidecar = path.with_name(path.name + ".sha1")
    if not sidecar.is_file():
        return True
    expected = sidecar.read_text().split()[0].strip().lower() if sidecar.stat().st_size else ""
    if not expected:
        return True
    digest = hashlib.sha1()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest() == expected


def candidates(artifact: Artifact) -> list[Path]:
    """Places a usable copy may already be, zfish's own cache first."""
    home = Path.home()
    return [
        cached_path(artifact),
        ivy_dir() / "jars" / artifact.ivy_jar_name,
        home / ".m2" / "repository" / artifact.repository_path,
        home / ".ivy2" / "jars" / artifact.ivy_jar_name,
        home / ".ivy2.5.2" / "jars" / artifact.ivy_jar_name,
    ]


def find(artifact: Artifact) -> Path | None:
    """A whole copy of the jar already on this machine, or None. Never downloads."""
    for path in candidates(artifact):
        if path.is_file() and _whole_jar(path) and _sha1_matches(path):
            return path
    return None


def _install(source: Path, artifact: Artifact) -> Path:
    """Copy a resolved jar into the cache atomically (a crash never leaves half a jar there)."""
    target = cached_path(artifact)
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.resolve() == target.resolve():
        return target
    tmp = target.with_name(f".{artifact.jar_name}.{os.getpid()}.tmp")
    try:
        try:
            os.link(source, tmp)  # same file system: no second copy of 100 MB
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


_SPARK_RESOLVE = """
import sys
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[1]").appName("zfish-resolve")
         .config("spark.jars.packages", sys.argv[1]).config("spark.jars.ivy", sys.argv[2])
         .config("spark.ui.enabled", "false").getOrCreate())
spark.stop()
"""


def _resolve_with_spark(artifact: Artifact) -> tuple[Path | None, str]:
    """Spark's ``--packages`` resolution (Ivy) into the cache's Ivy home."""
    ivy = ivy_dir()
    ivy.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _SPARK_RESOLVE, artifact.coordinate, str(ivy)],
            capture_output=True,
            text=True,
            timeout=RESOLVE_TIMEOUT_SECONDS,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"Spark's resolver did not finish: {exc}"
    jar = ivy / "jars" / artifact.ivy_jar_name
    if proc.returncode == 0 and jar.is_file() and _whole_jar(jar):
        return jar, ""
    return None, _tail(proc.stderr + proc.stdout)


def _resolve_with_maven(artifact: Artifact) -> tuple[Path | None, str]:
    """``mvn dependency:copy`` (honours ~/.m2/settings.xml: mirrors, proxies, credentials)."""
    mvn = shutil.which("mvn")
    if mvn is None:
        return None, "mvn is not on PATH"
    out = Path(tempfile.mkdtemp(prefix="zfish-mvn-"))
    try:
        proc = subprocess.run(
            [
                mvn,
                "-q",
                "-B",
                "-Dstyle.color=never",
                "dependency:copy",
                f"-Dartifact={artifact.coordinate}",
                f"-DoutputDirectory={out}",
                "-Dmdep.overWriteReleases=true",
            ],
            capture_output=True,
            text=True,
            timeout=RESOLVE_TIMEOUT_SECONDS,
            check=False,
        )
        jar = out / artifact.jar_name
        if proc.returncode == 0 and jar.is_file() and _whole_jar(jar):
            return _install(jar, artifact), ""
        return None, _tail(proc.stdout + proc.stderr)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"mvn did not finish: {exc}"
    finally:
        shutil.rmtree(out, ignore_errors=True)


_REASON_MARKS = (
    "unresolved dependency",
    "UnknownHost",
    "Connection refused",
    "timed out",
    "Could not transfer",
    "Could not resolve",
    "No plugin found",
    "not found",
    "[ERROR]",
    "Exception",
)


def _tail(text: str, lines: int = 3) -> str:
    """The few lines of a resolver's output that say why it failed."""
    kept = [line.strip() for line in text.strip().splitlines() if line.strip()]
    kept = [
        re.sub(r"\x1b\[[0-9;]*m", "", line)
        for line in kept
        if not line.startswith("Picked up JAVA_TOOL_OPTIONS") and line != "[ERROR]"
    ]
    marked = [line for line in kept if any(mark in line for mark in _REASON_MARKS)]
    chosen = list(dict.fromkeys(marked))[:lines] or kept[-lines:]
    return "\n    ".join(chosen) or "(no output)"


def missing_message(artifact: Artifact, detail: str = "") -> str:
    return (
        f"the JVM Hudi bundle {artifact.coordinate} is not on this machine and could not be "
        f"downloaded{': ' + detail if detail else ''}.\n"
        f"  cache: {cached_path(artifact)}\n"
        "  fix: on a machine that reaches Maven Central run `make bundle` (or `zfish bundle`); "
        f"or download {artifact.url} to that path; or set {ENV_HUDI_BUNDLE}=/path/to/"
        f"{artifact.jar_name}"
    )


def ensure(
    artifact: Artifact = HUDI_BUNDLE,
    *,
    download: bool = True,
    note: Callable[[str], None] | None = None,
) -> Path:
    """The path of a whole copy of ``artifact``; resolves it into the cache when missing.

    ``PrerequisiteError`` (exit 5) names the coordinate, the cache path and the
    fix when it is neither cached nor downloadable.
    """
    found = find(artifact)
    if found is not None:
        return found
    if not download:
        raise PrerequisiteError(missing_message(artifact, "downloads are off"))
    say = note or console.note
    started = time.perf_counter()
    say(f"resolving {artifact.coordinate} with Spark's --packages resolver (Ivy, once) ...")
    jar, spark_error = _resolve_with_spark(artifact)
    if jar is not None:
        installed = _install(jar, artifact)
        say(f"resolved {artifact.jar_name} in {time.perf_counter() - started:.0f}s -> {installed}")
        return installed
    say("Spark's resolver could not get it; trying Maven (mvn dependency:copy) ...")
    jar, maven_error = _resolve_with_maven(artifact)
    if jar is not None:
        say(f"resolved {artifact.jar_name} in {time.perf_counter() - started:.0f}s -> {jar}")
        return jar
    raise PrerequisiteError(
        missing_message(
            artifact,
            f"\n  Spark (Ivy): {spark_error}\n  Maven: {maven_error}",
        )
    )


def hudi_bundle(explicit: str | os.PathLike[str] | None = None, *, download: bool = True) -> Path:
    """The Hudi bundle jar: ``explicit`` (or ``$ZFISH_HUDI_BUNDLE``) if given, else :func:`ensure`."""
    chosen = explicit or os.environ.get(ENV_HUDI_BUNDLE)
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_file():
            raise PrerequisiteError(
                f"the Hudi bundle {path} (from --hudi-bundle or {ENV_HUDI_BUNDLE}) does not exist. "
                f"Fix: point it at {HUDI_BUNDLE.jar_name}, or unset it and let zfish resolve "
                f"{HUDI_BUNDLE.coordinate}"
            )
        if not _whole_jar(path):
            raise PrerequisiteError(
                f"the Hudi bundle {path} is not a whole jar (a cut download?). Fix: delete it and "
                f"download {HUDI_BUNDLE.url} again"
            )
        return path
    return ensure(HUDI_BUNDLE, download=download)
