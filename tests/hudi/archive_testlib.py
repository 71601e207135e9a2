"""Helpers of the archival tests: small tables with one row per key and an oracle."""

from __future__ import annotations

from pathlib import Path

from hudi_testlib import fish_spec, rows

from zfish.hudi import HudiTable, WriteOptions
from zfish.hudi.storage import Storage
from zfish.hudi.timeline import Timeline

OPTIONS = WriteOptions(bloom_num_entries=200)

# A child process making commit 30 (``commit_n``) on the table argv[1]; the crash tests
# run it with ZFISH_HUDI_FAULT set (argv[2] is this folder, for the import).
CHILD = """
import sys
from zfish.hudi import HudiTable, WriteOptions
sys.path.insert(0, sys.argv[2])
from archive_testlib import OPTIONS, commit_n
oracle = {}
table = HudiTable.open(sys.argv[1])
commit_n(table, oracle, 30, OPTIONS)
print("survived")
"""
DAYS = ("d0", "d1", "d2", "d3")


def day_of(key: str) -> str:
    return DAYS[sum(map(ord, key)) % len(DAYS)]


def commit_n(table: HudiTable, oracle: dict[str, int], n: int, opts: WriteOptions = OPTIONS) -> str:
    """Upsert one updated key and one new key; returns the instant."""
    keys = [f"k{n % 9}", f"n{n}"]
    result = table.upsert(rows(keys, [day_of(k) for k in keys], n, n), options=opts)
    assert result.archive_error is None
    assert result.clean_error is None
    oracle.update(dict.fromkeys(keys, n))
    return result.instant


def build(base: Path, count: int, opts: WriteOptions = OPTIONS) -> tuple[HudiTable, dict, list]:
    table = HudiTable.create(str(base), fish_spec())
    oracle: dict[str, int] = {}
    instants = [commit_n(table, oracle, n, opts) for n in range(count)]
    return table, oracle, instants


def active_commits(base: Path) -> list[str]:
    return [i.timestamp for i in Timeline.load(Storage(str(base))).completed_writes()]


def expected_after(n: int) -> dict[str, int]:
    """The oracle of a table built by ``n`` calls of ``commit_n`` (0..n-1)."""
    oracle: dict[str, int] = {}
    for i in range(n):
        oracle.update(dict.fromkeys([f"k{i % 9}", f"n{i}"], i))
    return oracle
