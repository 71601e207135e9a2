"""Fixtures of the zfish.hudi tests (helpers live in hudi_testlib)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hudi_testlib import unzip_table


@pytest.fixture(scope="session")
def fixtures_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session-wide folder the fixture zips are unzipped into (read-only use)."""
    return tmp_path_factory.mktemp("hudi-fixtures")


@pytest.fixture
def fixture_table(fixtures_dir: Path, tmp_path: Path) -> Callable[[str], Path]:
    """Factory: a private, writable copy of a Spark-written fixture table."""

    def make(name: str) -> Path:
        src = unzip_table(name, fixtures_dir)
        dst = tmp_path / src.name
        shutil.copytree(src, dst)
        return dst

    return make
