"""Both Athena engines on the differential corpus: zfish's DuckDB translation and a real Trino 476.

A small lake (the notebooks' three evenings) is simulated, Trino is started
once over it (its start-up measured), and every statement of
``tests/trino/corpus.py`` runs on each engine one at a time, twice (the
first pass warms Trino's JIT and DuckDB's caches; the second is measured).
Printed: Trino's start-up and resident memory, each engine's median, 90th
percentile and total latency, and the ratio of the medians.

``--quick``: the first 60 statements only.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable

from benchmarks import measure


def _latencies(statements: list[str], run: Callable[[str], object]) -> list[float]:
    seconds = []
    for sql in statements:
        started = time.perf_counter()
        run(sql)
        seconds.append(time.perf_counter() - started)
    return seconds


def _summary(name: str, seconds: list[float]) -> str:
    p90 = statistics.quantiles(seconds, n=10)[-1] if len(seconds) >= 10 else max(seconds)
    return (
        f"{name:7} median {statistics.median(seconds) * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms   "
        f"total {sum(seconds):6.1f} s"
    )


def main(quick: bool = False) -> None:
    from tests.trino import differential as d
    from tests.trino.corpus import CASES
    from zfish.ml.notebooks import build_small_lake
    from zfish.trino.engine import TrinoEngine
    from zfish.trino.metastore import mirror
    from zfish.trino.server import TrinoServer

    work = measure.work_dir("zfish-bench-trino-", 200 << 20)
    try:
        print(f"simulating the small lake ... ({measure.load_note()})", flush=True)
        lake = build_small_lake(work / "small")
        statements = [sql for _, _, sql in CASES][: 60 if quick else None]
        with TrinoServer(work / "trino") as server:
            rss = server.rss_bytes() or 0
            print(
                f"Trino 476 ready in {server.started_seconds or 0:.1f} s, RSS {rss / 2**20:.0f} MiB",
                flush=True,
            )
            mirror(lake.layout, server.metastore, work / "trino" / "copies")
            engine = TrinoEngine(server.url)
            runners = {
                "duckdb": lambda sql: d.zfish_outcome(lake.layout, sql),
                "trino": lambda sql: d.trino_outcome(engine, sql),
            }
            results = {}
            for name, run in runners.items():
                _latencies(statements, run)  # warm-up pass
                results[name] = _latencies(statements, run)
        print(f"{len(statements)} statements, second pass ({measure.load_note()}):")
        for name, seconds in results.items():
            print("  " + _summary(name, seconds))
        ratio = statistics.median(results["trino"]) / statistics.median(results["duckdb"])
        print(f"  Trino's median latency is {ratio:.1f}x DuckDB's (Trino's start-up aside)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
