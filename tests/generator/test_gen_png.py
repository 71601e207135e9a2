"""zfish.generator.png: every PNG decodes with Pillow to exactly the intended pixels."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from zfish.generator import png


def decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "PNG"
        assert img.mode == "RGB"
        return np.asarray(img)


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk, checking lengths and CRCs on the way."""
    assert data[:8] == png.SIGNATURE
    out, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        out.append((kind, body))
        pos += 12 + length
    assert pos == len(data)
    return out


@pytest.mark.parametrize(("width", "height"), [(1, 1), (8, 8), (13, 7), (64, 3)])
@pytest.mark.parametrize("rgb", [(0, 0, 0), (255, 255, 255), (171, 3, 50), (200, 255, 201)])
def test_solid_images_decode_to_their_colour(
    width: int, height: int, rgb: tuple[int, int, int]
) -> None:
    data = png.SolidPngCache(width, height).get(*rgb)
    pixels = decode(data)
    assert pixels.shape == (height, width, 3)
    assert (pixels == np.array(rgb, dtype=np.uint8)).all()


def test_chunk_layout_is_ihdr_idat_iend() -> None:
    data = png.SolidPngCache(8, 8).get(1, 2, 3)
    kinds = [kind for kind, _ in chunks(data)]
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]
    ihdr = chunks(data)[0][1]
    assert struct.unpack(">IIBBBBB", ihdr) == (8, 8, 8, 2, 0, 0, 0)


def test_arbitrary_pixels_round_trip() -> None:
    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, size=(5, 9, 11, 3), dtype=np.uint8)
    for original, data in zip(images, png.encode_batch(images), strict=True):
        assert (decode(data) == original).all()
    assert (decode(png.encode_rgb(images[0])) == images[0]).all()


def test_cache_encodes_each_colour_once() -> None:
    cache = png.SolidPngCache(8, 8)
    first = cache.get(10, 20, 30)
    assert cache.get(10, 20, 30) is first
    assert cache.get(10, 20, 31) != first
    assert len(cache) == 2


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="height, width, 3"):
        png.encode_rgb(np.zeros((4, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="positive"):
        png.header(0, 8)
