"""What every scenario shares: keyed draws, the study tree's folders, and JSON in the seed's layout."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from zfish.generator.draws import uniform
from zfish.generator.spec import StudySpec

# Field ids of the scenarios' random draws (the engine's own use 1..13); never renumber.
FIELD_LATE = 101
FIELD_LATE_DELAY = 102
FIELD_REDELIVER_DAY = 103
FIELD_REDELIVER_LAG = 104
FIELD_REDELIVER_FIX = 105
FIELD_OUT_OF_ORDER_DAY = 106
FIELD_OUT_OF_ORDER_LAG = 107
FIELD_DRIFT_TEMP = 108
FIELD_DRIFT_GENE = 109
FIELD_CORRUPT = 110
FIELD_CORRUPT_KIND = 111
FIELD_STRAY = 112
FIELD_DUPLICATE = 113
FIELD_ORPHAN_JSON = 115
FIELD_ORPHAN_IMAGE = 116


def draw(spec: StudySpec, field: int, entity: int, sub: int = 0) -> float:
    """One uniform double in [0, 1) for (seed, entity, field[, sub]), as the engine draws."""
    return float(uniform(spec.seed, field, np.array([entity], dtype=np.uint64), sub)[0])


def draw_int(spec: StudySpec, field: int, entity: int, low: int, high: int, sub: int = 0) -> int:
    """A whole number in [low, high], both included, for (seed, entity, field[, sub])."""
    return low + int(draw(spec, field, entity, sub) * (high - low + 1))


def fish_number(fish_id: str) -> int:
    """``zfish_00042`` -> 42 (the engine's fish index)."""
    return int(fish_id.rpartition("_")[2])


def observation_entity(image_id: str) -> tuple[int, int]:
    """(fish index, age) of an ``{fish_id}_{age:02d}`` image id: the key of its draws."""
    fish_id, _, age = image_id.rpartition("_")
    return fish_number(fish_id), int(age)


@dataclass(frozen=True)
class Tree:
    """The study folder being written (the generator's temp folder) and its spec."""

    spec: StudySpec
    root: Path

    def folder(self, kind: str, day: date) -> Path:
        return self.root / kind / f"day={day.isoformat()}"

    def days(self) -> list[tuple[int, date]]:
        return [(d, self.spec.day(d)) for d in range(self.spec.n_days)]

    def observation_files(self, day: date) -> list[Path]:
        """The seed-named observation files of a day, sorted (``{image_id}.json``)."""
        folder = self.folder("observations", day)
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.suffix == ".json" and p.stem.count(".") == 0)


def dumps(value: Any) -> bytes:
    """JSON as the seed's generator writes it (``json.dump(indent=2)``)."""
    return json.dumps(value, indent=2).encode()


def read_json(path: Path) -> Any:
    return json.loads(path.read_bytes())


def write(path: Path, data: bytes) -> None:
    """Write a file of the temp study (the whole tree is renamed into place at the end)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def remove_empty(folder: Path) -> None:
    """Drop a folder left empty (an outcomes day without labels has no folder, as in the seed)."""
    if folder.is_dir() and not any(folder.iterdir()):
        os.rmdir(folder)
