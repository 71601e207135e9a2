"""Image features from the PNGs in the lake, computed once per image and cached by ``image_id``.

Each image becomes four numbers: the mean of its red, green and blue channels
(0-255) and a redness index, ``(mean_r - (mean_g + mean_b) / 2) / 255``, which
is about 0 for the seed's white-ish healthy fish and 0.6-0.9 for its red sick
ones. Images are read with Pillow and converted to RGB first, so palette,
grey and RGBA PNGs (alpha dropped) all work.

The cache is one parquet file under ``<dataset>/_zfish/`` keyed by
``image_id``. Each row keeps the size and modification time (ns) of the PNG it
was computed from, so an image that was replaced is recomputed; rows of
images not asked for are kept, so reading several snapshots shares the work.
The file is rewritten atomically (temp file + rename) and only when something
changed; an unreadable or outdated cache file is ignored and rebuilt.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from zfish.fsutil import atomic_write_bytes
from zfish.lake.partitions import partition_name
from zfish.problems import Problem
from zfish.settings import LakeLayout

FEATURES: tuple[str, ...] = ("mean_r", "mean_g", "mean_b", "redness")
CACHE_NAME = "image_features.parquet"
# Bump when the definition of a feature changes: every cached row is then recomputed.
FEATURES_VERSION = "1"
_VERSION_KEY = b"zfish.ml.features.version"

_CACHE_SCHEMA = pa.schema(
    [
        ("image_id", pa.string()),
        ("day", pa.string()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        *[(name, pa.float64()) for name in FEATURES],
    ]
)


def read_rgb(path: Path) -> npt.NDArray[np.uint8]:
    """The image as an ``(height, width, 3)`` uint8 array."""
    from PIL import Image

    with Image.open(path) as image:
        rgb = image.convert("RGB")
        return np.asarray(rgb, dtype=np.uint8).copy()


def pixel_features(rgb: npt.NDArray[np.uint8]) -> dict[str, float]:
    """Mean R, G, B and the redness index of an ``(h, w, 3)`` RGB array."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise ValueError(f"expected a non-empty (height, width, 3) RGB array, got {rgb.shape}")
    means = rgb.reshape(-1, 3).astype(np.float64).mean(axis=0)
    r, g, b = (float(v) for v in means)
    return {"mean_r": r, "mean_g": g, "mean_b": b, "redness": (r - (g + b) / 2.0) / 255.0}


def image_path(layout: LakeLayout, image_id: str, day: str) -> Path:
    """Where the lake keeps the PNG of one observation (``images/day=YYYY-MM-DD/{id}.png``)."""
    from datetime import date

    return layout.images / partition_name(date.fromisoformat(day)) / f"{image_id}.png"


def cache_path(layout: LakeLayout) -> Path:
    return layout.state_dir / CACHE_NAME


@dataclass
class ImageFeatures:
    """Features of the images asked for, and what it took to get them.

    ``frame`` has one row per requested ``image_id`` (its index) with the
    :data:`FEATURES` columns; images missing from the lake or unreadable have
    NaN features and are listed in ``missing`` / ``problems``.
    """

    frame: pd.DataFrame
    computed: int = 0
    reused: int = 0
    missing: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _empty_cache() -> pd.DataFrame:
    return _CACHE_SCHEMA.empty_table().to_pandas().set_index("image_id")


def _load_cache(path: Path) -> pd.DataFrame:
    empty = _empty_cache()
    if not path.exists():
        return empty
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException):
        return empty  # a torn or foreign file: rebuild it
    meta = table.schema.metadata or {}
    if meta.get(_VERSION_KEY) != FEATURES_VERSION.encode() or not set(_CACHE_SCHEMA.names).issubset(
        table.column_names
    ):
        return empty
    return table.select(_CACHE_SCHEMA.names).to_pandas().set_index("image_id")


def _save_cache(path: Path, cache: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(
        cache.reset_index().sort_values("image_id"), schema=_CACHE_SCHEMA, preserve_index=False
    )
    table = table.replace_schema_metadata({_VERSION_KEY: FEATURES_VERSION.encode()})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    atomic_write_bytes(path, sink.getvalue().to_pybytes())


def image_features(
    layout: LakeLayout, images: Iterable[tuple[str, str]], *, use_cache: bool = True
) -> ImageFeatures:
    """Features for ``(image_id, day)`` pairs, from the cache where the PNG is unchanged.

    ``day`` is the observation's partition (``YYYY-MM-DD``), which is where
    the upload put its image.
    """
    wanted = dict(images)
    path = cache_path(layout)
    cache = _load_cache(path) if use_cache else _empty_cache()
    known = {
        str(image_id): (day, int(size), int(mtime), feats)
        for image_id, day, size, mtime, *feats in cache[
            ["day", "size", "mtime_ns", *FEATURES]
        ].itertuples(name=None)
    }
    result = ImageFeatures(frame=pd.DataFrame())
    rows: dict[str, dict[str, Any]] = {}
    fresh: dict[str, dict[str, Any]] = {}
    for image_id, day in wanted.items():
        png = image_path(layout, image_id, day)
        try:
            stat = png.stat()
        except FileNotFoundError:
            result.missing.append(image_id)
            continue
        hit = known.get(image_id)
        if hit is not None and hit[:3] == (day, stat.st_size, stat.st_mtime_ns):
            rows[image_id] = {name: float(v) for name, v in zip(FEATURES, hit[3], strict=True)}
            result.reused += 1
            continue
        try:
            rgb = read_rgb(png)
        except (OSError, ValueError, SyntaxError) as exc:  # Pillow's errors for broken files
            result.missing.append(image_id)
            result.problems.append(Problem(png, f"cannot read the image: {exc}"))
            continue
        values = pixel_features(rgb)
        rows[image_id] = values
        fresh[image_id] = {
            "day": day,
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "width": rgb.shape[1],
            "height": rgb.shape[0],
            **values,
        }
        result.computed += 1
    if use_cache and fresh:
        update = pd.DataFrame.from_dict(fresh, orient="index")
        update.index.name = "image_id"
        kept = cache.drop(index=[i for i in fresh if i in cache.index])
        merged = update if kept.empty else pd.concat([kept, update])
        _save_cache(path, merged)
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(FEATURES))
    frame = frame.reindex(list(wanted)).astype("float64")
    frame.index.name = "image_id"
    result.frame = frame
    return result
