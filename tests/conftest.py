"""Shared fixtures: one SparkSession for the whole run (it costs seconds to start)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    from zfish.spark import get_spark

    session = get_spark("zfish-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def default_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed-default study (seed 42), generated once; tests must not modify it."""
    from zfish.generator import StudySpec, generate

    data = tmp_path_factory.mktemp("study") / "synthetic_data"
    generate(StudySpec(), data, show_progress=False)
    return data
