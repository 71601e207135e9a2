"""zfish.jars: which copy of a pinned jar is used, what is refused, and resolution past a bad ~/.m2.

The first tests use neither Spark nor the network. The resolution tests at the
end download small artifacts from Maven Central into temporary caches, with a
temporary ``~/.m2`` that holds what a machine used for Maven often holds: a pom
without its jar (or a cut jar); the s3a jars go once into zfish's real cache.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support import SLF4J_API, central_or_skip, pom_only_entry
from zfish import jars
from zfish.cli import cli
from zfish.exceptions import EXIT_PREREQUISITE, PrerequisiteError

BUNDLE = jars.HUDI_BUNDLE


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home and zfish cache: nothing of the real machine's caches is seen."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv(jars.ENV_CACHE, str(home / ".cache" / "zfish"))
    monkeypatch.delenv(jars.ENV_HUDI_BUNDLE, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    return home


def write_jar(path: Path, payload: bytes = b"x" * 4096) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        zf.writestr("org/apache/hudi/DataSourceReadOptions.class", payload)
    return path


def cut(path: Path) -> Path:
    """What an interrupted download leaves: the first part of the file, no central directory."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def m2_path(home: Path) -> Path:
    return home / ".m2" / "repository" / BUNDLE.repository_path


def test_find_prefers_zfish_cache_over_maven_and_ivy(home: Path) -> None:
    cached = write_jar(jars.cached_path(BUNDLE))
    write_jar(m2_path(home))
    write_jar(home / ".ivy2" / "jars" / BUNDLE.ivy_jar_name)
    assert jars.cached_path(BUNDLE) == home / ".cache" / "zfish" / "jars" / BUNDLE.jar_name
    assert jars.find(BUNDLE) == cached
    assert jars.hudi_bundle(download=False) == cached


def test_a_cut_jar_in_the_cache_is_not_used(home: Path) -> None:
    cut(write_jar(jars.cached_path(BUNDLE)))
    assert jars.find(BUNDLE) is None
    with pytest.raises(PrerequisiteError) as caught:
        jars.hudi_bundle(download=False)
    assert caught.value.exit_code == EXIT_PREREQUISITE
    message = str(caught.value)
    assert BUNDLE.coordinate in message
    assert f"cache: {jars.cached_path(BUNDLE)}" in message
    assert "fix: on a machine that reaches Maven Central run `make bundle`" in message
    # A whole copy elsewhere is taken instead of the cut one.
    whole = write_jar(m2_path(home))
    assert jars.find(BUNDLE) == whole


def test_a_maven_copy_whose_sha1_does_not_match_is_not_used(home: Path) -> None:
    jar = write_jar(m2_path(home))
    sidecar = jar.with_name(jar.name + ".sha1")
    sidecar.write_text("0" * 40 + "\n")
    assert jars.find(BUNDLE) is None
    sidecar.write_text(hashlib.sha1(jar.read_bytes()).hexdigest() + "\n")
    assert jars.find(BUNDLE) == jar


def test_an_explicit_bundle_that_is_missing_or_cut_gives_exit_5(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_jar(jars.cached_path(BUNDLE))  # a good cached copy must not hide the mistake
    missing = tmp_path / "nowhere" / BUNDLE.jar_name
    monkeypatch.setenv(jars.ENV_HUDI_BUNDLE, str(missing))
    with pytest.raises(PrerequisiteError) as caught:
        jars.hudi_bundle()
    assert caught.value.exit_code == EXIT_PREREQUISITE
    assert str(missing) in str(caught.value)
    assert jars.ENV_HUDI_BUNDLE in str(caught.value)
    result = CliRunner().invoke(cli, ["bundle"])
    assert result.exit_code == EXIT_PREREQUISITE
    assert "does not exist" in result.output

    broken = cut(write_jar(tmp_path / "broken.jar"))
    with pytest.raises(PrerequisiteError, match="not a whole jar"):
        jars.hudi_bundle(str(broken))
    assert jars.hudi_bundle(str(write_jar(tmp_path / "good.jar"))) == tmp_path / "good.jar"


def test_installing_into_the_cache_is_atomic_and_leaves_no_temp_file(home: Path) -> None:
    source = write_jar(home / "downloads" / BUNDLE.jar_name)
    installed = jars._install(source, BUNDLE)
    assert installed == jars.cached_path(BUNDLE)
    assert installed.read_bytes() == source.read_bytes()
    assert [p.name for p in installed.parent.iterdir()] == [BUNDLE.jar_name]


@pytest.fixture
def jvm_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The empty home for JVMs too: Java's user.home (Ivy's and Maven's ~/.m2) ignores $HOME."""
    monkeypatch.setenv("JAVA_TOOL_OPTIONS", f"-Duser.home={home}")
    if shutil.which("java") is None:
        pytest.skip("no java on PATH: Spark's resolver cannot run")
    return home


def without_maven(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine without mvn: only Spark's resolver (Ivy) can get a jar."""
    real_which = shutil.which
    monkeypatch.setattr(
        jars.shutil, "which", lambda name, *a, **k: None if name == "mvn" else real_which(name)
    )


def test_incomplete_maven_folders_are_told_apart_from_whole_and_absent_ones(home: Path) -> None:
    repo = jars.m2_repository()
    assert jars.incomplete_entry(repo, BUNDLE) is None  # absent: nothing to say
    folder = repo / BUNDLE.folder
    folder.mkdir(parents=True)
    (folder / f"{BUNDLE.artifact}-{BUNDLE.version}.pom").write_text("<project/>")
    entry = jars.incomplete_entry(repo, BUNDLE)
    assert entry is not None
    assert entry.folder == folder
    assert (
        str(entry)
        == f"{folder} holds {BUNDLE.artifact}-{BUNDLE.version}.pom but no {BUNDLE.jar_name}"
    )
    jar = write_jar(m2_path(home))
    assert jars.incomplete_entry(repo, BUNDLE) is None
    jar.with_name(jar.name + ".sha1").write_text("0" * 40)
    assert "does not match its .sha1" in str(jars.incomplete_entry(repo, BUNDLE))
    cut(jar)
    assert "holds a cut" in str(jars.incomplete_entry(repo, BUNDLE))
    # Ivy's report names the dependency it could not get: its folder is looked at too.
    report = "[NOT FOUND  ] org.apache.hudi#hudi-spark3.5-bundle_2.12;0.15.0!hudi.jar (0ms)"
    assert [e.folder for e in jars.incomplete_entries([], report)] == [folder]


def test_mvn_local_repository_follows_settings_xml(home: Path) -> None:
    assert jars.maven_local_repository() == home / ".m2" / "repository"
    settings = home / ".m2" / "settings.xml"
    settings.parent.mkdir(parents=True)
    settings.write_text(
        '<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">'
        "<localRepository>${user.home}/maven-cache</localRepository></settings>"
    )
    assert jars.maven_local_repository() == home / "maven-cache"
    settings.write_text("<settings><not-closed></settings>")
    assert jars.maven_local_repository() == home / ".m2" / "repository"


# A small jar that depends on slf4j-api 1.7.36, as the Hudi bundle does (15 kB instead of 109 MB).
SLF4J_SIMPLE = jars.Artifact("org.slf4j", "slf4j-simple", "1.7.36")


@pytest.mark.spark
def test_spark_resolution_gets_a_jar_past_a_pom_only_entry_of_its_dependency_in_m2(
    jvm_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 20: ~/.m2 holds slf4j-api 1.7.36's pom but no jar.

    Spark's default Ivy chain takes slf4j-api from ~/.m2, then fails on the
    missing jar; zfish's resolution (the path of `zfish bundle` and
    `--writer spark-hudi`) must get the jar and its dependency all the same.
    """
    entry = pom_only_entry(jvm_home, SLF4J_API)
    before = sorted(p.name for p in entry.iterdir())
    without_maven(monkeypatch)
    notes: list[str] = []
    path = jars.ensure(SLF4J_SIMPLE, note=notes.append)
    assert path == jars.cached_path(SLF4J_SIMPLE)
    assert jars._whole_jar(path)
    assert jars._sha1_matches(path) or not path.with_name(path.name + ".sha1").exists()
    assert jars._whole_jar(jars.ivy_dir() / "jars" / SLF4J_API.ivy_jar_name)
    assert not any("trying Maven" in line for line in notes), notes
    # The user's Maven cache is read, never written.
    assert sorted(p.name for p in entry.iterdir()) == before


def minimal_pom(artifact: jars.Artifact) -> str:
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        f"<groupId>{artifact.group}</groupId><artifactId>{artifact.artifact}</artifactId>"
        f"<version>{artifact.version}</version></project>\n"
    )


@pytest.mark.spark
def test_a_pom_only_entry_that_stops_resolution_is_named_with_its_fix_and_exit_5(
    jvm_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry out of reach and ~/.m2 holding the bundle's pom without its jar.

    Spark's own override of Maven Central (DEFAULT_ARTIFACT_REPOSITORY, which
    zfish's Ivy settings honour) points at an empty repository: the registry has
    nothing, so Ivy takes ~/.m2's folder and fails on the missing jar. No network.
    """
    empty = tmp_path / "empty-registry"
    empty.mkdir()
    monkeypatch.setenv("DEFAULT_ARTIFACT_REPOSITORY", empty.as_uri() + "/")
    folder = jvm_home / ".m2" / "repository" / BUNDLE.folder
    folder.mkdir(parents=True)
    (folder / f"{BUNDLE.artifact}-{BUNDLE.version}.pom").write_text(minimal_pom(BUNDLE))
    without_maven(monkeypatch)
    result = CliRunner().invoke(cli, ["bundle"])
    assert result.exit_code == EXIT_PREREQUISITE, result.output
    message = " ".join(result.output.split())
    assert (
        f"{folder} holds {BUNDLE.artifact}-{BUNDLE.version}.pom but no {BUNDLE.jar_name}" in message
    )
    assert f"fix: delete that folder (rm -rf '{folder}')" in message
    assert BUNDLE.coordinate in message
    # Not Ivy's report.
    assert "FAILED DOWNLOADS" not in result.output
    assert "::" not in result.output
    assert not jars.cached_path(BUNDLE).exists()
    assert sorted(p.name for p in folder.iterdir()) == [f"{BUNDLE.artifact}-{BUNDLE.version}.pom"]


def test_ivy_settings_are_printed_for_spark_submit_and_ask_maven_central_before_m2() -> None:
    result = CliRunner().invoke(cli, ["bundle", "--ivy-settings"])
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip())
    assert path == jars.ivy_settings()
    import xml.etree.ElementTree as ElementTree

    root = ElementTree.parse(path).getroot()
    chain = root.find("resolvers/chain")
    assert chain is not None
    assert root.find("settings").get("defaultResolver") == chain.get("name")  # type: ignore[union-attr]
    roots = [resolver.get("root", "") for resolver in chain]
    assert roots == ["${zfish.central}", "file:${user.home}/.m2/repository/"]
    assert [r.get("name") for r in chain][1] != "local-m2-cache"


@pytest.fixture(scope="session")
def maven_plugins() -> Path:
    """A Maven repository with what `mvn dependency:copy` runs on (11 MB), fetched once a machine.

    In zfish's real cache: a test's empty ~/.m2 would otherwise download
    Maven's plugins again each run (about 20 s).
    """
    mvn = shutil.which("mvn")
    if mvn is None:
        pytest.skip("mvn is not on PATH: zfish's Maven fallback is not used on this machine")
    repo = jars.cache_dir() / "test-maven-plugins"
    done = repo / ".complete"
    if not done.exists():
        shutil.rmtree(repo, ignore_errors=True)
        proc = subprocess.run(
            [
                mvn,
                "-q",
                "-B",
                f"-Dmaven.repo.local={repo}",
                "dependency:copy",
                f"-Dartifact={SLF4J_API.coordinate}",
                f"-DoutputDirectory={repo / '.out'}",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if proc.returncode != 0:
            if jars.require_bundle():
                pytest.fail(f"mvn could not fetch its plugins here (CI): {proc.stdout[-2000:]}")
            pytest.skip(f"mvn could not fetch its plugins: {proc.stdout[-500:]}")
        shutil.rmtree(repo / "org" / "slf4j", ignore_errors=True)
        done.touch()
    return repo


@pytest.mark.slow
def test_mvn_is_not_fooled_by_a_cut_jar_in_its_local_repository(
    maven_plugins: Path, jvm_home: Path
) -> None:
    """`mvn dependency:copy` copies a cut jar from ~/.m2 as it is; zfish refuses the copy.

    After the fix the message gives (deleting the folder), mvn downloads the
    jar again and zfish takes it: a whole zip that matches Maven Central's .sha1.
    """
    shutil.copytree(
        maven_plugins, jvm_home / ".m2" / "repository", ignore=shutil.ignore_patterns(".*")
    )
    folder = pom_only_entry(jvm_home, SLF4J_SIMPLE)
    whole = central_or_skip(SLF4J_SIMPLE, ".jar")
    sha1 = central_or_skip(SLF4J_SIMPLE, ".jar.sha1").decode().split()[0]
    (folder / SLF4J_SIMPLE.jar_name).write_bytes(whole[: len(whole) // 2])
    (folder / f"{SLF4J_SIMPLE.jar_name}.sha1").write_text(sha1)

    path, error = jars._resolve_with_maven(SLF4J_SIMPLE)
    assert path is None
    assert f"{folder} holds a cut {SLF4J_SIMPLE.jar_name}" in error
    assert not jars.cached_path(SLF4J_SIMPLE).exists()
    assert not list(jars.jars_dir().glob(".zfish-mvn-*"))  # its temporary copy is gone

    shutil.rmtree(folder)  # the fix the message gives
    path, error = jars._resolve_with_maven(SLF4J_SIMPLE)
    assert path == jars.cached_path(SLF4J_SIMPLE), error
    assert jars._whole_jar(path)
    assert hashlib.sha1(path.read_bytes()).hexdigest() == sha1


@pytest.mark.spark
def test_the_s3a_jars_are_resolved_once_whole_and_as_maven_central_has_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """hadoop-aws 3.3.4 and its AWS SDK bundle for spark.jars, in zfish's real cache (290 MB once)."""
    monkeypatch.delenv("JAVA_TOOL_OPTIONS", raising=False)
    notes: list[str] = []
    started = time.perf_counter()
    paths = jars.ensure_all(jars.S3A_JARS, note=notes.append)
    print(f"s3a jars in {time.perf_counter() - started:.1f}s", *notes, sep="\n  ")
    assert [p.name for p in paths] == [a.jar_name for a in jars.S3A_JARS]
    probes = {
        jars.HADOOP_AWS: "org/apache/hadoop/fs/s3a/S3AFileSystem.class",
        jars.AWS_SDK_BUNDLE: "com/amazonaws/services/s3/AmazonS3Client.class",
    }
    for artifact, path in zip(jars.S3A_JARS, paths, strict=True):
        expected = central_or_skip(artifact, ".jar.sha1").decode().split()[0]
        digest = hashlib.sha1()
        with path.open("rb") as fh:
            for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                digest.update(chunk)
        assert digest.hexdigest() == expected, path
        with zipfile.ZipFile(path) as zf:
            zf.getinfo(probes[artifact])
    assert not any("trying Maven" in line for line in notes), notes

    def no_resolver(*args: object, **kwargs: object) -> None:
        raise AssertionError("a second call must find the jars without a resolver")

    monkeypatch.setattr(jars, "_resolve", no_resolver)
    assert jars.s3a_jars() == paths
