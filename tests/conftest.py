"""Shared fixtures: one SparkSession for the whole run (it costs seconds to start)."""

from __future__ import annotations

import functools
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from zfish.ml.notebooks import SmallLake


DURATIONS = Path(__file__).with_name("durations.json")
SHM = Path("/dev/shm")
SHM_NEEDED_BYTES = 8 << 30  # a run writes about 1.5 GB of temp folders; ample room, or the disk


def pytest_configure(config: pytest.Config) -> None:
    """Temp folders (``tmp_path``, and Spark's local dirs) in /dev/shm when it has room.

    The suite writes lakes, studies and tables of many small files from two worker
    processes at once, which is what the slow disks of these machines do worst (kernel
    time). Pytest's own rotation and locking apply there as on /tmp; the folders of a
    passing run are removed at its end (``tmp_path_retention_policy``). An explicit
    ``--basetemp`` or ``PYTEST_DEBUG_TEMPROOT`` is left alone.
    """
    if hasattr(config, "workerinput"):  # an xdist worker: its basetemp comes from the controller
        return
    _prefetch_trino(config)
    if config.option.basetemp or os.environ.get("PYTEST_DEBUG_TEMPROOT"):
        return
    try:
        roomy = os.access(SHM, os.W_OK) and shutil.disk_usage(SHM).free >= SHM_NEEDED_BYTES
    except OSError:
        roomy = False
    if roomy:
        os.environ["PYTEST_DEBUG_TEMPROOT"] = str(SHM)


def _group(nodeid: str) -> str:
    """The worker unit of a test: its module, or all of tests/trino (one Trino per run)."""
    module = nodeid.split("::", 1)[0]
    return "tests/trino" if module.startswith("tests/trino/") else module


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest groups first (tests/durations.json), so that both workers end together.

    A 5-minute module started last would leave the other worker idle for its
    whole length. Groups the file does not know follow, those with slow tests
    first; a stale figure changes the order only, never what runs.
    """
    known = json.loads(DURATIONS.read_text())
    slow: dict[str, int] = {}
    for item in items:
        group = _group(item.nodeid)
        slow[group] = slow.get(group, 0) + (item.get_closest_marker("slow") is not None)
    order = {group: rank for rank, group in enumerate(slow)}

    def rank(item: pytest.Item) -> tuple[float, int, int]:
        group = _group(item.nodeid)
        return (-float(known.get(group, 0)), -slow[group], order[group])

    items.sort(key=rank)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``make test``'s two workers (pytest-xdist) take whole groups (``_group``).

    A module's tests then share one build of its module fixtures. (xdist's own
    ``--dist loadgroup`` markers do not reach its scheduler under pytest 9.2.)
    """
    from xdist.scheduler import LoadScopeScheduling

    # Keep the collection's order (longest first); xdist would sort groups by test count.
    config.option.loadscopereorder = False

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid)

    return GroupScheduling(config, log)


def _prefetch_trino(config: pytest.Config) -> None:
    """Trino's one-time download (821 MB) started in the background when tests/trino will run.

    It then overlaps the first minutes of the suite instead of holding up the worker
    that reaches tests/trino; that worker's ``install.ensure()`` waits for it (a lock
    in the cache), and tries again itself if it failed, so skip and fail keep their
    meaning.
    """
    import subprocess
    import sys

    from zfish.exceptions import PrerequisiteError
    from zfish.trino import install

    trino_tests = config.rootpath / "tests" / "trino"
    here = config.invocation_params.dir
    # Arguments are relative to where pytest was started; testpaths to the rootdir.
    paths = [
        next((p for p in (here / a, config.rootpath / a) if p.exists()), here / a).resolve()
        for a in (arg.split("::", 1)[0] for arg in config.args)
    ]
    if not any(
        trino_tests.is_relative_to(path) or path.is_relative_to(trino_tests) for path in paths
    ):
        return
    try:
        if install.find() is not None:
            return
        install.cache_dir().mkdir(parents=True, exist_ok=True)
        log = (install.cache_dir() / "prefetch.log").open("wb")
    except (OSError, PrerequisiteError):  # the fixture reports it, with the fix
        return
    with log:
        subprocess.Popen(
            [sys.executable, "-c", "from zfish.trino import install; install.ensure()"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


@functools.cache
def _hudi_bundle() -> tuple[Path | None, str]:
    """The JVM Hudi bundle, resolved once per run (downloaded into zfish's cache if needed)."""
    from zfish import jars
    from zfish.exceptions import PrerequisiteError

    try:
        return jars.hudi_bundle(), ""
    except PrerequisiteError as exc:
        return None, str(exc)


@pytest.fixture(scope="session")
def hudi_bundle() -> Path:
    """The bundle jar; a test needing it fails on CI without it and skips elsewhere, saying why."""
    from tests.support import unavailable

    path, why = _hudi_bundle()
    if path is None:
        unavailable(f"the JVM Hudi tests must run here (CI): {why}", f"no JVM Hudi: {why}")
    return path


@pytest.fixture(scope="session", autouse=True)
def _spark_local_dirs(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Spark's scratch (shuffle, the jars it copies per application) beside the tests' temp.

    Every JVM the tests start inherits it: spark-submit runs, clusters, the zfish CLI.
    """
    os.environ.setdefault("SPARK_LOCAL_DIRS", str(tmp_path_factory.mktemp("spark-local")))


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """The one SparkSession of the run; it carries the JVM Hudi bundle whenever it can be had."""
    from zfish.spark import get_spark

    path, _ = _hudi_bundle()
    session = get_spark("zfish-tests", hudi=path is not None, hudi_bundle=str(path or "") or None)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def spark_hudi(spark: SparkSession, hudi_bundle: Path) -> SparkSession:
    """The session, for tests that use the JVM Hudi datasource (it has the bundle)."""
    return spark


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
