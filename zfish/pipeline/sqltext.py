"""Spark SQL text for the ETL's expressions: quoted names, string literals, DDL types.

The checks and transforms are written as SQL expression strings handed to
``selectExpr`` rather than built from ``Column`` objects: each ``Column`` call
is a py4j round trip (a warm evening built about 2,700 of them, about 0.3 s),
and each DataFrame step an analyzer pass over the whole plan; one
``selectExpr`` per step is a handful of round trips.
"""

from __future__ import annotations

from pyspark.sql import types as T


def ident(name: str) -> str:
    """A column or field name, back-quoted (names like ``timestamp`` are keywords)."""
    return "`" + name.replace("`", "``") + "`"


def string(text: str) -> str:
    """A string literal (Spark SQL unescapes backslashes inside quotes by default)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ddl(dtype: T.DataType) -> str:
    """A type as Spark SQL writes it, struct field names quoted: ``array<struct<`a`:string>>``."""
    if isinstance(dtype, T.StructType):
        return (
            "struct<" + ",".join(f"{ident(f.name)}:{ddl(f.dataType)}" for f in dtype.fields) + ">"
        )
    if isinstance(dtype, T.ArrayType):
        return f"array<{ddl(dtype.elementType)}>"
    if isinstance(dtype, T.MapType):
        return f"map<{ddl(dtype.keyType)},{ddl(dtype.valueType)}>"
    return dtype.simpleString()


def when(condition: str, value: str) -> str:
    """``value`` where ``condition`` holds, else NULL."""
    return f"CASE WHEN {condition} THEN {value} END"


def coalesce(values: list[str]) -> str:
    return values[0] if len(values) == 1 else f"coalesce({', '.join(values)})"


NO_NAMES = "CAST(array() AS array<string>)"
