"""Athena-style SQL over the catalog: ``zfish query 'SELECT * FROM "zebra_fish_demo"."outcomes";'``.

Each query gets a fresh in-memory DuckDB whose ``zebra_fish_demo`` schema
holds one view per catalogued table, built from what the catalog registered
(not from what is in the lake now), so uploads stay invisible until a crawl.
``joined_fish_data`` is read through the ``hudi`` package: its latest commit,
or the one ``as_of`` names.

Queries are read-only: one SELECT (or EXPLAIN) statement per call, file
access confined to the dataset folder, and the configuration locked before
the user's SQL runs.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from zfish.catalog import glue
from zfish.exceptions import QueryError
from zfish.settings import DATABASE, TABLE_NAME, LakeLayout

_ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


@dataclass(frozen=True)
class QueryResult:
    table: pa.Table
    seconds: float
    as_of_instant: str | None = None


def _references(sql: str, table: str) -> bool:
    return re.search(rf"\b{re.escape(table)}\b", sql, re.IGNORECASE) is not None


def run_query(layout: LakeLayout, sql: str, *, as_of: str | None = None) -> QueryResult:
    """Run one read-only statement against the catalog and return its rows."""
    started = time.perf_counter()
    con = duckdb.connect()
    try:
        try:
            statements = con.extract_statements(sql)
        except duckdb.Error as exc:
            raise QueryError(f"cannot parse the query: {exc}") from None
        if len(statements) != 1:
            raise QueryError(
                f"expected exactly one statement, got {len(statements)}; run them one at a time"
            )
        if statements[0].type not in _ALLOWED:
            raise QueryError(
                f"{statements[0].type.name} statements are not allowed: queries are read-only "
                "(SELECT or EXPLAIN); the lake changes only through upload, crawl and the ETL"
            )
        if as_of is not None and not _references(sql, TABLE_NAME):
            raise QueryError(
                f"--as-of applies to {DATABASE}.{TABLE_NAME}; the query does not read it"
            )
        tables = glue.load_tables(layout)
        if not tables:
            raise QueryError(
                f"the catalog at {layout.catalog_db} is empty or missing: run `zfish crawl` first"
            )
        con.execute(f"CREATE SCHEMA {glue.ident(DATABASE)}")
        instant = None
        for name, entry in tables.items():
            view = f"{glue.ident(DATABASE)}.{glue.ident(name)}"
            if entry.kind == glue.KIND_JSON:
                con.execute(f"CREATE VIEW {view} AS {glue.json_view_sql(layout, entry)}")
            elif entry.kind == glue.KIND_HUDI and _references(sql, name):
                from zfish import fishtable  # imports the Hudi stack only when needed

                table_path = entry.path(layout)
                if as_of is not None:
                    instant = fishtable.resolve_as_of(table_path, as_of)
                rows = fishtable.read(table_path, as_of=instant)
                con.register("_zfish_hudi_snapshot", rows)
                con.execute(f"CREATE VIEW {view} AS SELECT * FROM _zfish_hudi_snapshot")
        if as_of is not None and instant is None:
            raise QueryError(
                f"{DATABASE}.{TABLE_NAME} is not in the catalog yet: run the ETL or `zfish crawl`"
            )
        con.execute(f"SET allowed_directories = [{glue.literal(str(layout.dataset.resolve()))}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        try:
            result = con.sql(sql).to_arrow_table()
        except duckdb.Error as exc:
            known = ", ".join(f'"{DATABASE}"."{t}"' for t in tables)
            raise QueryError(f"{exc}\n  catalogued tables: {known}") from None
    finally:
        con.close()
    return QueryResult(table=result, seconds=time.perf_counter() - started, as_of_instant=instant)


def athena_text(value: object) -> str:
    """A cell as Athena's console shows it (structs as {k=v, ...}, null as empty)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={athena_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(athena_text(v) for v in value) + "]"
    return str(value)
