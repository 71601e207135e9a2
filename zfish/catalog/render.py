"""Printing query results as Athena does: its console's text, its result CSV, or JSON lines.

Values are written the way Athena (Trino) prints them: booleans ``true``,
timestamps ``2025-05-10 12:00:00.000`` (``... UTC`` with a zone), structs and
maps ``{gene_a=true, gene_b=false}``, arrays ``[1, 3, 5]``. The CSV is
Athena's result file: a header, every field quoted, NULL an empty unquoted
field (an empty string is ``""``). JSON lines keep numbers numbers (DuckDB's
128-bit sums and counts as integers, decimals as numbers) and write the
other values as Athena prints them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pyarrow as pa
from rich import box
from rich.table import Table

from zfish import console
from zfish.catalog.query import QueryResult


def _timestamp(value: datetime, zone: bool) -> str:
    text = value.strftime("%Y-%m-%d %H:%M:%S") + f".{value.microsecond // 1000:03d}"
    return f"{text} UTC" if zone else text


def athena_text(value: object, kind: pa.DataType | None = None) -> str:
    """A value as Athena's console and result CSV show it (NULL as empty)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        zone = value.tzinfo is not None or (
            kind is not None and pa.types.is_timestamp(kind) and kind.tz is not None
        )
        return _timestamp(value, zone)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S") + f".{value.microsecond // 1000:03d}"
    if isinstance(value, bytes):
        return " ".join(f"{b:02x}" for b in value)
    if isinstance(value, dict):
        fields = kind.fields if kind is not None and pa.types.is_struct(kind) else None
        types = {f.name: f.type for f in fields} if fields else {}
        return (
            "{" + ", ".join(f"{k}={athena_text(v, types.get(k))}" for k, v in value.items()) + "}"
        )
    if isinstance(value, list):
        if kind is not None and pa.types.is_map(kind):
            items = ", ".join(
                f"{athena_text(k, kind.key_type)}={athena_text(v, kind.item_type)}"
                for k, v in value
            )
            return "{" + items + "}"
        inner = kind.value_type if kind is not None and _is_list(kind) else None
        return "[" + ", ".join(athena_text(v, inner) for v in value) + "]"
    return str(value)


def _is_list(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)
    )


def _json_value(value: Any, kind: pa.DataType | None) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return (
            value if value == value and value not in (float("inf"), float("-inf")) else str(value)
        )
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and value.as_tuple().exponent == 0:
            return int(value)
        return float(value)  # a JSON number (doubles' precision: 15-17 digits)
    if isinstance(value, dict):
        types = (
            {f.name: f.type for f in kind.fields}
            if kind is not None and pa.types.is_struct(kind)
            else {}
        )
        return {k: _json_value(v, types.get(k)) for k, v in value.items()}
    if isinstance(value, list):
        if kind is not None and pa.types.is_map(kind):
            return {athena_text(k, kind.key_type): _json_value(v, kind.item_type) for k, v in value}
        inner = kind.value_type if kind is not None and _is_list(kind) else None
        return [_json_value(v, inner) for v in value]
    return athena_text(value, kind)


def _rows(table: pa.Table) -> Iterator[tuple[Any, ...]]:
    """Rows as tuples (result columns may share a name)."""
    return zip(*(column.to_pylist() for column in table.columns), strict=True)


def json_lines(table: pa.Table) -> Iterator[str]:
    """One JSON object per row."""
    names, types = table.column_names, table.schema.types
    for row in _rows(table):
        values = {n: _json_value(v, t) for n, v, t in zip(names, row, types, strict=True)}
        yield json.dumps(values, ensure_ascii=False)


def _csv_field(value: Any, kind: pa.DataType) -> str:
    if value is None:
        return ""
    return '"' + athena_text(value, kind).replace('"', '""') + '"'


def csv_lines(table: pa.Table) -> Iterator[str]:
    """Athena's result CSV: header, every field quoted, NULL empty and unquoted."""
    yield ",".join('"' + n.replace('"', '""') + '"' for n in table.column_names)
    types = table.schema.types
    for row in _rows(table):
        yield ",".join(_csv_field(v, t) for v, t in zip(row, types, strict=True))


def print_result(result: QueryResult, fmt: str) -> None:
    for note in result.notes:
        console.note(f"note: {note}")
    table = result.table
    if fmt == "json":
        for line in json_lines(table):
            sys.stdout.write(line + "\n")
    elif fmt == "csv":
        for line in csv_lines(table):
            sys.stdout.write(line + "\n")
    else:
        view = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
        view.add_column("#", justify="right", style="dim", no_wrap=True)
        for name in table.column_names:
            view.add_column(name, no_wrap=True)
        types = table.schema.types
        for i, row in enumerate(_rows(table), start=1):
            cells = (athena_text(v, t) for v, t in zip(row, types, strict=True))
            view.add_row(str(i), *cells)
        console.print_table(view)
    as_of = f" as of {result.as_of_instant}" if result.as_of_instant else ""
    console.note(f"{table.num_rows} row(s){as_of} in {result.seconds:.2f}s")
