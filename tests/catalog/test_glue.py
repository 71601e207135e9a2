"""The catalog store: versions, per-partition schemas, and catalogs written before versions existed."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from zfish.catalog import crawler, glue
from zfish.exceptions import CatalogError, ValidationError
from zfish.settings import LakeLayout

# The catalog layout zfish wrote before table versions and partition schemas were kept.
OLD_DDL = """
CREATE SCHEMA _zfish_glue;
CREATE TABLE _zfish_glue.tables (
    database VARCHAR NOT NULL, name VARCHAR NOT NULL, kind VARCHAR NOT NULL,
    location VARCHAR NOT NULL, columns VARCHAR NOT NULL, partition_keys VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, PRIMARY KEY (database, name));
CREATE TABLE _zfish_glue.partitions (
    database VARCHAR NOT NULL, table_name VARCHAR NOT NULL, value VARCHAR NOT NULL,
    registered_at TIMESTAMP NOT NULL, PRIMARY KEY (database, table_name, value));
"""
OLD_COLUMNS = [
    {"name": "fish_id", "type": "VARCHAR"},
    {"name": "age_days", "type": "BIGINT"},
]


@pytest.fixture
def old_catalog(tmp_path: Path) -> LakeLayout:
    layout = LakeLayout(root=tmp_path / "lake")
    folder = layout.observations / "day=2025-05-01"
    folder.mkdir(parents=True)
    (folder / "a.json").write_text(json.dumps({"fish_id": "f1", "age_days": 1}) + "\n")
    layout.catalog_dir.mkdir(parents=True)
    con = duckdb.connect(str(layout.catalog_db))
    con.execute(OLD_DDL)
    stamp = datetime(2025, 5, 1, 18)
    con.execute(
        "INSERT INTO _zfish_glue.tables VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            "zebra_fish_demo",
            "observations",
            "json",
            "observations",
            json.dumps(OLD_COLUMNS),
            '["day"]',
            stamp,
            stamp,
        ],
    )
    con.execute(
        "INSERT INTO _zfish_glue.partitions VALUES (?, ?, ?, ?)",
        ["zebra_fish_demo", "observations", "2025-05-01", stamp],
    )
    con.close()
    return layout


def test_an_old_catalog_still_loads_and_shows_its_definition_as_version_0(
    old_catalog: LakeLayout,
) -> None:
    entry = glue.load_tables(old_catalog)["observations"]
    assert entry.columns == (glue.Column("fish_id", "VARCHAR"), glue.Column("age_days", "BIGINT"))
    assert entry.partitions == ("2025-05-01",)
    (version,) = glue.load_versions(old_catalog, "observations")
    assert version.version_id == 0
    assert version.changes == (glue.BASELINE_NOTE,)
    assert version.columns == entry.columns


def test_the_first_crawl_of_an_old_catalog_keeps_its_definition_as_version_0(
    old_catalog: LakeLayout,
) -> None:
    change = crawler.crawl(old_catalog).tables["observations"]
    # Re-read with today's rules, which follow Glue's classifier: a small integer is an int.
    assert change.schema_changes == ["changed age_days bigint -> int in day=2025-05-01 (a.json)"]
    versions = glue.load_versions(old_catalog, "observations")
    assert [(v.version_id, v.changes[0]) for v in versions] == [
        (0, glue.BASELINE_NOTE),
        (1, "changed age_days bigint -> int in day=2025-05-01 (a.json)"),
    ]
    assert versions[0].columns[1] == glue.Column("age_days", "BIGINT")
    # The partition's own schema and fingerprint are stored now: nothing changes on a recrawl.
    assert crawler.crawl(old_catalog).tables["observations"].version is None


def test_partition_schemas_are_stored_with_the_partition(tmp_path: Path) -> None:
    layout = LakeLayout(root=tmp_path / "lake")
    for day, record in (("2025-05-01", {"a": 1}), ("2025-05-02", {"a": 1, "b": "x"})):
        folder = layout.observations / f"day={day}"
        folder.mkdir(parents=True)
        (folder / "r.json").write_text(json.dumps(record))
    crawler.crawl(layout)
    with glue.connect(layout, read_only=True) as con:
        parts = glue.load_partitions(con, "observations")
    assert parts["2025-05-01"].columns == (glue.Column("a", "INTEGER"),)
    assert parts["2025-05-02"].columns == (
        glue.Column("a", "INTEGER"),
        glue.Column("b", "VARCHAR"),
    )
    assert parts["2025-05-01"].fingerprint != parts["2025-05-02"].fingerprint


def test_history_of_an_unknown_table_or_without_a_catalog(tmp_path: Path) -> None:
    layout = LakeLayout(root=tmp_path / "lake")
    with pytest.raises(CatalogError, match="no catalog at"):
        glue.load_versions(layout, "observations")
    folder = layout.outcomes / "day=2025-05-01"
    folder.mkdir(parents=True)
    (folder / "o.json").write_text('[{"fish_id": "f", "condition_developed": true}]')
    crawler.crawl(layout)
    with pytest.raises(ValidationError, match=r"catalogued: zebra_fish_demo\.outcomes"):
        glue.load_versions(layout, "observations")
