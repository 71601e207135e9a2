"""zfish.hudi.properties: hoodie.properties text, checksum, and the tables we refuse."""

from __future__ import annotations

from pathlib import Path

import pytest
from hudi_testlib import V6_COW

from zfish.exceptions import UnsupportedTableError
from zfish.hudi import properties as p
from zfish.hudi.options import TABLE_CHECKSUM


def fixture_props(sample, name: str) -> dict[str, str]:
    root = sample.root(name)
    return p.loads((root / ".hoodie" / "hoodie.properties").read_text("latin-1"))


def v8_props(root: Path) -> dict[str, str]:
    return p.loads((root / ".hoodie" / "hoodie.properties").read_text("latin-1"))


def test_checksum_recomputed_equals_every_fixture(sample, v8_table: Path) -> None:
    tables = [sample.root(name) for name in (*V6_COW, "cow_v6_empty")]
    if sample.source == "shared":
        tables.append(v8_table)  # written by Hudi 1.0 itself
    for root in tables:
        props = v8_props(root)
        expected = p.table_checksum(props.get("hoodie.database.name"), props["hoodie.table.name"])
        assert props[TABLE_CHECKSUM] == str(expected), root
    assert p.table_checksum("default", "v6_nonpartitioned") == 1363530505


def test_loads_unescapes_java_properties(sample) -> None:
    props = fixture_props(sample, "cow_v6_timebasedkeygen_nonhivestyle")
    assert props["hoodie.keygen.timebased.input.dateformat"] == "yyyy-MM-dd'T'HH:mm:ss.SSSZ"
    assert props["hoodie.table.create.schema"].startswith('{"type":"record"')


def test_dumps_escapes_like_java_and_round_trips() -> None:
    values = {
        "hoodie.table.create.schema": '{"type":"record","name":"t_record"}',
        "weird key": "a=b:c#d!e\\f",
        "unicode": "día 日本 😀",
        "hoodie.table.checksum": "1",
        "hoodie.table.name": "t",
    }
    text = p.dumps(values)
    assert 'hoodie.table.create.schema={"type"\\:"record","name"\\:"t_record"}' in text
    assert text.rstrip("\n").splitlines()[-1] == "hoodie.table.checksum=1"
    assert text.isascii()
    assert p.loads(text) == values


def test_fixture_tables_are_writable_except_the_ones_we_refuse(sample) -> None:
    for name in (
        "cow_v6_nonpartitioned",
        "cow_v6_simplekeygen_nonhivestyle",
        "cow_v6_complexkeygen_hivestyle",
        "cow_v6_simplekeygen_nonhivestyle_overwritetable",
    ):
        p.check_writable(fixture_props(sample, name), name, False)
    with pytest.raises(UnsupportedTableError, match="TimestampBasedKeyGenerator"):
        p.check_writable(fixture_props(sample, "cow_v6_timebasedkeygen_nonhivestyle"), "x", False)


def test_a_hudi_1_table_is_refused(v8_table: Path) -> None:
    with pytest.raises(UnsupportedTableError, match="version is 8"):
        p.check_writable(v8_props(v8_table), "x", False)


BASE = {
    "hoodie.table.name": "t",
    "hoodie.database.name": "db",
    "hoodie.table.type": "COPY_ON_WRITE",
    "hoodie.table.version": "6",
    "hoodie.timeline.layout.version": "1",
    "hoodie.table.recordkey.fields": "id",
    "hoodie.table.checksum": str(p.table_checksum("db", "t")),
}


@pytest.mark.parametrize(
    ("change", "has_mdt", "match"),
    [
        ({"hoodie.table.version": "5"}, False, "version is 5"),
        ({"hoodie.timeline.layout.version": "2"}, False, "layout version is 2"),
        ({"hoodie.table.type": "MERGE_ON_READ"}, False, "COPY_ON_WRITE"),
        ({"hoodie.table.metadata.partitions": "files"}, False, "metadata table"),
        ({}, True, "metadata table"),
        ({"hoodie.populate.meta.fields": "false"}, False, "meta fields"),
        ({"hoodie.table.checksum": "42"}, False, "checksum"),
        ({"hoodie.table.base.file.format": "ORC"}, False, "ORC"),
    ],
)
def test_refusals_name_table_problem_and_fix(
    change: dict[str, str], has_mdt: bool, match: str
) -> None:
    with pytest.raises(UnsupportedTableError, match=match) as info:
        p.check_writable({**BASE, **change}, "s3://bucket/t", has_mdt)
    message = str(info.value)
    assert "'t'" in message
    assert "s3://bucket/t" in message
    assert "Fix:" in message


def test_good_properties_pass() -> None:
    p.check_writable(BASE, "x", False)
