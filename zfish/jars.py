"""JVM artifacts zfish hands to Spark: the pins, a cache outside the repo, and resolution.

Each pinned jar (the Hudi Spark bundle; hadoop-aws and its AWS SDK bundle for
s3a) is resolved the way a Glue or EMR user gets it: Spark's own
``spark.jars.packages`` resolution (Ivy), run once into zfish's cache, with
zfish's Ivy settings (``ivysettings.xml`` beside this module, for
``spark.jars.ivySettings``): Maven Central first, then ``~/.m2``, because
Spark's default chain takes a module from a ``~/.m2`` folder that holds its pom
but not its jar and then fails. When Spark's resolver cannot reach the
registry but Maven can (a mirror or proxy in ``~/.m2/settings.xml``),
``mvn dependency:copy`` fetches it instead. Either way the jar lands in the
cache, checked (a whole zip, and the ``.sha1`` Maven keeps beside it), and
every later Spark session gets it as a plain ``spark.jars`` path: a second run
downloads nothing and starts no resolver. A jar already in the user's Maven or
Ivy cache is used where it is, after the same check. When nothing works, the
error names an incomplete ``~/.m2`` folder where there is one, and the fix.

Cache: ``$ZFISH_CACHE`` or ``$XDG_CACHE_HOME/zfish`` (default
``~/.cache/zfish``); jars go to ``<cache>/jars``, Spark's Ivy home is
``<cache>/ivy``. Nothing is ever written into the repository or ``~/.m2``
(except by ``mvn`` itself, which keeps what it downloads there).
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
import xml.etree.ElementTree as ElementTree
import zipfile
from collections.abc import Callable, Iterable, Sequence
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
# Spark's resolver reads it (spark.jars.ivySettings); also for spark-submit users (README).
IVY_SETTINGS = Path(__file__).with_name("ivysettings.xml")


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

    @property
    def folder(self) -> str:
        """The folder of this version inside a Maven repository layout."""
        return self.repository_path.rpartition("/")[0]


# AWS Glue 5.0 parity: Spark 3.5, Scala 2.12, Hudi 0.15.0 (table version 6).
HUDI_BUNDLE = Artifact("org.apache.hudi", "hudi-spark3.5-bundle_2.12", "0.15.0")
# s3a for Spark 3.5's Hadoop 3.3.4 (pyspark's hadoop-client-api-3.3.4.jar): hadoop-aws of the
# same version, and the AWS SDK bundle its pom declares (hadoop-project 3.3.4's aws-java-sdk.version).
HADOOP_AWS = Artifact("org.apache.hadoop", "hadoop-aws", "3.3.4")
AWS_SDK_BUNDLE = Artifact("com.amazonaws", "aws-java-sdk-bundle", "1.12.262")
S3A_JARS = (HADOOP_AWS, AWS_SDK_BUNDLE)


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


def ivy_settings() -> Path:
    """zfish's Ivy settings file, for ``spark.jars.ivySettings`` (Maven Central before ~/.m2)."""
    return IVY_SETTINGS


def m2_repository() -> Path:
    """The Maven cache Spark's Ivy chain reads (``~/.m2/repository``)."""
    return Path.home() / ".m2" / "repository"


def maven_local_repository() -> Path:
    """Where ``mvn`` keeps jars: ``<localRepository>`` of ``~/.m2/settings.xml``, else ~/.m2."""
    settings = Path.home() / ".m2" / "settings.xml"
    try:
        root = ElementTree.parse(settings).getroot()
    except (OSError, ElementTree.ParseError):
        return m2_repository()
    for element in root:
        text = (element.text or "").strip()
        if element.tag.rpartition("}")[2] == "localRepository" and text:
            return Path(text.replace("${user.home}", str(Path.home()))).expanduser()
    return m2_repository()


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


def _sha1_matches(path: Path, sidecar: Path | None = None) -> bool:
    """Against the ``.sha1`` Maven keeps beside a jar (or ``sidecar``); True when there is none."""
    sidecar = sidecar or path.with_name(path.name + ".sha1")
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
        m2_repository() / artifact.repository_path,
        home / ".ivy2" / "jars" / artifact.ivy_jar_name,
        home / ".ivy2.5.2" / "jars" / artifact.ivy_jar_name,
    ]


def find(artifact: Artifact) -> Path | None:
    """A whole copy of the jar already on this machine, or None. Never downloads."""
    for path in candidates(artifact):
        if path.is_file() and _whole_jar(path) and _sha1_matches(path):
            return path
    return None


@dataclass(frozen=True)
class IncompleteEntry:
    """A Maven cache folder that Spark's Ivy or ``mvn`` takes for an artifact it cannot serve."""

    folder: Path
    problem: str  # what is wrong, e.g. "holds x.pom, x.pom.sha1 but no x.jar"

    def __str__(self) -> str:
        return f"{self.folder} {self.problem}"


def incomplete_entry(repository: Path, artifact: Artifact) -> IncompleteEntry | None:
    """What is wrong with ``artifact``'s folder in a Maven cache, or None (absent or fine).

    A folder with a pom and no jar, a cut jar, or a jar whose ``.sha1`` does not
    match: Spark's Ivy and ``mvn`` both take such a folder for the artifact.
    """
    folder = repository / artifact.folder
    if not folder.is_dir():
        return None
    jar = folder / artifact.jar_name
    if not jar.is_file():
        held = ", ".join(sorted(p.name for p in folder.iterdir())) or "nothing"
        return IncompleteEntry(folder, f"holds {held} but no {artifact.jar_name}")
    if not _whole_jar(jar):
        return IncompleteEntry(folder, f"holds a cut {artifact.jar_name} (not a whole zip)")
    if not _sha1_matches(jar):
        return IncompleteEntry(folder, f"holds a {artifact.jar_name} that does not match its .sha1")
    return None


# How Ivy names an artifact it could not get: org.slf4j#slf4j-api;1.7.36!slf4j-api.jar
_IVY_ARTIFACT = re.compile(r"([\w.\-]+)#([\w.\-]+);([\w.\-]+)")


def _named_by_ivy(report: str) -> list[Artifact]:
    """The modules Ivy's report says it could not get (downloads failed, not found)."""
    return list(
        dict.fromkeys(
            Artifact(*match.groups())
            for line in report.splitlines()
            if any(mark in line for mark in ("NOT FOUND", "FAILED", "failed", "unresolved"))
            for match in _IVY_ARTIFACT.finditer(line)
        )
    )


def incomplete_entries(artifacts: Iterable[Artifact], report: str = "") -> list[IncompleteEntry]:
    """Incomplete ``~/.m2`` (and ``mvn`` local repository) folders of these or of Ivy's failures."""
    wanted = list(dict.fromkeys([*artifacts, *_named_by_ivy(report)]))
    repositories = list(dict.fromkeys([m2_repository(), maven_local_repository()]))
    found = (incomplete_entry(repo, artifact) for artifact in wanted for repo in repositories)
    return list(dict.fromkeys(entry for entry in found if entry is not None))


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


# Prints the jars Spark resolved (what --packages would put on the class path), one a line.
_SPARK_RESOLVE = """
import sys
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[1]").appName("zfish-resolve")
         .config("spark.jars.packages", sys.argv[1]).config("spark.jars.ivy", sys.argv[2])
         .config("spark.jars.ivySettings", sys.argv[3])
         .config("spark.ui.enabled", "false").getOrCreate())
print("\\n".join("zfish-resolved " + j for j in spark.sparkContext.getConf().get("spark.jars", "").split(",") if j))
spark.stop()
"""


@dataclass
class Resolution:
    """What one resolver got: the whole jars by artifact, and why it got no more."""

    found: dict[Artifact, Path]
    error: str = ""
    report: str = ""  # the resolver's whole output, to find what it could not get


def _resolve_with_spark(artifacts: Sequence[Artifact]) -> Resolution:
    """Spark's ``--packages`` resolution (Ivy, zfish's settings) into the cache's Ivy home.

    One JVM for all of ``artifacts``. Every jar Spark resolved, the artifacts'
    dependencies too (spark-submit --packages puts them on the class path from
    this Ivy home), must be a whole zip.
    """
    ivy = ivy_dir()
    ivy.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
    coordinates = ",".join(a.coordinate for a in artifacts)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _SPARK_RESOLVE, coordinates, str(ivy), str(ivy_settings())],
            capture_output=True,
            text=True,
            timeout=RESOLVE_TIMEOUT_SECONDS,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Resolution({}, f"Spark's resolver did not finish: {exc}")
    report = proc.stderr + proc.stdout
    if proc.returncode != 0:
        return Resolution({}, _tail(report), report)
    resolved = [
        Path(line.split(" ", 1)[1].removeprefix("file:").removeprefix("//"))
        for line in proc.stdout.splitlines()
        if line.startswith("zfish-resolved ")
    ]
    cut = [path for path in resolved if not _whole_jar(path)]
    if cut:
        names = ", ".join(str(path) for path in cut)
        return Resolution({}, f"Spark's resolver left jars that are not whole: {names}", report)
    got = {a: ivy / "jars" / a.ivy_jar_name for a in artifacts}
    whole = {a: path for a, path in got.items() if path.is_file() and _whole_jar(path)}
    error = "" if len(whole) == len(artifacts) else _tail(report)
    return Resolution(whole, error, report)


def _resolve_with_maven(artifact: Artifact) -> tuple[Path | None, str]:
    """``mvn dependency:copy`` (honours ~/.m2/settings.xml: mirrors, proxies, credentials).

    Maven copies whatever its local repository holds without checking it again
    (a cut jar is copied as it is), so the copy is checked against the
    repository's jar: a whole zip whose ``.sha1`` matches. ``--strict-checksums``
    makes a download whose checksum does not match fail instead of warn.
    """
    mvn = shutil.which("mvn")
    if mvn is None:
        return None, "mvn is not on PATH"
    local = maven_local_repository()
    jars_dir().mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix=".zfish-mvn-", dir=jars_dir()))  # same disk: a link
    try:
        proc = subprocess.run(
            [
                mvn,
                "-q",
                "-B",
                "--strict-checksums",
                "-Dstyle.color=never",
                f"-Dmaven.repo.local={local}",
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
        if proc.returncode != 0 or not jar.is_file():
            return None, _tail(proc.stdout + proc.stderr)
        kept = local / artifact.repository_path
        if _whole_jar(jar) and _sha1_matches(jar, kept.with_name(kept.name + ".sha1")):
            return _install(jar, artifact), ""
        entry = incomplete_entry(local, artifact)
        return None, (
            f"mvn copied what its local repository holds: {entry}"
            if entry is not None
            else f"mvn's copy of {artifact.jar_name} is not a whole jar matching its .sha1"
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"mvn did not finish: {exc}"
    finally:
        shutil.rmtree(out, ignore_errors=True)


_REASON_MARKS = (
    "unresolved dependency",
    "download failed",
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


def _what(artifact: Artifact) -> str:
    return "the JVM Hudi bundle" if artifact == HUDI_BUNDLE else "the JVM jar"


def missing_message(artifact: Artifact, detail: str = "") -> str:
    fix = (
        "run `make bundle` (or `zfish bundle`)"
        if artifact == HUDI_BUNDLE
        else "run the command again (zfish downloads it once into the cache)"
    )
    explicit = (
        f"; or set {ENV_HUDI_BUNDLE}=/path/to/{artifact.jar_name}"
        if artifact == HUDI_BUNDLE
        else ""
    )
    return (
        f"{_what(artifact)} {artifact.coordinate} is not on this machine and could not be "
        f"downloaded{': ' + detail if detail else ''}.\n"
        f"  cache: {cached_path(artifact)}\n"
        f"  fix: on a machine that reaches Maven Central {fix}; "
        f"or download {artifact.url} to that path{explicit}"
    )


def incomplete_message(
    artifact: Artifact, entries: Sequence[IncompleteEntry], maven_error: str = ""
) -> str:
    """The error when a Maven cache folder, not only the network, stands in the way."""
    listed = "\n".join(f"    {entry}" for entry in entries)
    folders = " ".join(f"'{entry.folder}'" for entry in entries)
    maven = f"  Maven: {maven_error}\n" if maven_error else ""
    return (
        f"{_what(artifact)} {artifact.coordinate} could not be resolved: the Maven cache holds "
        "an incomplete entry of it or of a jar it needs (Spark's resolver takes such a folder "
        "for the artifact when Maven Central cannot be asked; mvn copies a cut jar as it "
        f"is):\n{listed}\n{maven}"
        f"  fix: delete that folder (rm -rf {folders}) and run again where Maven Central is "
        "reachable: the jar is then downloaded whole.\n"
        f"  cache: {cached_path(artifact)}"
    )


def ensure_all(
    artifacts: Sequence[Artifact],
    *,
    download: bool = True,
    note: Callable[[str], None] | None = None,
) -> list[Path]:
    """The paths of whole copies of ``artifacts``, in order; resolves the missing ones once.

    The missing jars are resolved together (one Spark resolver run), then by
    ``mvn`` one at a time for what Spark could not get, into the cache
    (``<cache>/jars``), where later calls find them without a resolver.
    ``PrerequisiteError`` (exit 5) names the coordinate, the cache path and the
    fix (an incomplete ``~/.m2`` folder to delete, where that is the cause)
    when a jar is neither cached nor downloadable.
    """
    found = {artifact: find(artifact) for artifact in artifacts}
    missing = [artifact for artifact, path in found.items() if path is None]
    if missing and not download:
        raise PrerequisiteError(missing_message(missing[0], "downloads are off"))
    resolved = _resolve(missing, note or console.note) if missing else {}
    return [found[artifact] or resolved[artifact] for artifact in artifacts]


def _resolve(missing: Sequence[Artifact], say: Callable[[str], None]) -> dict[Artifact, Path]:
    started = time.perf_counter()
    names = ", ".join(a.coordinate for a in missing)
    say(f"resolving {names} with Spark's --packages resolver (Ivy, once) ...")
    spark = _resolve_with_spark(missing)
    got = {artifact: _install(jar, artifact) for artifact, jar in spark.found.items()}
    for artifact in missing:
        if artifact in got:
            continue
        say(
            f"Spark's resolver could not get {artifact.jar_name}; trying Maven (mvn dependency:copy) ..."
        )
        jar, maven_error = _resolve_with_maven(artifact)
        if jar is not None:
            got[artifact] = jar
            continue
        entries = incomplete_entries([artifact], spark.report)
        if entries:
            raise PrerequisiteError(incomplete_message(artifact, entries, maven_error))
        raise PrerequisiteError(
            missing_message(artifact, f"\n  Spark (Ivy): {spark.error}\n  Maven: {maven_error}")
        )
    for artifact, path in got.items():
        say(f"resolved {artifact.jar_name} in {time.perf_counter() - started:.0f}s -> {path}")
    return got


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
    return ensure_all([artifact], download=download, note=note)[0]


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


def s3a_jars(*, download: bool = True) -> list[Path]:
    """hadoop-aws and the AWS SDK bundle, for ``spark.jars`` of a session that reads s3a://."""
    return ensure_all(S3A_JARS, download=download)
