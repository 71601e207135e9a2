"""zfish.catalog.counts: the seed's counts, asked again only for partitions and snapshots that changed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa

from tests.support import write_study
from zfish import fishtable
from zfish.catalog import crawler
from zfish.catalog.counts import Counter
from zfish.catalog.query import run_query
from zfish.hudi import HudiTable
from zfish.lake.upload import upload
from zfish.settings import LakeLayout

DAYS = [date(2025, 5, d) for d in range(5, 10)]


def full_counts(layout: LakeLayout) -> dict[str, int]:
    out = {}
    for table in ("observations", "outcomes", "joined_fish_data"):
        try:
            result = run_query(layout, f'SELECT count(*) AS n FROM "zebra_fish_demo"."{table}"')
        except Exception:
            continue
        out[f"zebra_fish_demo.{table}"] = int(result.table.column("n")[0].as_py())
    return out


def upsert(layout: LakeLayout, ids: list[str]) -> None:
    table = HudiTable.open_or_create(str(layout.table), fishtable.TABLE_SPEC)
    n = len(ids)
    table.upsert(
        pa.table(
            {
                "image_id": ids,
                "fish_id": [i[:-3] for i in ids],
                "timestamp": pa.array(
                    [datetime(2025, 5, 5, tzinfo=UTC)] * n, pa.timestamp("us", "UTC")
                ),
                "day": ["2025-05-05"] * n,
            }
        )
    )


def test_counts_match_the_full_queries_and_only_changes_are_asked(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study", DAYS)
    layout = LakeLayout(root=tmp_path / "lake")
    counter = Counter(layout)
    upload(study, layout, date(2025, 5, 8), show_progress=False)
    crawler.crawl(layout)
    assert (
        counter.counts()
        == full_counts(layout)
        == {
            "zebra_fish_demo.observations": 9,
            "zebra_fish_demo.outcomes": 6,
        }
    )
    asked = counter.queries
    assert counter.counts() == full_counts(layout)
    assert counter.queries == asked  # nothing changed: nothing asked

    upload(study, layout, date(2025, 5, 10), show_progress=False)
    assert counter.counts()["zebra_fish_demo.observations"] == 9  # not crawled yet: invisible
    crawler.crawl(layout)
    upsert(layout, ["zfish_00001_01", "zfish_00002_01"])
    crawler.crawl(layout)
    assert counter.counts() == full_counts(layout)
    assert counter.counts()["zebra_fish_demo.joined_fish_data"] == 2

    # A file rewritten inside an old partition, and a new Hudi snapshot: both counted again.
    old = next((layout.observations / "day=2025-05-05").glob("*.json"))
    record = json.loads(old.read_text())
    old.write_text(json.dumps(record) + "\n" + json.dumps({**record, "image_id": "extra"}) + "\n")
    upsert(layout, ["zfish_00003_01"])
    asked = counter.queries
    assert counter.counts() == full_counts(layout)
    assert counter.counts()["zebra_fish_demo.observations"] == 16
    assert counter.queries == asked + 2


def test_hudi_rows_of_partitions_not_registered_yet_are_not_counted(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study", DAYS)
    layout = LakeLayout(root=tmp_path / "lake")
    upload(study, layout, date(2025, 5, 8), show_progress=False)
    upsert(layout, ["zfish_00001_01", "zfish_00002_01"])
    crawler.crawl(layout)
    counter = Counter(layout)
    assert counter.counts()["zebra_fish_demo.joined_fish_data"] == 2
    # A commit into a new partition, not crawled or synced yet: Athena does not see it.
    table = HudiTable.open(str(layout.table))
    table.upsert(
        pa.table(
            {
                "image_id": ["zfish_00004_01"],
                "fish_id": ["zfish_00004"],
                "timestamp": pa.array(
                    [datetime(2025, 5, 6, tzinfo=UTC)], pa.timestamp("us", "UTC")
                ),
                "day": ["2025-05-06"],
            }
        )
    )
    assert counter.counts() == full_counts(layout)
    assert counter.counts()["zebra_fish_demo.joined_fish_data"] == 2
    crawler.crawl(layout)
    assert counter.counts() == full_counts(layout)
    assert counter.counts()["zebra_fish_demo.joined_fish_data"] == 3
