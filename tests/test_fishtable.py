"""The study's table helpers: commits of the active and archived timelines, `zfish timeline`."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner

from zfish import fishtable
from zfish.cli import cli
from zfish.exceptions import ValidationError
from zfish.hudi import HudiTable, TableSpec, WriteOptions
from zfish.settings import LakeLayout

# A tiny archival window so that a handful of commits reach the archive.
SMALL = WriteOptions(
    bloom_num_entries=100, cleaner_commits_retained=1, keep_min_commits=2, keep_max_commits=3
)


def _table_with_archived_commits(path: Path) -> list[str]:
    spec = TableSpec(
        name="t", record_key_fields=("id",), partition_fields=("day",), precombine_field="ts"
    )
    table = HudiTable.create(str(path), spec)
    instants = []
    for n in range(6):
        batch = pa.table(
            {
                "id": ["a", f"n{n}"],
                "day": ["d", "d"],
                "ts": pa.array([n, n], pa.int64()),
            }
        )
        day = f"2025-05-{10 + n}T18:00:00"
        instants.append(table.upsert(batch, {fishtable.END_DATE_KEY: day}, SMALL).instant)
    return instants


def test_commits_lists_archived_ones_on_request(tmp_path: Path) -> None:
    path = tmp_path / "t"
    instants = _table_with_archived_commits(path)
    active = fishtable.commits(path)
    everything = fishtable.commits(path, include_archived=True)
    assert len(active) < len(instants)
    assert [c.instant for c in everything] == instants
    assert [c.archived for c in everything] == [
        c.instant not in {a.instant for a in active} for c in everything
    ]
    assert str(everything[0].simulated_day) == "2025-05-10"
    assert everything[0].num_inserts == 2
    with pytest.raises(ValidationError, match="archived"):
        fishtable.resolve_as_of(path, "2025-05-10")


def test_zfish_timeline_shows_archived_commits(tmp_path: Path) -> None:
    layout = LakeLayout(root=tmp_path / "lake")
    instants = _table_with_archived_commits(layout.table)
    result = CliRunner().invoke(cli, ["--lake", str(layout.root), "timeline"])
    assert result.exit_code == 0, result.output
    assert f"{instants[0]} (archived)" in result.output
    assert f"{instants[-1]} (archived)" not in result.output
    assert instants[-1] in result.output
