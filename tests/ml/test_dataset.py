"""Training frames: time travel gives the rows known at that evening, the pivot, the split."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from pyspark.sql import SparkSession

from tests.support import expected_joined_rows
from zfish import fishtable
from zfish.exceptions import ValidationError
from zfish.generator.engine import red_level
from zfish.ml import dataset
from zfish.ml.features import FEATURES
from zfish.ml.notebooks import SmallLake
from zfish.settings import LakeLayout

pytestmark = [pytest.mark.spark]


def _synthetic(n_days: int = 6, per_day: int = 4) -> pd.DataFrame:
    """A per-fish frame without a lake: fish hatched over ``n_days``, alternating labels."""
    rows = []
    for d in range(n_days):
        for i in range(per_day):
            rows.append(
                {
                    "fish_id": f"zfish_{d:02d}{i}",
                    "hatch_date": pd.Timestamp("2025-04-01") + pd.Timedelta(days=d),
                    "condition_developed": (d + i) % 2 == 0,
                }
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("evening", ["2025-05-10", "2025-05-20", "2025-06-02"])
def test_time_travel_gives_the_rows_known_that_evening(small_lake: SmallLake, evening: str) -> None:
    layout = small_lake.layout
    as_of = dataset.read_observations(layout, as_of=evening)
    latest = dataset.read_observations(layout)
    known = latest[latest["outcome_day"] < evening]
    columns = list(dataset.DATA_COLUMNS)
    left = as_of[columns].sort_values("image_id", ignore_index=True)
    right = known[columns].sort_values("image_id", ignore_index=True)
    pd.testing.assert_frame_equal(left, right)
    # And the same rows as the plain-Python oracle computes from the raw lake files.
    oracle = expected_joined_rows(layout.dataset, date.fromisoformat(evening))
    assert set(as_of["image_id"]) == set(oracle)
    assert len(as_of) > 0


def test_frames_as_of_successive_evenings_only_grow(small_lake: SmallLake) -> None:
    sizes = [
        dataset.build_frame(small_lake.layout, as_of=e.isoformat()).n_fish
        for e in small_lake.evenings
    ]
    assert sizes == [20, 70, 135]  # 5 fish a day, labelled 35 days after hatching


def test_hatch_date_is_day_minus_age(small_lake: SmallLake) -> None:
    rows = dataset.read_observations(small_lake.layout)
    expected = pd.to_datetime(rows["day"]) - pd.to_timedelta(rows["age_days"], unit="D")
    assert (rows["hatch_date"] == expected).all()
    assert (rows.groupby("fish_id")["hatch_date"].nunique() == 1).all()


def test_image_features_follow_the_seed_colours(small_lake: SmallLake) -> None:
    frame = dataset.build_frame(small_lake.layout, level="observation").frame
    assert not frame[list(FEATURES)].isna().any().any()
    sick = frame[frame["condition_developed"]]
    healthy = frame[~frame["condition_developed"]]
    assert (sick["mean_r"] == sick["age_days"].map(red_level)).all()
    assert (sick[["mean_g", "mean_b"]] <= 50).all().all()
    assert (healthy[["mean_r", "mean_g", "mean_b"]] >= 200).all().all()


def test_per_fish_frame_pivots_ages_into_columns(small_lake: SmallLake) -> None:
    observations = dataset.build_frame(small_lake.layout, level="observation").frame
    fish = dataset.build_frame(small_lake.layout, level="fish").frame
    assert len(fish) == observations["fish_id"].nunique() == fish["fish_id"].nunique()
    assert (fish["n_observations"] == 3).all()
    for column in ("length_mm", "redness", "mean_g"):
        for age in (1, 3, 5):
            assert dataset.age_column(column, age) in fish.columns
    one = observations[observations["fish_id"] == fish["fish_id"].iloc[7]].set_index("age_days")
    row = fish.iloc[7]
    assert row["redness_age3"] == one.loc[3, "redness"]
    assert row["length_mm_age5"] == one.loc[5, "length_mm"]
    assert row["sex"] == one.loc[5, "sex"]  # only age 5 records it
    assert row["condition_developed"] == one.loc[1, "condition_developed"]


def test_split_by_hatch_date_puts_no_fish_on_both_sides(small_lake: SmallLake) -> None:
    frame = dataset.build_frame(small_lake.layout, level="observation").frame
    split = dataset.split_by_hatch_date(frame, test_fraction=0.3)
    train_fish, test_fish = set(split.train["fish_id"]), set(split.test["fish_id"])
    assert train_fish.isdisjoint(test_fish)
    assert train_fish | test_fish == set(frame["fish_id"])
    assert split.train["hatch_date"].max() < split.cutoff <= split.test["hatch_date"].min()
    assert len(split.train) + len(split.test) == len(frame)
    assert 0.2 <= len(test_fish) / len(set(frame["fish_id"])) <= 0.4


def test_class_balance_counts_fish_per_set(small_lake: SmallLake) -> None:
    frame = dataset.build_frame(small_lake.layout, level="observation").frame
    split = dataset.split_by_hatch_date(frame, "2025-04-20")
    balance = split.balance()
    assert list(balance.index) == ["train", "test", "all"]
    assert balance.loc["all", "fish"] == 135
    assert balance.loc["all", "rows"] == 405
    assert balance.loc["train", "fish"] + balance.loc["test", "fish"] == 135
    labels = frame.groupby("fish_id")["condition_developed"].first()
    assert balance.loc["all", "positive_fish"] == labels.sum()
    assert balance.loc["test", "hatched_from"] == date(2025, 4, 20)


def test_explicit_cutoff_and_chosen_cutoff() -> None:
    frame = _synthetic(n_days=10)
    split = dataset.split_by_hatch_date(frame, date(2025, 4, 8))
    assert split.test["hatch_date"].min() == pd.Timestamp("2025-04-08")
    assert len(split.test) == 12
    chosen = dataset.hatch_cutoff(frame, test_fraction=0.3)
    assert chosen == pd.Timestamp("2025-04-08")  # 7 of 10 hatch days train


def test_a_split_needs_two_hatch_days() -> None:
    with pytest.raises(ValidationError, match="at least two"):
        dataset.split_by_hatch_date(_synthetic(n_days=1))


def test_a_one_sided_split_is_noted() -> None:
    split = dataset.split_by_hatch_date(_synthetic(n_days=3), "2025-05-01")
    assert split.test.empty
    assert any("test set is empty" in note for note in split.notes)


def test_a_lake_without_the_table_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="make simulate"):
        dataset.build_frame(LakeLayout(root=tmp_path / "lake"))


def test_unknown_level_is_refused(small_lake: SmallLake) -> None:
    with pytest.raises(ValidationError, match="level"):
        dataset.build_frame(small_lake.layout, level="pond")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def jvm_lake(
    spark_hudi: SparkSession, default_study: Path, tmp_path_factory: pytest.TempPathFactory
) -> LakeLayout:
    """The small lake's evenings again, written by the JVM Hudi writer."""
    from zfish.ml.notebooks import DEFAULT_EVENINGS
    from zfish.pipeline.job import WRITER_SPARK_HUDI
    from zfish.simulate import evening

    layout = LakeLayout(root=tmp_path_factory.mktemp("jvm_small_lake") / "lake")
    for day in DEFAULT_EVENINGS:
        evening(
            spark_hudi, default_study, layout, day, writer=WRITER_SPARK_HUDI, show_progress=False
        )
    return layout


@pytest.mark.slow
def test_time_travel_on_a_jvm_written_table_gives_the_same_frames(
    jvm_lake: LakeLayout, small_lake: SmallLake
) -> None:
    """Frames as of each evening from the JVM writer's table equal the native writer's."""
    sizes = []
    for day in small_lake.evenings:
        jvm = dataset.build_frame(jvm_lake, as_of=day.isoformat(), level="observation")
        native = dataset.build_frame(small_lake.layout, as_of=day.isoformat(), level="observation")
        assert jvm.instant != native.instant
        columns = [c for c in native.frame.columns if c != "commit_time"]
        left = jvm.frame[columns].sort_values("image_id", ignore_index=True)
        right = native.frame[columns].sort_values("image_id", ignore_index=True)
        pd.testing.assert_frame_equal(left, right)
        assert set(jvm.frame["image_id"]) == set(expected_joined_rows(jvm_lake.dataset, day))
        # Each row names the JVM commit that last wrote it, a commit of that evening or before.
        assert set(jvm.frame["commit_time"]) <= {
            c.instant for c in fishtable.commits(jvm_lake.table) if c.instant <= jvm.instant
        }
        sizes.append(dataset.build_frame(jvm_lake, as_of=day.isoformat(), images=False).n_fish)
    assert sizes == [20, 70, 135]
