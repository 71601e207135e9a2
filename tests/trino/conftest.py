"""One Trino 476 for tests/trino, over the session's small lake: the oracle of its tests.

Started once (about 30 s) and stopped after the last of them. Where Trino is not cached
and cannot be downloaded, the tests skip and say why, except on CI, where they fail; any
other failure to start (no Java 24+, a server that does not come up) fails them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support import unavailable
from zfish.exceptions import PrerequisiteError
from zfish.trino import install
from zfish.trino.engine import TrinoEngine
from zfish.trino.metastore import mirror
from zfish.trino.server import TrinoServer

if TYPE_CHECKING:
    from zfish.ml.notebooks import SmallLake


COMPACT = ("observations",)


@dataclass
class Oracle:
    server: TrinoServer
    engine: TrinoEngine
    copies: Path


def _install() -> None:
    """Trino 476 into the cache (downloaded once); skip offline, fail on CI (as the bundle does).

    The download itself is the probe: a listing of the Maven folder is not served by every
    mirror (Maven Central's own answers 404), and probing it skipped these tests on CI.
    """
    try:
        install.ensure()
    except PrerequisiteError as exc:
        unavailable(
            f"the Trino oracle tests must run here (CI): {exc}",
            f"no Trino {install.TRINO_VERSION}: {exc}",
        )


# Package scope: stopped after the last Trino test, not at the end of the run (an idle
# Trino still takes a fraction of a core while the rest of the suite runs).
@pytest.fixture(scope="package")
def trino(small_lake: SmallLake, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oracle]:
    """The running server with the small lake's catalog mirrored as zebra_fish_demo."""
    _install()
    work = tmp_path_factory.mktemp("trino")
    server = TrinoServer(work)
    server.start()
    try:
        copies = work / "copies"
        # Observations as one object per partition: the same rows, read by Trino some 5 times
        # faster than 885 small objects (only "$path" changes, a known difference anyway).
        mirror(small_lake.layout, server.metastore, copies / "small", compact=COMPACT)
        yield Oracle(server=server, engine=TrinoEngine(server.url), copies=copies)
    finally:
        server.stop()
