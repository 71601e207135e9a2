"""Fixtures of the zfish.hudi tests (helpers live in hudi_testlib and jvm_testlib).

``sample`` gives the Spark-written sample tables from two sources, each test
running once per source: ``jvm``, the reference tables this test run writes
(or reuses from its cache) with the pinned JVM Hudi 0.15 bundle
(reference_tables.py), and ``shared``, the hudi-rs sample tables in
``../shared/fixtures``, only where that folder exists: a clone without it runs
every test on the JVM's tables and skips none (test_reference_tables.py says,
in one skip, that the second source is absent).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hudi_testlib import shared_samples_present, unzip_table

SOURCES = ["jvm", "shared"] if shared_samples_present() else ["jvm"]


@pytest.fixture(scope="session")
def fixtures_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session-wide folder the fixture zips are unzipped into (read-only use)."""
    return tmp_path_factory.mktemp("hudi-fixtures")


@pytest.fixture(scope="session")
def reference_dir(spark_hudi) -> Path:
    """The JVM-written reference tables (read-only), built once and cached by content."""
    from reference_tables import reference_tables

    return reference_tables(spark_hudi)


@dataclass(frozen=True)
class SampleTables:
    """Where one source keeps its sample tables: ``root(name)`` is a table's base path."""

    source: str
    root: Callable[[str], Path]


@pytest.fixture(params=SOURCES)
def sample(request: pytest.FixtureRequest, fixtures_dir: Path) -> SampleTables:
    if request.param == "jvm":
        base: Path = request.getfixturevalue("reference_dir")
        return SampleTables("jvm", lambda name: base / name)
    return SampleTables("shared", lambda name: unzip_table(name, fixtures_dir))


@pytest.fixture
def fixture_table(sample: SampleTables, tmp_path: Path) -> Callable[[str], Path]:
    """Factory: a private, writable copy of a Spark-written sample table."""

    def make(name: str) -> Path:
        src = sample.root(name)
        dst = tmp_path / src.name
        shutil.copytree(src, dst)
        return dst

    return make


@pytest.fixture
def v8_table(sample: SampleTables, fixtures_dir: Path, tmp_path: Path) -> Path:
    """A table version 8 (Hudi 1.x) table, read-only.

    ``shared``: the hudi-rs sample written by Hudi 1.0. ``jvm``: the 0.15 bundle
    writes only version 6, so a copy of a reference table with the keys a Hudi 1.x
    writer's upgrade changes in hoodie.properties (version 8, timeline layout 2).
    """
    from zfish.hudi import properties as p

    if sample.source == "shared":
        return unzip_table("cow_v8_nonpartitioned", fixtures_dir)
    root = tmp_path / "v8"
    shutil.copytree(sample.root("cow_v6_nonpartitioned"), root)
    path = root / ".hoodie" / "hoodie.properties"
    props = p.loads(path.read_text("latin-1"))
    props.update({"hoodie.table.version": "8", "hoodie.timeline.layout.version": "2"})
    props["hoodie.table.initial.version"] = "6"
    path.write_text(p.dumps(props), "latin-1")
    (root / ".hoodie" / ".hoodie.properties.crc").unlink(missing_ok=True)
    return root
