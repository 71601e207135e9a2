"""``zfish query --engine trino``: one Athena statement on a real Trino 476 over the lake.

The server is started on demand (about 30 s: DuckDB, the default engine,
answers in a tenth of a second) in a work folder of zfish's cache, one per
lake, and stopped when the statement is answered. Before the statement runs
the catalog is mirrored into Trino's metastore (:mod:`zfish.trino.metastore`),
so Trino sees exactly what the last crawl registered, as Athena sees Glue.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

from zfish.catalog.query import QueryResult
from zfish.exceptions import QueryError
from zfish.settings import LakeLayout
from zfish.trino import install
from zfish.trino.engine import TrinoEngine
from zfish.trino.metastore import mirror
from zfish.trino.server import TrinoServer

_SERIAL = threading.Lock()
ENGINE_DUCKDB = "duckdb"
ENGINE_TRINO = "trino"
ENGINES = (ENGINE_DUCKDB, ENGINE_TRINO)


def work_dir(layout: LakeLayout) -> Path:
    """Trino's folder for one lake: configuration, metastore, JSON-lines copies, log."""
    key = hashlib.sha1(str(layout.dataset.resolve()).encode()).hexdigest()[:12]
    return install.cache_dir() / "servers" / key


def run_query(layout: LakeLayout, sql: str, *, server: TrinoServer | None = None) -> QueryResult:
    """Mirror the catalog, run ``sql``; the rows as zfish shows them.

    On ``server`` (a running one, kept running) or on one started and stopped for it.
    """
    if not layout.catalog_db.exists():
        raise QueryError(f"the catalog at {layout.catalog_db} is missing: run `zfish crawl` first")
    started = time.perf_counter()
    if server is not None:
        with _SERIAL:  # one mirror, then its statement: a later mirror rewrites the files
            mirror(layout, server.metastore, server.work / "copies" / "query")
            result = TrinoEngine(server.url).execute(sql)
    else:
        work = work_dir(layout)
        with TrinoServer(work) as server:
            mirror(layout, server.metastore, work / "copies")
            result = TrinoEngine(server.url).execute(sql)
    note = (
        f"answered by Trino {install.TRINO_VERSION} (started in {server.started_seconds or 0:.0f}s, "
        f"query {result.seconds:.2f}s)"
    )
    return QueryResult(
        table=result.to_arrow(), seconds=time.perf_counter() - started, notes=(note,)
    )
