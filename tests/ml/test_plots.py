"""Every figure renders to PNG without a display (Agg) and draws what it is given."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from PIL import Image

from zfish.ml import dataset, plots
from zfish.ml.model import METADATA, METADATA_IMAGE, fit_evaluate

DAYS = pd.date_range("2025-04-02", periods=5, freq="D")


def render(fig: Figure) -> Image.Image:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)
    image = Image.open(io.BytesIO(buffer.getvalue()))
    assert image.width > 50
    assert image.height > 50
    return image


def observations(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    label = np.arange(n) % 2 == 0
    return pd.DataFrame(
        {
            "fish_id": [f"f{i // 3:03d}" for i in range(n)],
            "age_days": np.tile([1, 3, 5], n // 3),
            "condition_developed": label,
            "hatch_date": pd.Timestamp("2025-04-01") + pd.to_timedelta(np.arange(n) // 6, unit="D"),
            "treatment": "placebo",
            "mean_r": np.where(label, 250.0, 225.0),
            "mean_g": np.where(label, 20.0, 225.0) + rng.normal(0, 2, n),
            "mean_b": np.where(label, 20.0, 225.0),
            "redness": np.where(label, 0.9, 0.0) + rng.normal(0, 0.01, n),
        }
    )


def test_lake_figures_render() -> None:
    counts = pd.DataFrame(
        {"observations": [5, 5, 10, 10, 15], "outcomes": [0, 0, 0, 5, 5], "joined_rows": 1},
        index=DAYS,
    )
    delay = pd.DataFrame({"labelled": [0, 0, 3, 6, 9], "waiting": [5, 10, 12, 14, 15]}, index=DAYS)
    commits = pd.DataFrame(
        {
            "instant": ["20250510180000000", "20250520180000000"],
            "evening": ["2025-05-10", "2025-05-20"],
            "inserts": [60, 150],
            "updates": [0, 50],
            "rows_after": [60, 210],
        }
    )
    added = pd.DataFrame(
        {"rows": [15, 15], "positive_rows": [6, 9]}, index=["2025-05-10", "2025-05-11"]
    )
    for fig in (
        plots.counts_per_day(counts),
        plots.label_delay(delay),
        plots.timeline(commits),
        plots.snapshot_comparison(added, "2025-05-10", "2025-05-20"),
        plots.colour_channels(observations()),
    ):
        render(fig)
    assert len(plots.colour_channels(observations()).axes) == 4


def test_image_grid_shows_the_pngs(tmp_path: Path) -> None:
    rows = []
    for fish, label, colour in (("a", False, (230, 230, 230)), ("b", True, (255, 0, 0))):
        for age in (1, 3, 5):
            path = tmp_path / f"{fish}{age}.png"
            Image.new("RGB", (8, 8), colour).save(path)
            rows.append(
                {"fish_id": fish, "condition_developed": label, "age_days": age, "path": path}
            )
    fig = plots.image_grid(pd.DataFrame(rows))
    assert len(fig.axes) == 6
    shown = fig.axes[3].images[0].get_array()  # first age of fish "b"
    assert tuple(np.asarray(shown)[0, 0]) == (255, 0, 0)
    render(fig)


def test_model_figures_render() -> None:
    frame = observations(120)
    split = dataset.split_by_hatch_date(frame, test_fraction=0.3)
    evaluations = {k: fit_evaluate(split, k, bootstrap=0) for k in (METADATA, METADATA_IMAGE)}
    roc = plots.roc_curves(evaluations)
    assert len(roc.axes[0].lines) == 3  # chance + two models
    cm = plots.confusion_matrices(evaluations)
    assert len(cm.axes) == 2
    assert [t.get_text() for t in cm.axes[1].texts] == [
        str(n) for n in evaluations[METADATA_IMAGE].confusion.ravel()
    ]
    progress = pd.DataFrame(
        {
            "evening": ["2025-05-10", "2025-05-10", "2025-05-20", "2025-05-20"],
            "model": [METADATA, METADATA_IMAGE] * 2,
            "roc_auc": [0.5, 1.0, 0.52, 1.0],
            "train_fish": [20, 20, 70, 70],
        }
    )
    for fig in (
        roc,
        cm,
        plots.coefficients(evaluations[METADATA_IMAGE]),
        plots.over_evenings(progress),
    ):
        render(fig)


def test_figures_are_built_without_pyplot() -> None:
    """No GUI backend, no global figure state: pyplot is never imported, even to render."""
    code = (
        "import io, sys; import pandas as pd; from zfish.ml import plots; "
        "d = pd.DataFrame({'labelled': [1, 2], 'waiting': [3, 4]}, "
        "index=pd.date_range('2025-05-01', periods=2)); "
        "plots.label_delay(d).savefig(io.BytesIO(), format='png'); "
        "print('matplotlib.pyplot' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "DISPLAY")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "False"
