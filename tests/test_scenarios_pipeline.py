"""zfish's own pipeline over a season of each fault scenario equals what ``zfish expect`` says.

One small study per scenario alone and one with every scenario, each a season
of three evenings with skipped evenings between them, the native writer, the
session's one Spark. Image ids ``zfish expect`` leaves undetermined (a re-send
into a later partition, see ``RULE_REDELIVERY``) are left out on both sides.
"""

from __future__ import annotations

import json
from datetime import UTC, date
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from zfish import fishtable
from zfish.generator import StudySpec, generate, scenarios
from zfish.generator.expect import COLUMNS, Expectation, checksum, expect
from zfish.settings import LakeLayout
from zfish.simulate import evening

pytestmark = [pytest.mark.spark, pytest.mark.slow]

# Skipped evenings between them; the last one after the study's end delivers everything.
EVENINGS = (date(2025, 4, 20), date(2025, 5, 12), date(2025, 6, 1))
MIXES = [(name,) for name in scenarios.NAMES] + [scenarios.NAMES]


def _table_rows(layout: LakeLayout, skip: set[str]) -> list[dict[str, Any]]:
    rows = []
    for row in fishtable.read(layout.table).select(list(COLUMNS)).to_pylist():
        if row["image_id"] in skip:
            continue
        stamp = row["timestamp"]
        stamp = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
        row["timestamp"] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(row)
    return rows


def _quarantined(layout: LakeLayout, skip: set[str]) -> set[tuple[str, str]]:
    """(file inside the study, reason up to its file list) of every record any evening rejected."""
    found = set()
    skip_fish = {image_id.rpartition("_")[0] for image_id in skip}
    for path in layout.quarantine.glob("run=*/*.json"):
        for line in path.read_text().splitlines():
            q = json.loads(line)
            record = json.loads(q["record"]) if q["record"] else {}
            if isinstance(record, list):  # an outcomes line: its element is the record
                record = record[q["element"]] if q["element"] is not None else {}
            # A fish whose observations are all undetermined may or may not be known.
            fish_open = q["kind"] == "outcomes" and record.get("fish_id") in skip_fish
            if record.get("image_id") in skip or fish_open:
                continue
            source = q["source_file"].split("/fish-demo/", 1)[1]
            found.add((source, q["reason"].split(" with different content")[0]))
    return found


def _expected_rejects(result: Expectation) -> set[tuple[str, str]]:
    return {(r["file"], r["reason"].split(" with different content")[0]) for r in result.rejected}


@pytest.mark.parametrize("mix", MIXES, ids=lambda m: "+".join(m) if len(m) < 3 else "all")
def test_a_season_of_the_scenario_equals_zfish_expect(
    spark: SparkSession, tmp_path: Path, mix: tuple[str, ...]
) -> None:
    data, layout = tmp_path / "study", LakeLayout(root=tmp_path / "lake")
    spec = StudySpec(hatch_rate=2, end=date(2025, 5, 31), scenarios=mix)
    generate(spec, data, workers=1, show_progress=False)
    reports = [evening(spark, data, layout, d, show_progress=False) for d in EVENINGS]
    want = expect(data, EVENINGS[-1])
    skip = set(want.undetermined)
    got_rows = _table_rows(layout, skip)
    assert len(got_rows) == len(want.rows) > 0
    assert checksum(got_rows) == want.joined()["checksum"]
    assert _quarantined(layout, skip) == _expected_rejects(want)
    counts = reports[-1].catalog_counts
    assert counts["zebra_fish_demo.observations"] == want.catalog["observations"]["rows"]
    assert counts.get("zebra_fish_demo.outcomes", 0) == want.catalog["outcomes"]["rows"]
    if "late-labels" in mix:
        late = [
            r
            for r in want.rows
            if r["outcome_day"] > r["day"]
            and (date.fromisoformat(r["outcome_day"]) - date.fromisoformat(r["day"])).days > 35
        ]
        assert late, "the season joins labels that arrived beyond the seed's window"
