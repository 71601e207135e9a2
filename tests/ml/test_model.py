"""The two models: a planted effect is found, the default study's image signal separates, honest metrics."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import SparkSession

from zfish.exceptions import ValidationError
from zfish.generator import StudySpec
from zfish.ml import dataset, model
from zfish.ml.notebooks import SmallLake, build_small_lake

# A treatment that raises P(condition) from 0.5 to 0.95, and images that show nothing:
# whatever the models find must come from the metadata.
PLANTED = StudySpec(hatch_rate=15, treatment_risk={"compound_x": 0.45}, image_signal=0.0)


@pytest.fixture(scope="module")
def planted_lake(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> SmallLake:
    root = tmp_path_factory.mktemp("planted")
    return build_small_lake(root, spark=spark, spec=PLANTED, evenings=[date(2025, 6, 2)])


def _frame(n_days: int = 12, per_day: int = 10, seed: int = 1) -> pd.DataFrame:
    """A per-fish frame without a lake; the label depends on ``redness_age5`` only."""
    rng = np.random.default_rng(seed)
    n = n_days * per_day
    label = rng.random(n) < 0.5
    return pd.DataFrame(
        {
            "fish_id": [f"f{i:04d}" for i in range(n)],
            "hatch_date": pd.Timestamp("2025-04-01")
            + pd.to_timedelta(np.repeat(np.arange(n_days), per_day), unit="D"),
            "treatment": rng.choice(["compound_x", "compound_y", "placebo"], n),
            "gene_a": rng.random(n) < 0.5,
            "gene_b": rng.random(n) < 0.5,
            "gene_c": rng.random(n) < 0.5,
            "sex": rng.choice(["male", "female", None], n),
            "length_mm_age5": 4.5 + rng.normal(0, 0.1, n),
            "mean_r_age5": np.where(label, 250.0, 225.0),
            "mean_g_age5": np.where(label, 25.0, 225.0) + rng.normal(0, 3, n),
            "mean_b_age5": np.where(label, 25.0, 225.0) + rng.normal(0, 3, n),
            "redness_age5": np.where(label, 0.9, 0.0) + rng.normal(0, 0.02, n),
            "condition_developed": label,
        }
    )


@pytest.mark.spark
@pytest.mark.slow
def test_the_planted_treatment_is_what_the_metadata_model_finds(planted_lake: SmallLake) -> None:
    frame = dataset.build_frame(planted_lake.layout, level="fish").frame
    split = dataset.split_by_hatch_date(frame, test_fraction=0.3)
    evaluation = model.fit_evaluate(split, model.METADATA)
    assert evaluation.top_features(1) == ["treatment=compound_x"]
    assert evaluation.coefficients["treatment=compound_x"] > 0
    assert evaluation.roc_auc > 0.65
    assert evaluation.auc_low > 0.5  # better than chance, by its own interval
    importances = model.permutation_importances(evaluation, split)
    assert importances.index[0] == "treatment"
    assert importances["auc_drop"].iloc[0] > 5 * importances["auc_drop"].iloc[1:].abs().max()
    assert "better than chance" in model.interpret(evaluation)


@pytest.mark.spark
@pytest.mark.slow
def test_without_an_image_signal_images_add_nothing(planted_lake: SmallLake) -> None:
    frame = dataset.build_frame(planted_lake.layout, level="fish").frame
    evaluations = model.compare(dataset.split_by_hatch_date(frame))
    with_images = evaluations[model.METADATA_IMAGE]
    assert with_images.top_features(1) == ["treatment=compound_x"]
    assert with_images.roc_auc < 0.9  # no image separation to be had


@pytest.mark.spark
@pytest.mark.parametrize("level", ["fish", "observation"])
def test_default_study_images_separate_and_metadata_is_near_chance(
    small_lake: SmallLake, level: dataset.Level
) -> None:
    frame = dataset.build_frame(small_lake.layout, level=level).frame
    split = dataset.split_by_hatch_date(frame, test_fraction=0.3)
    evaluations = model.compare(split)
    images = evaluations[model.METADATA_IMAGE]
    metadata = evaluations[model.METADATA]
    assert images.roc_auc >= 0.95
    assert images.accuracy >= 0.9
    assert images.top_features(1)[0].split("_age")[0] in ("mean_r", "mean_g", "mean_b", "redness")
    assert abs(metadata.roc_auc - 0.5) <= 0.2
    assert metadata.auc_low < 0.5 < metadata.auc_high
    assert "includes 0.5" in model.interpret(metadata)
    assert "almost perfectly" in model.interpret(images)
    table = model.metrics_table(evaluations)
    assert list(table.index) == ["metadata", "metadata+image"]
    assert table.loc["metadata+image", "roc_auc"] == images.roc_auc


@pytest.mark.spark
def test_over_evenings_trains_on_more_labels_against_one_test_set(small_lake: SmallLake) -> None:
    evenings = [e.isoformat() for e in small_lake.evenings]
    results = model.over_evenings(small_lake.layout, evenings, cutoff="2025-04-20")
    assert list(results["evening"].unique()) == evenings
    assert results["test_fish"].nunique() == 1
    assert results["test_fish"].iloc[0] == 40  # hatched 2025-04-20..27, 5 a day
    per_evening = results.drop_duplicates("evening")
    assert per_evening["train_fish"].tolist() == [20, 70, 95]
    assert per_evening["labelled_fish"].tolist() == [20, 70, 135]
    images = results[results["model"] == model.METADATA_IMAGE]
    assert (images["roc_auc"] >= 0.95).all()


def test_feature_columns_of_each_model() -> None:
    frame = _frame()
    metadata = model.feature_columns(frame, model.METADATA)
    both = model.feature_columns(frame, model.METADATA_IMAGE)
    assert metadata.numeric == ("length_mm_age5",)
    assert metadata.categorical == ("treatment", "sex")
    assert metadata.boolean == ("gene_a", "gene_b", "gene_c")
    assert set(both.numeric) - set(metadata.numeric) == {
        "mean_r_age5",
        "mean_g_age5",
        "mean_b_age5",
        "redness_age5",
    }
    per_image = frame.rename(columns=lambda c: c.removesuffix("_age5")).assign(age_days=5)
    assert model.feature_columns(per_image, model.METADATA).numeric == ("age_days", "length_mm")
    with pytest.raises(ValidationError, match="no image features"):
        model.feature_columns(frame[["fish_id", "treatment"]], model.METADATA_IMAGE)


def test_missing_categories_become_unknown() -> None:
    frame = _frame()
    inputs = model.model_inputs(frame, model.feature_columns(frame, model.METADATA))
    assert set(inputs["sex"]) == {"male", "female", model.MISSING_CATEGORY}
    assert inputs["gene_a"].dtype == np.float64


def test_evaluation_on_a_synthetic_image_signal() -> None:
    split = dataset.split_by_hatch_date(_frame(), test_fraction=0.25)
    evaluation = model.fit_evaluate(split, model.METADATA_IMAGE)
    assert evaluation.roc_auc == 1.0
    assert evaluation.confusion.sum() == len(split.test)
    assert np.trace(evaluation.confusion) == len(split.test)
    assert evaluation.roc[["fpr", "tpr"]].iloc[-1].tolist() == [1.0, 1.0]
    assert len(evaluation.predictions) == len(split.test)
    assert evaluation.predictions["p_condition"].between(0, 1).all()
    assert evaluation.chance_accuracy == max(
        evaluation.test_positive_rate, 1 - evaluation.test_positive_rate
    )


def test_a_training_set_of_one_class_is_refused() -> None:
    frame = _frame()
    frame["condition_developed"] = False
    split = dataset.split_by_hatch_date(frame)
    with pytest.raises(ValidationError, match="both classes"):
        model.fit_evaluate(split, model.METADATA)


def test_a_test_set_of_one_class_has_no_auc() -> None:
    frame = _frame()
    late = frame["hatch_date"] >= pd.Timestamp("2025-04-10")
    frame.loc[late, "condition_developed"] = True
    split = dataset.split_by_hatch_date(frame, "2025-04-10")
    evaluation = model.fit_evaluate(split, model.METADATA)
    assert math.isnan(evaluation.roc_auc)
    assert evaluation.notes
    assert "undefined" in model.interpret(evaluation)


def test_rank_auc_matches_scikit_learn() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(7)
    y = rng.random(200) < 0.4
    p = np.round(rng.random(200) + 0.3 * y, 1)  # rounded: many ties
    assert model.rank_auc(y, p) == pytest.approx(roc_auc_score(y, p))
    assert math.isnan(model.rank_auc(np.ones(5, dtype=bool), p[:5]))


def test_bootstrap_interval_brackets_the_auc() -> None:
    rng = np.random.default_rng(3)
    y = rng.random(100) < 0.5
    p = rng.random(100) + 0.5 * y
    groups = np.array([f"f{i}" for i in range(100)])
    low, high = model.bootstrap_auc(y, p, groups, n=300)
    assert low < model.rank_auc(y, p) < high
    assert 0.0 <= low < high <= 1.0


def test_unknown_model_kind_is_refused() -> None:
    with pytest.raises(ValidationError, match="model kind"):
        model.feature_columns(_frame(), "forest")  # type: ignore[arg-type]
