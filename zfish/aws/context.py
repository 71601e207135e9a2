"""What every service handler of one endpoint shares: the lake, the credentials, the region, the stop flag."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from zfish.aws.auth import CredentialStore
from zfish.settings import LakeLayout

if TYPE_CHECKING:
    from zfish.trino.server import TrinoServer

DEFAULT_REGION = "us-east-1"
ACCOUNT_ID = "000000000000"
# S3's own limit for one PUT is 5 GiB.
DEFAULT_MAX_BODY_BYTES = 5 * 1024**3


class SharedLock:
    """Many readers or one writer: queries read the catalog while a crawl waits, and the other way round.

    Needed within one process: DuckDB refuses to open the catalog file read-only
    while a connection of the same process has it open for writing.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writer)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writer and self._readers == 0)
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


@dataclass
class EndpointContext:
    layout: LakeLayout
    credentials: CredentialStore = field(default_factory=CredentialStore.single)
    region: str = DEFAULT_REGION
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    stopping: threading.Event = field(default_factory=threading.Event)
    # The catalog file: Athena queries share it, Glue crawls take it alone.
    catalog_lock: SharedLock = field(default_factory=SharedLock)
    # Glue job runs in one warm Spark driver (zfish.warmjob) instead of a spark-submit each.
    warm_jobs: bool = True
    # Called once when the server stops (services close their stores here).
    on_close: list[Callable[[], None]] = field(default_factory=list)
    # zfish serve --athena-engine trino: the warm Trino 476 that answers Athena's queries.
    trino: TrinoServer | None = None

    def close(self) -> None:
        while self.on_close:
            self.on_close.pop()()
