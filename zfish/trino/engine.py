"""Athena SQL on a running Trino through its Python client: rows, column types, Athena's error names.

Statements run in catalog ``awsdatacatalog``, schema ``zebra_fish_demo``, with
the session in UTC (Athena's session zone). A failing statement raises
:class:`~zfish.exceptions.AthenaQueryError` carrying Trino's own error name
(``DIVISION_BY_ZERO``, ``TABLE_NOT_FOUND``...) and position, which is what
Athena reports.

Right after start a node may take queries (``SELECT 1``) before it has announced its
catalogs, and a table scan then fails with ``NO_NODES_AVAILABLE`` (seen on a loaded
2-core machine, seconds after the server said it was ready). That error is retried for
up to ``NO_NODES_RETRY_SECONDS``: it means "not yet", never a wrong statement.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import trino.dbapi
import trino.exceptions

from zfish.exceptions import AthenaQueryError, QueryError
from zfish.settings import DATABASE
from zfish.trino.server import HIVE_CATALOG, USER

SESSION_ZONE = "UTC"
QUERY_TIMEOUT_SECONDS = 300
NO_NODES = "NO_NODES_AVAILABLE"
NO_NODES_RETRY_SECONDS = 60.0
_PARAMETERS = re.compile(r"\(.*\)")


@dataclass(frozen=True)
class TrinoResult:
    """What Trino answered: column names, their Trino types (``varchar(3)``...), the rows."""

    names: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]
    seconds: float

    @property
    def athena_types(self) -> list[str]:
        return [athena_type(t) for t in self.types]

    def to_arrow(self) -> pa.Table:
        """The rows as an Arrow table (a column Arrow cannot type is shown as text)."""
        columns: dict[str, pa.Array] = {}
        for i, name in enumerate(self.names):
            values = [row[i] for row in self.rows]
            try:
                columns[name if name not in columns else f"{name}_{i}"] = pa.array(values)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
                columns[name] = pa.array([None if v is None else str(v) for v in values])
        return pa.table(columns)


def athena_type(trino_type: str) -> str:
    """Athena's ColumnInfo.Type for a Trino type: its name without parameters.

    ``varchar(3)`` is ``varchar``, ``decimal(2,1)`` is ``decimal``,
    ``timestamp(3) with time zone`` is ``timestamp with time zone``,
    ``array(integer)`` is ``array``, ``row(a integer)`` is ``row``.
    """
    text = trino_type.strip().lower()
    head = text.split("(", 1)[0].strip()
    if head in ("array", "map", "row"):
        return head
    return " ".join(_PARAMETERS.sub("", text).split())


class TrinoEngine:
    """A connection to one Trino server; :meth:`execute` runs one statement."""

    def __init__(self, url: str) -> None:
        host, _, port = url.removeprefix("http://").partition(":")
        self.host = host
        self.port = int(port or 8080)

    def _connect(self) -> Any:
        return trino.dbapi.connect(  # type: ignore[no-untyped-call]
            host=self.host,
            port=self.port,
            user=USER,
            catalog=HIVE_CATALOG,
            schema=DATABASE,
            timezone=SESSION_ZONE,
            request_timeout=QUERY_TIMEOUT_SECONDS,
        )

    def execute(self, sql: str) -> TrinoResult:
        """Run ``sql`` (one statement; a trailing ``;`` is dropped, as Athena drops it)."""
        statement = sql.strip().removesuffix(";").strip()
        started = time.perf_counter()
        while True:
            try:
                return self._execute(statement, started)
            except AthenaQueryError as exc:
                if exc.code != NO_NODES or (time.perf_counter() - started > NO_NODES_RETRY_SECONDS):
                    raise
            time.sleep(0.5)

    def _execute(self, statement: str, started: float) -> TrinoResult:
        connection = self._connect()
        try:
            cursor = connection.cursor()
            cursor.execute(statement)
            rows = [tuple(row) for row in cursor.fetchall()]
            description = cursor.description or []
        except trino.exceptions.TrinoQueryError as exc:
            where = exc.error_location
            raise AthenaQueryError(
                exc.error_name or "GENERIC_INTERNAL_ERROR",
                where[0] if where else None,
                where[1] if where else None,
                _strip_location(exc.message),
            ) from None
        except (trino.exceptions.HttpError, trino.exceptions.TrinoConnectionError, OSError) as exc:
            raise QueryError(f"Trino at {self.host}:{self.port} did not answer: {exc}") from exc
        finally:
            connection.close()
        return TrinoResult(
            names=[str(d[0]) for d in description],
            types=[str(d[1]) for d in description],
            rows=rows,
            seconds=time.perf_counter() - started,
        )

    def execute_many(self, statements: list[str]) -> list[TrinoResult | AthenaQueryError]:
        """Each statement's result or error, in order (one connection per statement)."""
        out: list[TrinoResult | AthenaQueryError] = []
        for sql in statements:
            try:
                out.append(self.execute(sql))
            except AthenaQueryError as exc:
                out.append(exc)
        return out


def _strip_location(message: str) -> str:
    """Trino's message without its own ``line 1:8: `` prefix (the error carries the position)."""
    return re.sub(r"^line \d+:\d+: ", "", message)
