"""The two models of the study, fitted and evaluated on a time-based split (scikit-learn).

* ``metadata``: what the researchers record about a fish (treatment, genetic
  markers, sex, length at each age); the baseline.
* ``metadata+image``: the same plus the colour features of its images
  (mean R, G, B and redness at each age, :mod:`zfish.ml.features`).

Both are the same pipeline, a standardised logistic regression with one-hot
categories, so their numbers differ only by the features and the
coefficients stay readable: on a study with a planted effect (a treatment
that raises the risk) the planted feature is the largest coefficient. Every
evaluation is on the held-out later-hatched fish: ROC AUC (with a bootstrap
interval over fish), accuracy against the majority-class rate, a confusion
matrix and the ROC curve. :func:`over_evenings` repeats this as of several
simulated evenings against one fixed test set, to show what more labels buy.
See ``docs/ml.md`` for why scikit-learn rather than Spark MLlib.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from zfish.exceptions import ValidationError
from zfish.ml.dataset import (
    FISH,
    GENES,
    HATCH,
    LABEL,
    PER_AGE_FIELDS,
    Level,
    Split,
    build_frame,
    split_by_hatch_date,
)
from zfish.ml.features import FEATURES
from zfish.settings import LakeLayout

Kind = Literal["metadata", "metadata+image"]
METADATA: Kind = "metadata"
METADATA_IMAGE: Kind = "metadata+image"
KINDS: tuple[Kind, ...] = (METADATA, METADATA_IMAGE)

CATEGORICAL: tuple[str, ...] = ("treatment", "sex")
MISSING_CATEGORY = "unknown"


@dataclass(frozen=True)
class FeatureColumns:
    """The input columns of one model, by how they are encoded."""

    numeric: tuple[str, ...]
    boolean: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def all(self) -> list[str]:
        return [*self.categorical, *self.boolean, *self.numeric]


def _measurements(frame: pd.DataFrame, names: Iterable[str]) -> list[str]:
    """``names`` as they appear in ``frame``: plain (per observation) or per age (per fish)."""
    pattern = re.compile("^(" + "|".join(re.escape(n) for n in names) + r")(_age\d+)?$")
    return [str(c) for c in frame.columns if pattern.match(str(c))]


def feature_columns(frame: pd.DataFrame, kind: Kind) -> FeatureColumns:
    """The columns ``kind`` uses in ``frame`` (a per-observation or per-fish frame)."""
    if kind not in KINDS:
        raise ValidationError(f"model kind must be one of {', '.join(KINDS)}, got {kind!r}")
    metadata_numeric = [c for c in PER_AGE_FIELDS if c not in FEATURES]
    numeric = _measurements(frame, metadata_numeric)
    if "age_days" in frame.columns:  # per observation: the age is a feature of the row
        numeric.insert(0, "age_days")
    if kind == METADATA_IMAGE:
        images = _measurements(frame, FEATURES)
        if not images:
            raise ValidationError(
                "the frame has no image features; build it with images=True "
                "(zfish.ml.dataset.build_frame)"
            )
        numeric += images
    return FeatureColumns(
        numeric=tuple(numeric),
        boolean=tuple(g for g in GENES if g in frame.columns),
        categorical=tuple(c for c in CATEGORICAL if c in frame.columns),
    )


def model_inputs(frame: pd.DataFrame, columns: FeatureColumns) -> pd.DataFrame:
    """The model's input frame: categories as strings (missing -> "unknown"), the rest floats."""
    out = pd.DataFrame(index=frame.index)
    for c in columns.categorical:
        values = frame[c] if c in frame.columns else pd.Series(None, index=frame.index)
        out[c] = values.astype(object).where(values.notna(), MISSING_CATEGORY).astype(str)
    for c in (*columns.boolean, *columns.numeric):
        values = frame[c] if c in frame.columns else pd.Series(np.nan, index=frame.index)
        out[c] = pd.to_numeric(values.astype(object), errors="coerce").astype("float64")
    return out


def make_pipeline(columns: FeatureColumns, *, c: float = 1.0) -> Any:
    """Impute, scale numbers, one-hot categories, then logistic regression."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    transformers: list[tuple[str, Any, list[str]]] = []
    if columns.numeric:
        numeric = Pipeline(
            [
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                ("scale", StandardScaler()),
            ]
        )
        transformers.append(("num", numeric, list(columns.numeric)))
    if columns.boolean:
        boolean = SimpleImputer(strategy="most_frequent", keep_empty_features=True)
        transformers.append(("bool", boolean, list(columns.boolean)))
    if columns.categorical:
        onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        transformers.append(("cat", onehot, list(columns.categorical)))
    prepare = ColumnTransformer(transformers, verbose_feature_names_out=False)
    return Pipeline([("prepare", prepare), ("model", LogisticRegression(C=c, max_iter=5000))])


@dataclass
class Evaluation:
    """One model fitted on the training fish and measured on the held-out ones."""

    kind: Kind
    columns: FeatureColumns
    n_train: int
    n_test: int
    train_positive_rate: float
    test_positive_rate: float
    roc_auc: float
    auc_low: float
    auc_high: float
    accuracy: float
    chance_accuracy: float
    confusion: npt.NDArray[np.int64]  # rows: true negative/positive; columns: predicted
    roc: pd.DataFrame  # fpr, tpr, threshold
    coefficients: pd.Series  # encoded feature -> coefficient, largest |value| first
    predictions: pd.DataFrame
    pipeline: Any
    notes: list[str] = field(default_factory=list)

    def top_features(self, n: int = 5) -> list[str]:
        return list(self.coefficients.index[:n])

    def metrics(self) -> dict[str, Any]:
        return {
            "model": self.kind,
            "train_rows": self.n_train,
            "test_rows": self.n_test,
            "test_positive_rate": self.test_positive_rate,
            "roc_auc": self.roc_auc,
            "auc_95_low": self.auc_low,
            "auc_95_high": self.auc_high,
            "accuracy": self.accuracy,
            "majority_accuracy": self.chance_accuracy,
            "top_feature": self.coefficients.index[0] if len(self.coefficients) else None,
        }


def _readable(name: str, categorical: Sequence[str]) -> str:
    """``treatment_compound_x`` -> ``treatment=compound_x`` (one-hot columns)."""
    for column in categorical:
        if name.startswith(column + "_"):
            return f"{column}={name[len(column) + 1 :]}"
    return name


def rank_auc(y: npt.NDArray[np.bool_], p: npt.NDArray[np.float64]) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties count half); NaN with one class only."""
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return math.nan
    _, inverse, counts = np.unique(p, return_inverse=True, return_counts=True)
    average_rank = np.cumsum(counts) - (counts - 1) / 2.0  # 1-based ranks, ties averaged
    ranks = average_rank[inverse]
    return float((ranks[y].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))


def bootstrap_auc(
    y: npt.NDArray[np.bool_],
    p: npt.NDArray[np.float64],
    groups: npt.NDArray[Any],
    *,
    n: int = 500,
    seed: int = 0,
) -> tuple[float, float]:
    """A 95% percentile interval of ROC AUC, resampling whole fish (``groups``)."""
    if n <= 0 or len(set(y.tolist())) < 2:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    codes, uniques = pd.factorize(groups)
    members = [np.flatnonzero(codes == i) for i in range(len(uniques))]
    scores = []
    for _ in range(n):
        picked = rng.integers(0, len(members), len(members))
        rows = np.concatenate([members[i] for i in picked])
        score = rank_auc(y[rows], p[rows])
        if not math.isnan(score):
            scores.append(score)
    if not scores:
        return math.nan, math.nan
    low, high = np.percentile(scores, [2.5, 97.5])
    return float(low), float(high)


def fit_evaluate(
    split: Split,
    kind: Kind,
    *,
    threshold: float = 0.5,
    bootstrap: int = 500,
    seed: int = 0,
) -> Evaluation:
    """Fit ``kind`` on ``split.train`` and evaluate it on ``split.test``."""
    from sklearn.metrics import accuracy_score, confusion_matrix, roc_auc_score, roc_curve

    train, test = split.train, split.test
    if train.empty or test.empty:
        raise ValidationError(
            f"cannot fit or evaluate: train has {len(train)} rows, test {len(test)} "
            f"(hatch cutoff {split.cutoff.date()}); choose another cutoff or a later evening"
        )
    if train[LABEL].nunique() < 2:
        raise ValidationError(
            f"the training fish all have {LABEL}={bool(train[LABEL].iloc[0])}: a classifier needs "
            "both classes; train as of a later evening, when more labels have arrived"
        )
    columns = feature_columns(train, kind)
    pipeline = make_pipeline(columns)
    pipeline.fit(model_inputs(train, columns), train[LABEL].to_numpy(bool))

    y = test[LABEL].to_numpy(bool)
    p = pipeline.predict_proba(model_inputs(test, columns))[:, 1]
    predicted = p >= threshold
    notes: list[str] = []
    if len(set(y.tolist())) < 2:
        auc = math.nan
        roc = pd.DataFrame({"fpr": [], "tpr": [], "threshold": []})
        notes.append("the test set has one class only: ROC AUC is undefined")
    else:
        auc = float(roc_auc_score(y, p))
        fpr, tpr, thresholds = roc_curve(y, p)
        roc = pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thresholds})
    low, high = bootstrap_auc(y, p, test[FISH].to_numpy(), n=bootstrap, seed=seed)

    encoded = pipeline.named_steps["prepare"].get_feature_names_out()
    coefs = pd.Series(
        pipeline.named_steps["model"].coef_[0],
        index=[_readable(str(n), columns.categorical) for n in encoded],
        name="coefficient",
    )
    coefs = coefs.reindex(coefs.abs().sort_values(ascending=False).index)

    keep = [c for c in (FISH, "image_id", "age_days", HATCH) if c in test.columns]
    predictions = test[keep].copy()
    predictions["y_true"] = y
    predictions["p_condition"] = p
    predictions["y_pred"] = predicted
    positive_rate = float(y.mean())
    return Evaluation(
        kind=kind,
        columns=columns,
        n_train=len(train),
        n_test=len(test),
        train_positive_rate=float(train[LABEL].mean()),
        test_positive_rate=positive_rate,
        roc_auc=auc,
        auc_low=low,
        auc_high=high,
        accuracy=float(accuracy_score(y, predicted)),
        chance_accuracy=max(positive_rate, 1.0 - positive_rate),
        confusion=confusion_matrix(y, predicted, labels=[False, True]).astype(np.int64),
        roc=roc,
        coefficients=coefs,
        predictions=predictions,
        pipeline=pipeline,
        notes=notes,
    )


def compare(split: Split, **options: Any) -> dict[Kind, Evaluation]:
    """Both models on the same split, metadata first."""
    return {kind: fit_evaluate(split, kind, **options) for kind in KINDS}


def interpret(evaluation: Evaluation) -> str:
    """One sentence on what the held-out numbers say, judged by the AUC interval, not hoped for."""
    e = evaluation
    if math.isnan(e.roc_auc):
        return f"{e.kind}: ROC AUC is undefined here ({'; '.join(e.notes) or 'no test fish'})."
    head = (
        f"{e.kind}: ROC AUC {e.roc_auc:.2f} on {e.n_test} held-out rows, accuracy {e.accuracy:.2f} "
        f"(always predicting the majority class: {e.chance_accuracy:.2f})"
    )
    if math.isnan(e.auc_low):
        return head + "; no bootstrap interval was computed."
    interval = f"95% interval {e.auc_low:.2f}-{e.auc_high:.2f}"
    if e.auc_low > 0.5:
        verdict = "better than chance"
        if e.roc_auc >= 0.95:
            verdict += ", separating the classes almost perfectly"
    elif e.auc_high < 0.5:
        verdict = "worse than chance: the interval lies below 0.5"
    else:
        verdict = "no evidence it beats chance: the interval includes 0.5"
    return f"{head}; {interval}: {verdict}."


def metrics_table(evaluations: dict[Kind, Evaluation] | Iterable[Evaluation]) -> pd.DataFrame:
    """One row of metrics per model."""
    items = evaluations.values() if isinstance(evaluations, dict) else evaluations
    return pd.DataFrame([e.metrics() for e in items]).set_index("model")


def permutation_importances(
    evaluation: Evaluation, split: Split, *, repeats: int = 20, seed: int = 0
) -> pd.DataFrame:
    """Drop in test ROC AUC when one input column is shuffled (mean and sd over repeats)."""
    from sklearn.inspection import permutation_importance

    columns = evaluation.columns
    result = permutation_importance(
        evaluation.pipeline,
        model_inputs(split.test, columns),
        split.test[LABEL].to_numpy(bool),
        scoring="roc_auc",
        n_repeats=repeats,
        random_state=seed,
    )
    frame = pd.DataFrame(
        {"auc_drop": result.importances_mean, "sd": result.importances_std}, index=columns.all
    )
    return frame.sort_values("auc_drop", ascending=False)


def over_evenings(
    layout: LakeLayout,
    evenings: Sequence[str],
    *,
    level: Level = "fish",
    cutoff: str | pd.Timestamp | None = None,
    test_fraction: float = 0.3,
) -> pd.DataFrame:
    """Both models trained as of each evening, all tested on the same later-hatched fish.

    The test set is the fish hatched on or after ``cutoff`` in the latest
    snapshot (chosen with ``test_fraction`` when not given); each evening
    trains on the fish hatched before the cutoff whose labels it had. An
    evening whose training fish are too few or of one class gets a note and
    NaN metrics instead of an error.
    """
    latest = build_frame(layout, level=level)
    reference = split_by_hatch_date(latest.frame, cutoff, test_fraction=test_fraction)
    rows = []
    for evening in evenings:
        known = build_frame(layout, as_of=evening, level=level)
        train = known.frame[known.frame[HATCH] < reference.cutoff].reset_index(drop=True)
        split = Split(train=train, test=reference.test, cutoff=reference.cutoff)
        for kind in KINDS:
            row: dict[str, Any] = {
                "evening": evening,
                "commit": known.instant,
                "model": kind,
                "labelled_fish": known.n_fish,
                "train_fish": int(train[FISH].nunique()),
                "test_fish": int(reference.test[FISH].nunique()),
            }
            try:
                evaluation = fit_evaluate(split, kind, bootstrap=0)
            except ValidationError as exc:
                row.update(roc_auc=math.nan, accuracy=math.nan, note=str(exc))
            else:
                row.update(
                    roc_auc=evaluation.roc_auc,
                    accuracy=evaluation.accuracy,
                    note="; ".join(evaluation.notes),
                )
            rows.append(row)
    return pd.DataFrame(rows)
