"""One Trino 476 for tests/trino, over the session's small lake: the oracle of its tests.

Started once (about 30 s) and stopped after the last of them. Where Maven Central cannot
be reached and Trino is not cached, the tests skip and say why; any other
failure to start (no Java 24+, a server that does not come up) fails them.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

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


def _registry_unreachable() -> str | None:
    """Why Maven Central cannot be asked, or None when it can."""
    try:
        with urllib.request.urlopen(install.URL.rsplit("/", 1)[0] + "/", timeout=15):
            return None
    except (urllib.error.URLError, OSError) as exc:
        return (
            f"Maven Central is unreachable ({exc}) and Trino {install.TRINO_VERSION} is not cached"
        )


# Package scope: stopped after the last Trino test, not at the end of the run (an idle
# Trino still takes a fraction of a core while the rest of the suite runs).
@pytest.fixture(scope="package")
def trino(small_lake: SmallLake, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oracle]:
    """The running server with the small lake's catalog mirrored as zebra_fish_demo."""
    if install.find() is None:
        why = _registry_unreachable()
        if why is not None:
            pytest.skip(why)
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
