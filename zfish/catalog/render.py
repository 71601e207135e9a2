"""Printing query results: a readable table for people, CSV or JSON lines for scripts."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rich import box
from rich.table import Table

from zfish import console
from zfish.catalog.query import QueryResult, athena_text


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def print_result(result: QueryResult, fmt: str) -> None:
    rows = result.table.to_pylist()
    names = result.table.column_names
    if fmt == "json":
        for row in rows:
            sys.stdout.write(json.dumps({k: _plain(v) for k, v in row.items()}) + "\n")
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow(
                json.dumps(_plain(v)) if isinstance(v, (dict, list)) else _plain(v)
                for v in row.values()
            )
    else:
        table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
        table.add_column("#", justify="right", style="dim", no_wrap=True)
        for name in names:
            table.add_column(name, no_wrap=True)
        for i, row in enumerate(rows, start=1):
            table.add_row(str(i), *(athena_text(v) for v in row.values()))
        console.print_table(table)
    as_of = f" as of {result.as_of_instant}" if result.as_of_instant else ""
    console.note(f"{len(rows)} row(s){as_of} in {result.seconds:.2f}s")
