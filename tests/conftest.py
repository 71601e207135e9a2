"""Shared fixtures: one SparkSession for the whole run (it costs seconds to start)."""

from __future__ import annotations

from collections.abc import Iterator
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
