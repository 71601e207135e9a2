"""The program a warm Spark driver runs: one SparkSession kept up, Glue job scripts executed in it one at a time.

``spark-submit`` starts it once (:mod:`zfish.warmjob`); it then serves runs
over a Unix socket, one JSON request per connection: the script, its
``sys.argv`` and environment, and the file its output goes to. A script
runs as ``__main__`` with ``runpy`` in a fresh namespace. The session it
gets from ``SparkSession.builder.getOrCreate()`` (or ``SparkContext()``,
through the ``awsglue`` shim) is the warm one, and ``stop()`` is a no-op
while it runs, so the next run finds it still up. Run by ``spark-submit``
through a one-line launcher that imports it.
"""

from __future__ import annotations

import contextlib
import json
import os
import runpy
import socket
import sys
import traceback
from collections.abc import Iterator
from typing import Any

from pyspark import SparkContext
from pyspark.sql import SparkSession

READY = "zfish-warm-driver: ready"


@contextlib.contextmanager
def _stops_disabled() -> Iterator[None]:
    """``spark.stop()`` / ``sc.stop()`` in a script keep the warm session (restored after)."""
    session_stop, context_stop = SparkSession.stop, SparkContext.stop
    SparkSession.stop = lambda self: None  # type: ignore[method-assign]
    SparkContext.stop = lambda self: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        SparkSession.stop = session_stop  # type: ignore[method-assign]
        SparkContext.stop = context_stop  # type: ignore[method-assign]


@contextlib.contextmanager
def _output_to(path: str) -> Iterator[None]:
    """File descriptors 1 and 2 (Python's and native code's output) into the run's log."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "ab", buffering=0) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


@contextlib.contextmanager
def _environment(extra: dict[str, str], argv: list[str]) -> Iterator[None]:
    saved_env, saved_argv, saved_path = dict(os.environ), list(sys.argv), list(sys.path)
    os.environ.update(extra)
    sys.argv = argv
    sys.path.insert(0, os.path.dirname(argv[0]))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.argv, sys.path[:] = saved_argv, saved_path


def run_one(spark: SparkSession, request: dict[str, Any]) -> int:
    """Run one script; its exit code (1 for an uncaught exception, printed to its log)."""
    script = str(request["script"])
    code = 0
    with (
        _output_to(str(request["log"])),
        _environment(dict(request.get("env") or {}), [script, *request.get("argv", [])]),
        _stops_disabled(),
    ):
        try:
            runpy.run_path(script, run_name="__main__")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if exc.code is not None and not isinstance(exc.code, int):
                print(exc.code, file=sys.stderr)
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            # What one run cached or configured is not the next run's.
            spark.catalog.clearCache()
            spark.sparkContext.setJobGroup("zfish-warm", "between runs")
            spark.sparkContext.cancelJobGroup("zfish-warm")
    return code


def _exit_with_parent(pid: int) -> None:
    """End this driver when the server that started it is gone (even SIGKILLed)."""
    import threading
    import time

    def watch() -> None:
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass
            time.sleep(2)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> None:
    from zfish.spark import get_spark

    if os.environ.get("ZFISH_WARM_PARENT"):
        _exit_with_parent(int(os.environ["ZFISH_WARM_PARENT"]))

    path = os.environ["ZFISH_WARM_SOCKET"]
    # zfish's own session settings and the Hudi bundle (on the classpath through --jars).
    spark = get_spark("zfish-warm-driver", hudi=True)
    # Warm the JVM once (class loading, code generation) before the first run.
    spark.range(10).selectExpr("sum(id)").collect()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path + ".tmp")
    os.replace(path + ".tmp", path)  # the socket appears ready or not at all
    server.listen(1)
    print(READY, flush=True)
    while True:
        connection, _ = server.accept()
        with connection, connection.makefile("rwb") as stream:
            line = stream.readline()
            if not line:
                continue
            request = json.loads(line)
            if request.get("command") == "exit":
                return
            code = run_one(spark, request)
            stream.write((json.dumps({"exit_code": code}) + "\n").encode())
            stream.flush()
