"""Shared fixtures of the generator tests: one seed-default study for the whole session."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from zfish.generator import StudySpec, generate

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def default_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The study of ``StudySpec()`` (the seed's defaults, seed 42): ~1,800 files."""
    root = tmp_path_factory.mktemp("default") / "study"
    generate(StudySpec(), root, workers=1, show_progress=False)
    return root


@pytest.fixture(scope="session")
def seed_baseline() -> ModuleType:
    """benchmarks/seed_baseline.py, the seed document's loop, loaded by path."""
    path = REPO / "benchmarks" / "seed_baseline.py"
    spec = importlib.util.spec_from_file_location("zfish_seed_baseline", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def make_study(tmp_path: Path) -> Callable[..., Path]:
    """Generate a small study under tmp_path; keyword arguments override StudySpec fields."""

    def make(name: str = "study", workers: int = 1, **fields: Any) -> Path:
        root = tmp_path / name
        generate(StudySpec(**fields), root, workers=workers, show_progress=False)
        return root

    return make
