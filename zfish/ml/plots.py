"""The notebooks' figures: matplotlib, each function returns a Figure and shows nothing.

Figures are built with :class:`matplotlib.figure.Figure` directly, not
through ``pyplot``: no global figure state, no GUI backend, nothing to close,
and they render anywhere (``fig.savefig``, or a notebook's inline display)
without a display server. The inputs are the frames that
:mod:`zfish.ml.explore`, :mod:`zfish.ml.dataset` and :mod:`zfish.ml.model` return.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from zfish.ml.dataset import LABEL
from zfish.ml.features import FEATURES, read_rgb
from zfish.ml.model import Evaluation

HEALTHY_COLOUR = "#4c72b0"
SICK_COLOUR = "#c44e52"
MODEL_COLOURS = {"metadata": "#8c8c8c", "metadata+image": "#dd8452"}
_LABEL_NAMES = {False: "healthy", True: "condition"}


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def counts_per_day(counts: pd.DataFrame) -> Figure:
    """Observations and outcomes per day partition, and the Hudi rows per observation day."""
    fig = _figure(10, 3.8)
    ax = fig.add_subplot()
    days = counts.index
    ax.bar(days, counts["observations"], color="#b3b3b3", label="observations uploaded")
    if "outcomes" in counts:
        ax.bar(days, counts["outcomes"], color=SICK_COLOUR, alpha=0.8, label="outcomes arriving")
    if "joined_rows" in counts:
        ax.plot(days, counts["joined_rows"], "o-", ms=3, color="black", label="joined rows (Hudi)")
    ax.set_xlabel("day partition")
    ax.set_ylabel("records")
    ax.set_title("What the catalog holds, per day")
    ax.legend(loc="upper left")
    fig.autofmt_xdate()
    return fig


def label_delay(delay: pd.DataFrame) -> Figure:
    """Per evening: observations with a label vs observations still waiting for one."""
    fig = _figure(10, 3.8)
    ax = fig.add_subplot()
    ax.stackplot(
        delay.index,
        delay["labelled"],
        delay["waiting"],
        labels=["labelled (joinable)", "waiting for a label"],
        colors=[HEALTHY_COLOUR, "#e0e0e0"],
    )
    ax.set_xlabel("simulated evening")
    ax.set_ylabel("observations uploaded")
    ax.set_title("Label delay: outcomes arrive 35 days after hatching")
    ax.legend(loc="upper left")
    fig.autofmt_xdate()
    return fig


def image_grid(samples: pd.DataFrame) -> Figure:
    """The PNGs of a few fish: one row per fish (healthy first), one column per age."""
    ages = sorted(samples["age_days"].unique())
    fish = list(dict.fromkeys(samples["fish_id"]))
    fig = _figure(1.6 * len(ages) + 1.5, 1.5 * len(fish) + 0.5)
    axes = fig.subplots(len(fish), len(ages), squeeze=False)
    for row, fish_id in enumerate(fish):
        mine = samples[samples["fish_id"] == fish_id]
        label = bool(mine[LABEL].iloc[0])
        for col, age in enumerate(ages):
            ax = axes[row][col]
            ax.set_xticks([])
            ax.set_yticks([])
            match = mine[mine["age_days"] == age]
            if len(match):
                ax.imshow(read_rgb(match["path"].iloc[0]), interpolation="nearest")
            if row == 0:
                ax.set_title(f"age {age} d")
            if col == 0:
                ax.set_ylabel(
                    f"{fish_id}\n{_LABEL_NAMES[label]}",
                    color=SICK_COLOUR if label else HEALTHY_COLOUR,
                    fontsize=9,
                )
    fig.suptitle("Fish images by age and label")
    return fig


def colour_channels(observations: pd.DataFrame) -> Figure:
    """Each colour feature against age, one dot per image, coloured by the label."""
    fig = _figure(12, 3.4)
    axes = fig.subplots(1, len(FEATURES))
    rng = np.random.default_rng(0)
    for ax, feature in zip(axes, FEATURES, strict=True):
        for label in (False, True):
            part = observations[observations[LABEL] == label]
            jitter = rng.uniform(-0.35, 0.35, len(part))
            ax.scatter(
                part["age_days"] + jitter,
                part[feature],
                s=8,
                alpha=0.6,
                color=SICK_COLOUR if label else HEALTHY_COLOUR,
                label=_LABEL_NAMES[label],
            )
        ax.set_title(feature)
        ax.set_xlabel("age (days)")
        ax.set_xticks(sorted(observations["age_days"].unique()))
    axes[0].legend(loc="best", fontsize=8)
    fig.suptitle("Image colour vs label")
    return fig


def timeline(commits: pd.DataFrame) -> Figure:
    """Rows inserted and updated by each commit, and the table's rows after it."""
    fig = _figure(10, 3.8)
    ax = fig.add_subplot()
    x = np.arange(len(commits))
    labels = [f"{e}\n{i[-9:]}" for e, i in zip(commits["evening"], commits["instant"], strict=True)]
    ax.bar(x - 0.2, commits["inserts"], 0.4, color=HEALTHY_COLOUR, label="inserted")
    ax.bar(x + 0.2, commits["updates"], 0.4, color="#b3b3b3", label="updated")
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylabel("rows written by the commit")
    ax.set_xlabel("simulated evening / commit instant (tail)")
    total = ax.twinx()
    total.plot(x, commits["rows_after"], "o-", color="black", label="rows after the commit")
    total.set_ylabel("rows in the table")
    total.set_ylim(bottom=0)
    handles = ax.get_legend_handles_labels()
    more = total.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left")
    ax.set_title("Hudi timeline of joined_fish_data")
    return fig


def snapshot_comparison(added_by_outcome_day: pd.DataFrame, before: str, after: str) -> Figure:
    """Rows present as of ``after`` but not as of ``before``, by the day their label arrived."""
    fig = _figure(10, 3.4)
    ax = fig.add_subplot()
    days = pd.to_datetime(added_by_outcome_day.index)
    ax.bar(days, added_by_outcome_day["rows"], color=HEALTHY_COLOUR, label="rows added")
    if "positive_rows" in added_by_outcome_day:
        ax.bar(
            days, added_by_outcome_day["positive_rows"], color=SICK_COLOUR, label="of which sick"
        )
    ax.set_xlabel("outcome day (label arrival)")
    ax.set_ylabel("rows")
    ax.set_title(f"Time travel: rows in the table as of {after} but not as of {before}")
    ax.legend(loc="upper left")
    fig.autofmt_xdate()
    return fig


def roc_curves(evaluations: Mapping[str, Evaluation] | Iterable[Evaluation]) -> Figure:
    """ROC curves of the models on the held-out fish, with the chance diagonal."""
    items = list(evaluations.values() if isinstance(evaluations, Mapping) else evaluations)
    fig = _figure(5, 4.6)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], "--", color="#999999", label="chance (AUC 0.5)")
    for e in items:
        ax.step(
            e.roc["fpr"],
            e.roc["tpr"],
            where="post",
            color=MODEL_COLOURS.get(e.kind),
            lw=2,
            label=f"{e.kind} (AUC {e.roc_auc:.2f})",
        )
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC on the held-out (later-hatched) fish")
    ax.legend(loc="lower right")
    return fig


def confusion_matrices(evaluations: Mapping[str, Evaluation] | Iterable[Evaluation]) -> Figure:
    """One confusion matrix per model (counts; rows = truth, columns = prediction)."""
    items = list(evaluations.values() if isinstance(evaluations, Mapping) else evaluations)
    fig = _figure(4.2 * len(items), 3.8)
    axes = fig.subplots(1, len(items), squeeze=False)[0]
    names = ["healthy", "condition"]
    for ax, e in zip(axes, items, strict=True):
        ax.imshow(e.confusion, cmap="Blues", vmin=0)
        high = e.confusion.max() if e.confusion.size else 0
        for (i, j), n in np.ndenumerate(e.confusion):
            ax.text(
                j, i, str(n), ha="center", va="center", color="white" if n > high / 2 else "black"
            )
        ax.set_xticks([0, 1], names)
        ax.set_yticks([0, 1], names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{e.kind}\naccuracy {e.accuracy:.2f}")
    return fig


def coefficients(evaluation: Evaluation, top: int = 10) -> Figure:
    """The largest logistic-regression coefficients (standardised features)."""
    coefs = evaluation.coefficients.iloc[:top][::-1]
    fig = _figure(6, 0.35 * len(coefs) + 1.2)
    ax = fig.add_subplot()
    colours = [SICK_COLOUR if v > 0 else HEALTHY_COLOUR for v in coefs]
    ax.barh(list(coefs.index), coefs.to_numpy(), color=colours)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("coefficient (log-odds per standard deviation / per category)")
    ax.set_title(f"{evaluation.kind}: largest coefficients")
    return fig


def over_evenings(results: pd.DataFrame) -> Figure:
    """ROC AUC of each model trained as of each evening, on the same held-out fish."""
    fig = _figure(8, 3.8)
    ax = fig.add_subplot()
    for kind, part in results.groupby("model", sort=False):
        ax.plot(
            part["evening"], part["roc_auc"], "o-", color=MODEL_COLOURS.get(str(kind)), label=kind
        )
    ax.axhline(0.5, ls="--", color="#999999", label="chance")
    first = results.drop_duplicates("evening")
    for evening, n in zip(first["evening"], first["train_fish"], strict=True):
        ax.annotate(f"{n} fish", (evening, 0.02), ha="center", fontsize=8, color="#555555")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("trained as of the evening of")
    ax.set_ylabel("ROC AUC on the held-out fish")
    ax.set_title("What more labels buy")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig
