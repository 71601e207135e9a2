"""What is in the lake, as frames for the exploration notebook: tables, days, labels, commits.

Everything here reads the lake the way a data scientist would: Athena-style
SQL over the catalog (:mod:`zfish.catalog.query`) and the Hudi table through hudi-rs
(:mod:`zfish.fishtable`). Nothing writes. The notebook only displays what
these functions return and hands it to :mod:`zfish.ml.plots`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from zfish import fishtable
from zfish.catalog import glue
from zfish.catalog.query import run_query
from zfish.exceptions import ValidationError
from zfish.ml.dataset import DATA_COLUMNS, FISH, LABEL, require_table
from zfish.ml.features import image_path
from zfish.settings import DATABASE, ENV_LAKE, TABLE_NAME, LakeLayout, default_lake_dir


def lake_from_env() -> LakeLayout:
    """The lake of ``$ZFISH_LAKE`` (default ``./lake``, or ``../lake`` from ``notebooks/``)."""
    root = default_lake_dir()
    if not os.environ.get(ENV_LAKE) and not root.exists() and (Path("..") / root).exists():
        root = Path("..") / root  # a notebook opened from notebooks/ next to the repo's lake
    layout = LakeLayout(root=root)
    if not layout.catalog_db.exists():
        raise ValidationError(
            f"no zfish lake at {root.resolve()}: run `make simulate DAY=2025-05-20` first, or set "
            f"{ENV_LAKE} to a lake root"
        )
    return layout


def _sql(layout: LakeLayout, sql: str) -> pd.DataFrame:
    return run_query(layout, sql).table.to_pandas()


def catalog_tables(layout: LakeLayout) -> pd.DataFrame:
    """The catalogued tables: kind, registered partitions, columns, and rows (``count(*)``)."""
    rows = []
    for name, entry in glue.load_tables(layout).items():
        count = _sql(layout, f'SELECT count(*) AS n FROM "{DATABASE}"."{name}"')["n"].iloc[0]
        rows.append(
            {
                "table": f"{DATABASE}.{name}",
                "kind": entry.kind,
                "partitions": len(entry.partitions),
                "first_partition": entry.partitions[0] if entry.partitions else None,
                "last_partition": entry.partitions[-1] if entry.partitions else None,
                "columns": ", ".join(c.name for c in entry.columns),
                "rows": int(count),
            }
        )
    return pd.DataFrame(rows).set_index("table")


def counts_per_day(layout: LakeLayout) -> pd.DataFrame:
    """Per day partition: observations uploaded, outcomes arriving, rows in the Hudi table."""
    frames = []
    for name in ("observations", "outcomes", TABLE_NAME):
        if name not in glue.load_tables(layout):
            continue
        counts = _sql(
            layout,
            f'SELECT day, count(*) AS {name} FROM "{DATABASE}"."{name}" GROUP BY day ORDER BY day',
        )
        frames.append(counts.set_index("day")[name])
    if not frames:
        raise ValidationError("the catalog has no tables yet: run `zfish crawl` or simulate")
    out = pd.concat(frames, axis=1).fillna(0).astype("int64").sort_index()
    out.index = pd.to_datetime(out.index)
    out.index.name = "day"
    return out.rename(columns={TABLE_NAME: "joined_rows"})


def label_delay(layout: LakeLayout) -> pd.DataFrame:
    """Per evening ``d``: observations uploaded before ``d``, how many had a label, how many wait.

    An observation is labelled on the evening of ``d`` when its fish's outcome
    partition is earlier than ``d`` (what the ETL of that evening can join).
    """
    pairs = _sql(
        layout,
        f'SELECT o.day AS observed, min(l.day) AS labelled FROM "{DATABASE}"."observations" o '
        f'LEFT JOIN "{DATABASE}"."outcomes" l ON o.fish_id = l.fish_id '
        "GROUP BY o.image_id, o.day",
    )
    if pairs.empty:
        return pd.DataFrame(columns=["uploaded", "labelled", "waiting", "waiting_share"])
    observed = pd.to_datetime(pairs["observed"])
    labelled = pd.to_datetime(pairs["labelled"])
    first = observed.min() + pd.Timedelta(days=1)
    last = max(observed.max(), labelled.max()) + pd.Timedelta(days=1)
    evenings = pd.date_range(first, last, freq="D")
    uploaded = observed.value_counts().sort_index().cumsum()
    arrived = labelled.dropna().value_counts().sort_index().cumsum()
    # Counted with day < evening: shift by one day, then carry the running total forward.
    out = pd.DataFrame(index=evenings)
    out["uploaded"] = uploaded.reindex(evenings - pd.Timedelta(days=1), method="ffill").to_numpy()
    out["labelled"] = arrived.reindex(evenings - pd.Timedelta(days=1), method="ffill").to_numpy()
    out = out.fillna(0).astype("int64")
    out["waiting"] = out["uploaded"] - out["labelled"]
    out["waiting_share"] = out["waiting"] / out["uploaded"].where(out["uploaded"] > 0)
    out.index.name = "evening"
    return out


def label_wait_by_age(layout: LakeLayout) -> pd.DataFrame:
    """Days from observation to label, per age (the seed's 35-day label age minus the age)."""
    rows = fishtable.read(layout.table, columns=["age_days", "day", "outcome_day"]).to_pandas()
    rows["wait_days"] = (pd.to_datetime(rows["outcome_day"]) - pd.to_datetime(rows["day"])).dt.days
    summary = rows.groupby("age_days")["wait_days"].agg(["count", "min", "median", "max"])
    return summary.rename(columns={"count": "rows"})


def timeline(layout: LakeLayout) -> pd.DataFrame:
    """The Hudi timeline: one row per commit, its evening, what it wrote and the rows after it."""
    require_table(layout)
    rows = []
    for commit in fishtable.commits(layout.table):
        snapshot = fishtable.read(layout.table, as_of=commit.instant, columns=["image_id"])
        rows.append(
            {
                "instant": commit.instant,
                "evening": commit.simulated_day,
                "operation": commit.operation,
                "window_start": commit.window_start,
                "inserts": commit.num_inserts,
                "updates": commit.num_updates,
                "deletes": commit.num_deletes,
                "partitions_written": commit.partitions,
                "rows_after": snapshot.num_rows,
            }
        )
    return pd.DataFrame(rows)


def evenings(layout: LakeLayout) -> list[str]:
    """The simulated evenings with a commit, oldest first (each once)."""
    require_table(layout)
    days = [c.simulated_day for c in fishtable.commits(layout.table) if c.simulated_day]
    return sorted({d.isoformat() for d in days})


def pick_evenings(layout: LakeLayout, most: int = 6) -> list[str]:
    """At most ``most`` evenings with commits, evenly spread, always the first and the last."""
    known = evenings(layout)
    if len(known) <= most:
        return known
    step = (len(known) - 1) / (most - 1)
    return [known[round(i * step)] for i in range(most)]


def two_evenings(layout: LakeLayout) -> tuple[str, str]:
    """The first and the last evening with a commit (the same one twice if there is one)."""
    known = evenings(layout)
    return known[0], known[-1]


@dataclass
class SnapshotComparison:
    """The table as two evenings left it, and what changed in between."""

    before: str
    after: str
    summary: pd.DataFrame  # one row per evening
    added_by_outcome_day: pd.DataFrame  # rows new in ``after``, by the day their label arrived
    added: int
    removed: int
    changed: int


def _snapshot_summary(evening: str, frame: pd.DataFrame) -> dict[str, object]:
    fish = frame.groupby(FISH)[LABEL].first()
    return {
        "evening": evening,
        "rows": len(frame),
        "fish": len(fish),
        "positive_fish": int(fish.sum()),
        "observation_days": frame["day"].nunique(),
        "last_label_day": frame["outcome_day"].max() if len(frame) else None,
    }


def compare_snapshots(layout: LakeLayout, before: str, after: str) -> SnapshotComparison:
    """Time travel: the table as of ``before`` and as of ``after`` (days or instants)."""
    require_table(layout)
    columns = list(DATA_COLUMNS)
    old = fishtable.read(layout.table, as_of=before, columns=columns).to_pandas()
    new = fishtable.read(layout.table, as_of=after, columns=columns).to_pandas()
    old_keyed = old.set_index("image_id").sort_index()
    new_keyed = new.set_index("image_id").sort_index()
    added_ids = new_keyed.index.difference(old_keyed.index)
    removed_ids = old_keyed.index.difference(new_keyed.index)
    common = old_keyed.index.intersection(new_keyed.index)
    a = old_keyed.loc[common, columns[1:]]
    b = new_keyed.loc[common, columns[1:]]
    changed = int((~((a == b) | (a.isna() & b.isna()))).any(axis=1).sum())
    added = new_keyed.loc[added_ids]
    by_day = (
        added.groupby("outcome_day")
        .agg(rows=(FISH, "size"), fish=(FISH, "nunique"), positive_rows=(LABEL, "sum"))
        .astype("int64")
    )
    summary = pd.DataFrame([_snapshot_summary(before, old), _snapshot_summary(after, new)])
    return SnapshotComparison(
        before=before,
        after=after,
        summary=summary.set_index("evening"),
        added_by_outcome_day=by_day,
        added=len(added_ids),
        removed=len(removed_ids),
        changed=changed,
    )


def image_samples(
    layout: LakeLayout, observations: pd.DataFrame, per_label: int = 3
) -> pd.DataFrame:
    """``per_label`` labelled fish of each class with every age imaged, and their PNG paths.

    The fish are the first ones to hatch of each class (deterministic); one
    row per (fish, age), ordered by label, fish and age.
    """
    ages = sorted(observations["age_days"].unique())
    complete = observations.groupby(FISH)["age_days"].nunique() == len(ages)
    chosen = []
    for label in (False, True):
        fish = observations.loc[
            (observations[LABEL] == label) & observations[FISH].map(complete), FISH
        ]
        chosen += list(dict.fromkeys(fish))[:per_label]
    picked = observations[observations[FISH].isin(chosen)].copy()
    picked["path"] = [
        image_path(layout, i, d) for i, d in zip(picked["image_id"], picked["day"], strict=True)
    ]
    columns = [FISH, LABEL, "age_days", "image_id", "day", "path"]
    return picked.sort_values([LABEL, FISH, "age_days"])[columns].reset_index(drop=True)
