"""Shared fixtures: one SparkSession for the whole run (it costs seconds to start)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from zfish.ml.notebooks import SmallLake


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


@pytest.fixture(scope="session")
def small_lake(
    spark: SparkSession, default_study: Path, tmp_path_factory: pytest.TempPathFactory
) -> SmallLake:
    """The notebooks' small lake: the default study simulated on 2025-05-10, 05-20 and 06-02.

    Built once per run and shared (dataset, model, explore and notebook tests); tests must
    not write into it, except the image feature cache that readers of the lake keep anyway.
    """
    from zfish.ml.notebooks import build_small_lake

    root = tmp_path_factory.mktemp("small_lake")
    return build_small_lake(root, spark=spark, data_dir=default_study)
