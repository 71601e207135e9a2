"""A small, fast PNG encoder for 8-bit RGB images (what the study's images are).

A PNG here is the signature, an IHDR chunk, one zlib-compressed IDAT chunk
of scanlines (filter type 0, "None") and IEND; nothing else, so every
conforming decoder (Pillow included) reads back exactly the pixels given.
The seed draws one solid colour per image, and the same colours come back
often, so :class:`SolidPngCache` encodes each colour once.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import numpy.typing as npt

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPE_RGB = 2
_BIT_DEPTH = 8
# Level 6 is zlib's default; the images are tiny, so the level costs little either way.
ZLIB_LEVEL = 6


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC-32 over type and data."""
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


IEND = chunk(b"IEND", b"")


def header(width: int, height: int) -> bytes:
    """Signature plus IHDR for an 8-bit RGB, non-interlaced image."""
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    ihdr = struct.pack(">IIBBBBB", width, height, _BIT_DEPTH, _COLOR_TYPE_RGB, 0, 0, 0)
    return SIGNATURE + chunk(b"IHDR", ihdr)


_IDAT_CRC = zlib.crc32(b"IDAT")


def encode_scanlines(head: bytes, scanlines: bytes, level: int = ZLIB_LEVEL) -> bytes:
    """A whole PNG from ``header(...)`` and raw scanlines (each row: filter byte + RGB bytes)."""
    data = zlib.compress(scanlines, level)
    crc = zlib.crc32(data, _IDAT_CRC)  # the IDAT chunk inlined: this is the hot path
    return b"".join(
        (head, len(data).to_bytes(4, "big"), b"IDAT", data, crc.to_bytes(4, "big"), IEND)
    )


def encode_rgb(pixels: npt.NDArray[np.uint8], level: int = ZLIB_LEVEL) -> bytes:
    """Encode a ``(height, width, 3)`` uint8 array."""
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError(f"expected a (height, width, 3) uint8 array, got {pixels.shape}")
    return encode_batch(pixels[np.newaxis], level)[0]


def encode_batch(pixels: npt.NDArray[np.uint8], level: int = ZLIB_LEVEL) -> list[bytes]:
    """Encode ``(n, height, width, 3)`` uint8 images; the scanlines are laid out in one go."""
    n, height, width = (int(s) for s in pixels.shape[:3])
    rows = np.zeros((n, height, 1 + 3 * width), dtype=np.uint8)  # column 0: filter type 0
    rows[:, :, 1:] = pixels.reshape(n, height, 3 * width)
    head = header(width, height)
    return [encode_scanlines(head, rows[i].tobytes(), level) for i in range(n)]


def solid_scanlines(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    return (b"\x00" + bytes(rgb) * width) * height


class SolidPngCache:
    """PNG bytes of one-colour images of a fixed size, encoded once per colour."""

    def __init__(self, width: int, height: int, level: int = ZLIB_LEVEL) -> None:
        self.width = width
        self.height = height
        self.level = level
        self._head = header(width, height)
        self._cache: dict[int, bytes] = {}

    def get(self, r: int, g: int, b: int) -> bytes:
        key = (r << 16) | (g << 8) | b
        png = self._cache.get(key)
        if png is None:
            png = self._cache[key] = self._encode(key)
        return png

    def many(self, keys: list[int]) -> list[bytes]:
        """PNGs for colours given as ``r << 16 | g << 8 | b`` keys (one loop, no per-call costs)."""
        get = self._cache.get
        out: list[bytes] = []
        append = out.append
        for key in keys:
            png = get(key)
            if png is None:
                png = self._cache[key] = self._encode(key)
            append(png)
        return out

    def _encode(self, key: int) -> bytes:
        rgb = (key >> 16, (key >> 8) & 0xFF, key & 0xFF)
        return encode_scanlines(
            self._head, solid_scanlines(self.width, self.height, rgb), self.level
        )

    def __len__(self) -> int:
        return len(self._cache)
