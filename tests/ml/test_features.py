"""Image features: pixel values of known PNGs, the cache by image_id, missing and broken images."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from zfish.ml.features import (
    FEATURES,
    cache_path,
    image_features,
    image_path,
    pixel_features,
    read_rgb,
)
from zfish.settings import LakeLayout

DAY = "2025-04-02"


@pytest.fixture
def layout(tmp_path: Path) -> LakeLayout:
    return LakeLayout(root=tmp_path / "lake")


def write_png(layout: LakeLayout, image_id: str, pixels: np.ndarray, mode: str = "RGB") -> Path:
    path = image_path(layout, image_id, DAY)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels.astype(np.uint8), mode=mode).save(path)
    return path


# A 2x3 image with six different known colours.
KNOWN = np.array(
    [
        [[255, 0, 0], [0, 255, 0], [0, 0, 255]],
        [[10, 20, 30], [200, 210, 220], [171, 50, 0]],
    ]
)


def test_image_path_follows_the_lake_layout(layout: LakeLayout) -> None:
    assert image_path(layout, "zfish_00001_05", DAY) == (
        layout.dataset / "images" / "day=2025-04-02" / "zfish_00001_05.png"
    )


def test_features_equal_the_pixel_values_of_a_known_png(layout: LakeLayout) -> None:
    write_png(layout, "zfish_00001_01", KNOWN)
    frame = image_features(layout, [("zfish_00001_01", DAY)]).frame
    r = (255 + 0 + 0 + 10 + 200 + 171) / 6
    g = (0 + 255 + 0 + 20 + 210 + 50) / 6
    b = (0 + 0 + 255 + 30 + 220 + 0) / 6
    row = frame.loc["zfish_00001_01"]
    assert row["mean_r"] == pytest.approx(r)
    assert row["mean_g"] == pytest.approx(g)
    assert row["mean_b"] == pytest.approx(b)
    assert row["redness"] == pytest.approx((r - (g + b) / 2) / 255)
    assert list(frame.columns) == list(FEATURES)


def test_seed_colours_give_the_expected_redness(layout: LakeLayout) -> None:
    # The seed's solid 8x8 images: a sick fish at age 5 (255, g, b <= 50), a healthy one.
    write_png(layout, "sick", np.tile([255, 30, 10], (8, 8, 1)))
    write_png(layout, "healthy", np.tile([230, 220, 240], (8, 8, 1)))
    frame = image_features(layout, [("sick", DAY), ("healthy", DAY)]).frame
    assert frame.loc["sick"].tolist() == pytest.approx([255, 30, 10, (255 - 20) / 255])
    assert frame.loc["healthy", "redness"] == pytest.approx((230 - 230) / 255)


def test_rgba_and_grey_images_are_read_as_rgb(layout: LakeLayout) -> None:
    rgba = np.zeros((2, 2, 4))
    rgba[..., 0], rgba[..., 3] = 200, 17  # alpha is dropped, not blended
    write_png(layout, "rgba", rgba, mode="RGBA")
    write_png(layout, "grey", np.full((3, 3), 90), mode="L")
    frame = image_features(layout, [("rgba", DAY), ("grey", DAY)]).frame
    assert frame.loc["rgba", ["mean_r", "mean_g", "mean_b"]].tolist() == [200, 0, 0]
    assert frame.loc["grey", ["mean_r", "mean_g", "mean_b", "redness"]].tolist() == [90, 90, 90, 0]


def test_read_rgb_returns_the_pixels(layout: LakeLayout) -> None:
    path = write_png(layout, "known", KNOWN)
    assert np.array_equal(read_rgb(path), KNOWN)


def test_pixel_features_rejects_a_non_rgb_array() -> None:
    with pytest.raises(ValueError, match="RGB array"):
        pixel_features(np.zeros((4, 4), dtype=np.uint8))


def test_features_are_cached_by_image_id_and_reused(layout: LakeLayout) -> None:
    write_png(layout, "a", KNOWN)
    write_png(layout, "b", np.tile([1, 2, 3], (4, 4, 1)))
    first = image_features(layout, [("a", DAY), ("b", DAY)])
    assert (first.computed, first.reused) == (2, 0)
    cached = pq.read_table(cache_path(layout)).to_pandas().set_index("image_id")
    assert sorted(cached.index) == ["a", "b"]
    assert cached.loc["b", "mean_b"] == 3
    assert cache_path(layout).parent == layout.state_dir

    again = image_features(layout, [("b", DAY), ("a", DAY)])
    assert (again.computed, again.reused) == (0, 2)
    assert again.frame.loc[["a", "b"]].equals(first.frame.loc[["a", "b"]])
    # Asking for one image keeps the cached rows of the others.
    image_features(layout, [("a", DAY)])
    assert len(pq.read_table(cache_path(layout))) == 2


def test_a_replaced_image_is_recomputed(layout: LakeLayout) -> None:
    path = write_png(layout, "a", np.tile([10, 10, 10], (4, 4, 1)))
    assert image_features(layout, [("a", DAY)]).frame.loc["a", "mean_r"] == 10
    stat = path.stat()
    write_png(layout, "a", np.tile([20, 10, 10], (4, 4, 1)))  # same size, new pixels
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    result = image_features(layout, [("a", DAY)])
    assert result.computed == 1
    assert result.frame.loc["a", "mean_r"] == 20


def test_an_unreadable_cache_is_rebuilt(layout: LakeLayout) -> None:
    write_png(layout, "a", KNOWN)
    image_features(layout, [("a", DAY)])
    cache_path(layout).write_bytes(b"not parquet")
    result = image_features(layout, [("a", DAY)])
    assert result.computed == 1
    assert pq.read_table(cache_path(layout)).num_rows == 1


def test_use_cache_false_neither_reads_nor_writes_the_cache(layout: LakeLayout) -> None:
    write_png(layout, "a", KNOWN)
    result = image_features(layout, [("a", DAY)], use_cache=False)
    assert result.computed == 1
    assert not cache_path(layout).exists()


def test_missing_and_broken_images_have_nan_features(layout: LakeLayout) -> None:
    write_png(layout, "good", KNOWN)
    broken = image_path(layout, "broken", DAY)
    broken.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    result = image_features(layout, [("good", DAY), ("gone", DAY), ("broken", DAY)])
    assert list(result.frame.index) == ["good", "gone", "broken"]
    assert sorted(result.missing) == ["broken", "gone"]
    assert [p.path for p in result.problems] == [broken]
    assert all(math.isnan(v) for v in result.frame.loc["gone"])
    assert not math.isnan(result.frame.loc["good", "mean_r"])
    # Neither is cached: the image may arrive (or be fixed) later.
    assert pq.read_table(cache_path(layout)).column("image_id").to_pylist() == ["good"]
