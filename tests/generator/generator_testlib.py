"""Helpers of the generator tests: read a generated study back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` (directories map to None) with its bytes."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


def observations(root: Path) -> list[tuple[str, dict[str, Any]]]:
    """(day, observation) for every observation file, in path order."""
    return [
        (p.parent.name.removeprefix("day="), json.loads(p.read_text()))
        for p in sorted(root.glob("observations/day=*/*.json"))
    ]


def outcomes(root: Path) -> dict[str, list[dict[str, Any]]]:
    """Day -> the outcome records of that day."""
    return {
        p.parent.name.removeprefix("day="): json.loads(p.read_text())
        for p in sorted(root.glob("outcomes/day=*/outcomes.json"))
    }


def conditions(root: Path) -> dict[str, bool]:
    """fish_id -> condition_developed, over every outcome file."""
    return {
        r["fish_id"]: r["condition_developed"] for recs in outcomes(root).values() for r in recs
    }


def pixels(path: Path) -> np.ndarray:
    """The decoded RGB pixels of a PNG, (height, width, 3)."""
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert img.mode == "RGB"
        return np.asarray(img.convert("RGB"))


def fish_index(fish_id: str) -> int:
    return int(fish_id.removeprefix("zfish_"))
