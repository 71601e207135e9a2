"""Lake exploration frames on the small lake: tables, counts per day, label delay, timeline, time travel."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from zfish.exceptions import ValidationError
from zfish.ml import dataset, explore
from zfish.ml.notebooks import SmallLake

pytestmark = [pytest.mark.spark]


def test_catalog_tables_with_their_row_counts(small_lake: SmallLake) -> None:
    tables = explore.catalog_tables(small_lake.layout)
    assert tables["rows"].to_dict() == {
        "zebra_fish_demo.joined_fish_data": 405,
        "zebra_fish_demo.observations": 885,
        "zebra_fish_demo.outcomes": 135,
    }
    assert tables.loc["zebra_fish_demo.joined_fish_data", "kind"] == "hudi"
    assert tables.loc["zebra_fish_demo.outcomes", "first_partition"] == "2025-05-06"


def test_counts_per_day_add_up_to_the_tables(small_lake: SmallLake) -> None:
    counts = explore.counts_per_day(small_lake.layout)
    assert counts.sum().to_dict() == {"observations": 885, "outcomes": 135, "joined_rows": 405}
    assert counts.loc[pd.Timestamp("2025-04-10"), "observations"] == 15
    assert counts.index.is_monotonic_increasing


def test_label_delay_counts_waiting_observations_per_evening(small_lake: SmallLake) -> None:
    delay = explore.label_delay(small_lake.layout)
    last = delay.loc[pd.Timestamp("2025-06-02")]
    assert (last["uploaded"], last["labelled"], last["waiting"]) == (885, 405, 480)
    # Nothing is labelled before the first outcome partition (2025-05-06) is uploaded.
    assert delay.loc[pd.Timestamp("2025-05-06"), "labelled"] == 0
    assert delay.loc[pd.Timestamp("2025-05-07"), "labelled"] == 15
    assert (delay["uploaded"] == delay["labelled"] + delay["waiting"]).all()
    assert delay["labelled"].is_monotonic_increasing
    waits = explore.label_wait_by_age(small_lake.layout)
    assert waits["median"].to_dict() == {1: 34, 3: 32, 5: 30}


def test_timeline_has_one_row_per_commit_with_rows_after(small_lake: SmallLake) -> None:
    commits = explore.timeline(small_lake.layout)
    assert [str(e) for e in commits["evening"]] == ["2025-05-10", "2025-05-20", "2025-06-02"]
    assert commits["rows_after"].tolist() == [60, 210, 405]
    assert commits["inserts"].sum() == 405


def test_snapshot_comparison_only_adds_rows(small_lake: SmallLake) -> None:
    before, after = explore.two_evenings(small_lake.layout)
    assert (before, after) == ("2025-05-10", "2025-06-02")
    comparison = explore.compare_snapshots(small_lake.layout, before, after)
    assert (comparison.added, comparison.removed, comparison.changed) == (345, 0, 0)
    assert comparison.summary["rows"].tolist() == [60, 405]
    assert comparison.added_by_outcome_day["rows"].sum() == 345
    assert comparison.added_by_outcome_day.index.min() >= before


def test_pick_evenings_spreads_and_keeps_the_ends(small_lake: SmallLake) -> None:
    assert explore.pick_evenings(small_lake.layout, 2) == ["2025-05-10", "2025-06-02"]
    assert explore.pick_evenings(small_lake.layout, 6) == explore.evenings(small_lake.layout)


def test_image_samples_pick_fish_of_both_labels_with_every_age(small_lake: SmallLake) -> None:
    observations = dataset.build_frame(small_lake.layout, level="observation").frame
    samples = explore.image_samples(small_lake.layout, observations, per_label=2)
    assert len(samples) == 2 * 2 * 3
    assert samples.groupby("condition_developed")["fish_id"].nunique().to_dict() == {
        False: 2,
        True: 2,
    }
    assert all(Path(p).is_file() for p in samples["path"])


def test_lake_from_env_reads_zfish_lake(
    small_lake: SmallLake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ZFISH_LAKE", str(small_lake.layout.root))
    assert explore.lake_from_env().root == small_lake.layout.root
    monkeypatch.setenv("ZFISH_LAKE", str(tmp_path / "nowhere"))
    with pytest.raises(ValidationError, match="make simulate"):
        explore.lake_from_env()
