"""zfish.jvm: the class-data archive is dumped once, checked, used, and never handed over broken.

The JVM here is ``java -version`` with a Spark jar on the class path: a real
dynamic archive in a second, no Spark session needed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pyspark
import pytest

from zfish import jvm
from zfish.spark import check_java

SPARK_JARS = Path(pyspark.__file__).parent / "jars"


@pytest.fixture
def spark_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Spark home with one jar, and zfish's cache in the test's folder."""
    monkeypatch.setenv("ZFISH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(jvm.ENV_CDS, raising=False)
    home = tmp_path / "spark"
    (home / "jars").mkdir(parents=True)
    launcher = next(SPARK_JARS.glob("spark-launcher_*.jar"))
    shutil.copy(launcher, home / "jars" / launcher.name)
    return home


def class_path(home: Path) -> str:
    return str(next((home / "jars").glob("*.jar")))


def run_jvm(java: str, plan: jvm.ArchivePlan, home: Path) -> subprocess.Popen[bytes]:
    """What pyspark does: start the JVM with the plan's options (here it exits at once)."""
    proc = subprocess.Popen(
        [java, *plan.options.split(), "-cp", class_path(home), "-version"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proc.wait(timeout=120)
    return proc


def test_the_first_jvm_dumps_the_next_ones_map_the_checked_archive(spark_home: Path) -> None:
    java, banner = check_java()
    first = jvm.plan_archive(java, banner, spark_home, "-Xmx1g")
    assert first.dump_to is not None
    assert "-XX:ArchiveClassesAtExit=" in first.options
    # Another process starting meanwhile neither dumps the same key nor waits for it.
    assert jvm.plan_archive(java, banner, spark_home, "-Xmx1g").options == ""
    jvm.finish_archive(first, java, run_jvm(java, first, spark_home), class_path(spark_home))
    archive = jvm.cds_dir() / f"{first.key}.jsa"
    assert archive.is_file()
    assert not first.dump_to.exists()
    later = jvm.plan_archive(java, banner, spark_home, "-Xmx1g")
    assert later.dump_to is None
    assert f"-XX:SharedArchiveFile={archive}" in later.options
    assert "-Xshare:auto" in later.options
    assert run_jvm(java, later, spark_home).returncode == 0


def test_a_truncated_archive_is_never_handed_to_the_jvm(spark_home: Path) -> None:
    java, banner = check_java()
    plan = jvm.plan_archive(java, banner, spark_home, "")
    jvm.finish_archive(plan, java, run_jvm(java, plan, spark_home), class_path(spark_home))
    archive = jvm.cds_dir() / f"{plan.key}.jsa"
    archive.chmod(0o644)
    archive.write_bytes(archive.read_bytes()[:4096])  # a JVM maps this and dies of SIGBUS
    again = jvm.plan_archive(java, banner, spark_home, "")
    assert "SharedArchiveFile" not in again.options
    assert again.dump_to is not None  # it is built anew


def test_an_unusable_dump_is_refused_and_not_retried(spark_home: Path) -> None:
    java, banner = check_java()
    plan = jvm.plan_archive(java, banner, spark_home, "")
    assert plan.dump_to is not None
    plan.dump_to.write_bytes(b"not an archive" * 100)
    done = subprocess.Popen(["true"], stdin=subprocess.PIPE)
    done.wait()
    jvm.finish_archive(plan, java, done, class_path(spark_home))
    assert not (jvm.cds_dir() / f"{plan.key}.jsa").exists()
    assert not plan.dump_to.exists()
    assert jvm.plan_archive(java, banner, spark_home, "").options == ""


def test_the_key_follows_the_runtime_the_jars_and_the_options(spark_home: Path) -> None:
    java, banner = check_java()
    key = jvm.archive_key(java, banner, spark_home, "-Xmx1g")
    assert key == jvm.archive_key(java, banner, spark_home, "-Xmx1g")
    assert key != jvm.archive_key(java, banner, spark_home, "-Xmx2g")
    assert key != jvm.archive_key(java, banner + " other build", spark_home, "-Xmx1g")
    (spark_home / "jars" / "extra.jar").write_bytes(b"PK")
    assert key != jvm.archive_key(java, banner, spark_home, "-Xmx1g")


def test_switches(spark_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    java, banner = check_java()
    monkeypatch.setenv(jvm.ENV_CDS, "0")
    assert jvm.plan_archive(java, banner, spark_home, "").options == ""
    assert jvm.jit_options() == jvm.C1_ONLY
    monkeypatch.setenv(jvm.ENV_JIT, "tiered")
    assert jvm.jit_options() == ""


def test_only_the_newest_archives_are_kept(spark_home: Path) -> None:
    import os

    folder = jvm.cds_dir()
    folder.mkdir(parents=True)
    for age, key in enumerate(["new", "mid", "old", "older"]):
        archive = folder / f"{key}.jsa"
        archive.write_bytes(b"x")
        (folder / f"{key}.jsa.ok").write_text("1")
        os.utime(archive, (1e9 - age * 100, 1e9 - age * 100))
    (folder / "gone.4242424242.tmp").write_bytes(b"half a dump")  # its process is long dead
    (folder / "current.jsa").write_bytes(b"x")
    jvm._remove_other_keys(folder, "current")
    assert sorted(p.name for p in folder.iterdir()) == [
        "current.jsa",
        "mid.jsa",
        "mid.jsa.ok",
        "new.jsa",
        "new.jsa.ok",
    ]
