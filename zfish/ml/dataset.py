"""Training frames from ``joined_fish_data``: time travel, image features, per-fish pivot, split.

A frame is built from the Hudi table as one simulated evening left it
(``as_of="2025-05-20"``, or a Hudi instant; the latest commit by default),
so it holds exactly the observations whose labels had arrived by then. Each
observation is joined with the features of its PNG (:mod:`zfish.ml.features`).

Two shapes:

* ``level="observation"``: one row per image (``image_id``), as the table has it;
* ``level="fish"``: one row per fish; fish-level fields (treatment, markers,
  sex, label) once, and the per-age measurements as columns
  (``length_mm_age1``, ``redness_age5``, ...).

The train/test split is by hatch date (``hatch_date = day - age_days``): the
fish that hatched before a cutoff train, the later ones test, as if the model
were trained at one point of the study and used on the fish that came after.
All observations of a fish have the same hatch date, so no fish is in both
sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import pandas as pd

from zfish import fishtable
from zfish.exceptions import ValidationError
from zfish.ml.features import FEATURES, ImageFeatures, image_features
from zfish.settings import DATABASE, TABLE_NAME, LakeLayout

Level = Literal["observation", "fish"]

LABEL = "condition_developed"
FISH = "fish_id"
HATCH = "hatch_date"
GENES: tuple[str, ...] = ("gene_a", "gene_b", "gene_c")
DATA_COLUMNS: tuple[str, ...] = (
    "image_id",
    "fish_id",
    "timestamp",
    "age_days",
    "treatment",
    *GENES,
    "length_mm",
    "sex",
    LABEL,
    "outcome_day",
    "day",
)
# Fields recorded once per fish (the same at every age); sex only from age 5 on.
FISH_FIELDS: tuple[str, ...] = ("treatment", *GENES, "sex", LABEL, "outcome_day", HATCH)
# Measurements that change with age: one column per age in the per-fish frame.
PER_AGE_FIELDS: tuple[str, ...] = ("length_mm", *FEATURES)


def age_column(name: str, age: int) -> str:
    """The per-fish column of measurement ``name`` at ``age`` days, e.g. ``redness_age5``."""
    return f"{name}_age{age}"


def require_table(layout: LakeLayout) -> None:
    if not fishtable.exists(layout.table) or not fishtable.commits(layout.table):
        raise ValidationError(
            f"{DATABASE}.{TABLE_NAME} has no commits at {layout.table}: simulate an evening first "
            "(`make simulate DAY=2025-05-10`) or point ZFISH_LAKE at a lake that has one"
        )


def read_observations(layout: LakeLayout, as_of: str | None = None) -> pd.DataFrame:
    """The labelled observations of ``joined_fish_data`` (latest, or as of an evening/instant).

    Adds ``hatch_date`` (day - age_days) and ``commit_time`` (the Hudi commit
    that last wrote the row); rows are ordered by hatch date, fish and age.
    """
    require_table(layout)
    table = fishtable.read(
        layout.table, as_of=as_of, columns=[*DATA_COLUMNS, "_hoodie_commit_time"]
    )
    frame = table.to_pandas().rename(columns={"_hoodie_commit_time": "commit_time"})
    frame["age_days"] = frame["age_days"].astype("int64")
    frame[LABEL] = frame[LABEL].astype(bool)
    frame[HATCH] = pd.to_datetime(frame["day"]) - pd.to_timedelta(frame["age_days"], unit="D")
    return frame.sort_values([HATCH, FISH, "age_days"], ignore_index=True)


def add_image_features(
    layout: LakeLayout, observations: pd.DataFrame, *, use_cache: bool = True
) -> tuple[pd.DataFrame, ImageFeatures]:
    """``observations`` with the :data:`~zfish.ml.features.FEATURES` of each row's PNG."""
    report = image_features(
        layout,
        zip(observations["image_id"], observations["day"], strict=True),
        use_cache=use_cache,
    )
    joined = observations.join(report.frame, on="image_id")
    return joined, report


def per_fish(observations: pd.DataFrame) -> pd.DataFrame:
    """One row per fish: fish-level fields once, per-age measurements as columns.

    ``sex`` is taken from whichever observation recorded it (age 5 in the
    seed). A fish missing an age has NaN in that age's columns.
    """
    if observations.empty:
        columns = [FISH, *FISH_FIELDS, "n_observations"]
        return pd.DataFrame(columns=columns)
    measured = [c for c in PER_AGE_FIELDS if c in observations.columns]
    fish_fields = [c for c in FISH_FIELDS if c in observations.columns]
    grouped = observations.groupby(FISH, sort=False)
    base = grouped[fish_fields].first()  # first() skips nulls, so sex comes from age 5
    base["n_observations"] = grouped.size()
    wide = observations.pivot_table(
        index=FISH, columns="age_days", values=measured, aggfunc="first", dropna=False
    )
    wide.columns = [age_column(str(name), int(age)) for name, age in wide.columns]
    ordered = [
        age_column(n, a) for a in sorted(observations["age_days"].unique()) for n in measured
    ]
    result = base.join(wide[[c for c in ordered if c in wide.columns]])
    result[LABEL] = result[LABEL].astype(bool)
    return result.reset_index().sort_values([HATCH, FISH], ignore_index=True)


@dataclass
class TrainingFrame:
    """A curated frame and where it came from (which evening, which commit)."""

    frame: pd.DataFrame
    level: Level
    as_of: str | None
    instant: str
    images: ImageFeatures | None = None

    @property
    def n_fish(self) -> int:
        return int(self.frame[FISH].nunique())

    def summary(self) -> pd.DataFrame:
        """One-row overview: as of, commit, rows, fish, hatch range, positive rate."""
        f = self.frame
        row = {
            "as_of": self.as_of or "latest",
            "commit": self.instant,
            "level": self.level,
            "rows": len(f),
            "fish": self.n_fish,
            "hatched_from": f[HATCH].min().date() if len(f) else None,
            "hatched_to": f[HATCH].max().date() if len(f) else None,
            "positive_rate": float(f[LABEL].mean()) if len(f) else float("nan"),
        }
        if self.images is not None:
            row["images_missing"] = len(self.images.missing)
        return pd.DataFrame([row])


def build_frame(
    layout: LakeLayout,
    as_of: str | None = None,
    *,
    level: Level = "fish",
    images: bool = True,
    use_cache: bool = True,
) -> TrainingFrame:
    """The training frame as the evening (or instant) ``as_of`` left the table.

    ``images=False`` skips the PNGs (metadata only).
    """
    if level not in ("observation", "fish"):
        raise ValidationError(f"level must be 'observation' or 'fish', got {level!r}")
    require_table(layout)
    history = fishtable.commits(layout.table)
    instant = (
        fishtable.resolve_as_of(layout.table, as_of) if as_of is not None else history[-1].instant
    )
    observations = read_observations(layout, instant)
    report = None
    if images:
        observations, report = add_image_features(layout, observations, use_cache=use_cache)
    frame = per_fish(observations) if level == "fish" else observations
    return TrainingFrame(frame=frame, level=level, as_of=as_of, instant=instant, images=report)


@dataclass
class Split:
    """A time-based split: fish hatched before ``cutoff`` train, the others test."""

    train: pd.DataFrame
    test: pd.DataFrame
    cutoff: pd.Timestamp
    notes: list[str] = field(default_factory=list)

    def balance(self) -> pd.DataFrame:
        return class_balance(self)


def hatch_cutoff(frame: pd.DataFrame, test_fraction: float = 0.3) -> pd.Timestamp:
    """The hatch date from which about ``test_fraction`` of the fish are held out.

    Whole hatch days go to one side, and each side keeps at least one day.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValidationError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    per_day = frame.groupby(HATCH)[FISH].nunique().sort_index()
    if len(per_day) < 2:
        raise ValidationError(
            f"the frame has fish of {len(per_day)} hatch day(s); a time-based split needs at "
            "least two: train as of a later evening, when more labels have arrived"
        )
    train_share = per_day.cumsum() / per_day.sum()
    # The first hatch day at which the training share has reached 1 - test_fraction.
    reached = train_share[train_share >= 1.0 - test_fraction]
    position = per_day.index.get_loc(reached.index[0]) + 1
    position = min(max(position, 1), len(per_day) - 1)
    return pd.Timestamp(per_day.index[position])


def split_by_hatch_date(
    frame: pd.DataFrame,
    cutoff: date | str | pd.Timestamp | None = None,
    *,
    test_fraction: float = 0.3,
) -> Split:
    """Train on fish hatched before ``cutoff``, test on the rest (no fish on both sides).

    Without a cutoff, one is chosen so that about ``test_fraction`` of the fish
    are held out (:func:`hatch_cutoff`).
    """
    when = hatch_cutoff(frame, test_fraction) if cutoff is None else pd.Timestamp(cutoff)
    hatch_days = frame.groupby(FISH)[HATCH].nunique()
    if (hatch_days > 1).any():
        bad = ", ".join(hatch_days[hatch_days > 1].index[:5])
        raise ValidationError(
            f"fish with more than one hatch date ({bad}): their age_days and day disagree "
            "between observations; fix the source data"
        )
    is_test = frame[HATCH] >= when
    split = Split(
        train=frame[~is_test].reset_index(drop=True),
        test=frame[is_test].reset_index(drop=True),
        cutoff=when,
    )
    overlap = set(split.train[FISH]) & set(split.test[FISH])
    if overlap:  # cannot happen with one hatch date per fish; checked because it matters
        raise AssertionError(f"fish in both train and test: {sorted(overlap)[:5]}")
    for name, part in (("train", split.train), ("test", split.test)):
        if part.empty:
            split.notes.append(f"the {name} set is empty (cutoff {when.date()})")
        elif part[LABEL].nunique() < 2:
            split.notes.append(f"the {name} set has only one class ({bool(part[LABEL].iloc[0])})")
    return split


def class_balance(data: Split | pd.DataFrame) -> pd.DataFrame:
    """Fish, rows, positives and positive rate per set (train / test / all, or one frame)."""
    parts = (
        {"train": data.train, "test": data.test, "all": pd.concat([data.train, data.test])}
        if isinstance(data, Split)
        else {"all": data}
    )
    rows = []
    for name, part in parts.items():
        fish_labels = part.groupby(FISH)[LABEL].first() if len(part) else pd.Series(dtype=bool)
        rows.append(
            {
                "set": name,
                "rows": len(part),
                "fish": len(fish_labels),
                "positive_fish": int(fish_labels.sum()),
                "negative_fish": int((~fish_labels.astype(bool)).sum()),
                "positive_rate": float(fish_labels.mean()) if len(fish_labels) else float("nan"),
                "hatched_from": part[HATCH].min().date() if len(part) else None,
                "hatched_to": part[HATCH].max().date() if len(part) else None,
            }
        )
    return pd.DataFrame(rows).set_index("set")
