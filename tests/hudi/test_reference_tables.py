"""The JVM-written reference tables cover the kinds of the hudi-rs samples (the second source)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hudi_testlib import FIXTURES, V6_COW, completed_commits, shared_samples_present, unzip_table
from reference_tables import TABLES, content_hash

from zfish.hudi import properties as p
from zfish.hudi.storage import Storage
from zfish.hudi.timeline import Timeline

# What makes a table's kind: the settings a writer must match (validateTableConfig) and more.
KIND_KEYS = (
    "hoodie.table.type",
    "hoodie.table.version",
    "hoodie.table.recordkey.fields",
    "hoodie.table.partition.fields",
    "hoodie.table.precombine.field",
    "hoodie.table.keygenerator.class",
    "hoodie.datasource.write.hive_style_partitioning",
    "hoodie.table.name",
    "hoodie.database.name",
)


def props(root: Path) -> dict[str, str]:
    return p.loads((root / ".hoodie" / "hoodie.properties").read_text("latin-1"))


def actions(root: Path) -> list[str]:
    return [i.action for i in Timeline.load(Storage(str(root))).completed_writes()]


def test_reference_tables_are_cached_under_their_content_hash(reference_dir: Path) -> None:
    assert reference_dir.name == content_hash()
    assert sorted(p.name for p in reference_dir.iterdir()) == sorted(TABLES)
    for name in TABLES:
        assert (reference_dir / name / ".hoodie" / "hoodie.properties").exists()


def test_reference_tables_are_the_kinds_of_the_shared_samples(
    reference_dir: Path, fixtures_dir: Path
) -> None:
    if not shared_samples_present():
        pytest.skip(
            f"the hudi-rs sample tables (second source) are not at {FIXTURES}: every sample "
            "table test ran on the JVM-written reference tables only"
        )
    for name in (*V6_COW, "cow_v6_empty"):
        ours, theirs = reference_dir / name, unzip_table(name, fixtures_dir)
        for key in KIND_KEYS:
            assert props(ours).get(key) == props(theirs).get(key), (name, key)
        assert actions(ours) == actions(theirs), name
        assert len(completed_commits(ours)) == len(completed_commits(theirs)), name
