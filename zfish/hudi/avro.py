"""Arrow <-> Avro schemas with Hudi's naming, and normalization of incoming Arrow data.

The table schema lives in each commit's ``extraMetadata.schema`` as an Avro
record schema without meta fields. Spark (the strict reader) derives its read
schema from it and checks it against the parquet physical types, so the Arrow
data written here is first normalized to exactly the types the Avro schema says:

=====================  =======================================  ========================
Arrow input            Avro                                     parquet / Arrow written
=====================  =======================================  ========================
bool                   boolean                                  bool
int8/int16/int32       int                                      int32
int64                  long                                     int64
float32 / float64      float / double                           same
string, large_string   string                                   string
binary, large_binary   bytes                                    binary
date32                 int, logicalType date                    date32
timestamp[any, tz?]    long, logicalType timestamp-micros       timestamp[us, tz=UTC]
decimal128(p, s)       fixed (Spark's size for p), decimal      decimal128(p, s)
struct                 record ``<field>``, namespace = parent   struct
list / large_list      array                                    list
map                    map (string keys only)                   map
=====================  =======================================  ========================

Naming follows Spark/Hudi (``AvroConversionUtils``): the top record is
``<table>_record`` in namespace ``hoodie.<table>``; a nested record is named
after its field with the parent's full name as namespace; a decimal is a fixed
named ``fixed`` in namespace ``<parent full name>.<field>``. Every field,
element and map value is nullable (``["null", T]`` with ``"default": null``),
which is what Spark produces for its usual nullable columns and keeps later
JVM writes schema-compatible. Naive timestamps are taken as UTC; nanoseconds are
truncated to microseconds (Spark 3.5 cannot read INT64 NANOS).

Checked against the JVM Hudi 0.15 writer (tests/hudi/test_two_writers.py): for
the same input both write the same Avro schema, byte for byte, in the commit
and in the ``parquet.avro.schema`` footer, and the same Parquet physical and
logical type for every leaf column (strings, ints, longs, floats, doubles,
booleans, FIXED_LEN_BYTE_ARRAY decimals of Spark's size, DATE, TIMESTAMP(MICROS,
UTC), binary, nested structs, maps, lists). Where the files differ, it is the
JVM's parquet-avro choice and every reader (Spark, parquet-avro, pyarrow,
hudi-rs) handles both forms, so zfish keeps pyarrow's:

* lists: parquet-avro writes the legacy 2-level form (``repeated int32 array``;
  ``parquet.avro.write-old-list-structure=true``), pyarrow the standard 3-level
  one (``repeated group list { optional int32 element }``), one more definition
  level; pyarrow cannot write 2-level lists. The JVM reads and merges 3-level
  files and zfish 2-level ones (tested both ways). The 2-level form has no place
  for a null element, so the JVM cannot rewrite a file holding one ("Array
  contains a null element", tested): ``check_no_null_list_elements`` refuses
  such input, as the JVM refuses it on its own writes;
* maps: parquet-avro annotates the ``key_value`` group ``MAP_KEY_VALUE``;
* the Parquet root group is named after the Avro record
  (``hoodie.<table>.<table>_record``), pyarrow's is ``schema``.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from zfish.exceptions import InputDataError, SchemaError
from zfish.hudi.options import AVRO_NAMESPACE_PREFIX, META_COLUMNS, META_PREFIX

AvroType = Any  # a JSON value: str, dict or list

TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")


def min_bytes_for_precision(precision: int) -> int:
    """Spark's ``minBytesForPrecision``: the fixed size that holds any decimal of this precision."""
    n = 1
    while 2 ** (8 * n - 1) < 10**precision:
        n += 1
    return n


# --- Arrow -> normalized Arrow ----------------------------------------------------------------


def normalize_type(dtype: pa.DataType, path: str) -> pa.DataType:
    """The Arrow type zfish writes for an input type, or ``SchemaError`` naming the column."""
    if pa.types.is_dictionary(dtype):
        return normalize_type(dtype.value_type, path)
    if pa.types.is_boolean(dtype):
        return pa.bool_()
    if pa.types.is_integer(dtype):
        if pa.types.is_unsigned_integer(dtype):
            raise SchemaError(
                f"column '{path}' is {dtype}; Avro and Spark have no unsigned integers. "
                "Fix: cast it to a signed type (int64 holds every uint32)."
            )
        return pa.int64() if dtype.bit_width == 64 else pa.int32()
    if pa.types.is_float32(dtype):
        return pa.float32()
    if pa.types.is_float64(dtype):
        return pa.float64()
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return pa.string()
    if pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype):
        return pa.binary()
    if pa.types.is_date32(dtype) or pa.types.is_date64(dtype):
        return pa.date32()
    if pa.types.is_timestamp(dtype):
        return TIMESTAMP_TYPE
    if pa.types.is_decimal(dtype):
        if dtype.precision > 38:
            raise SchemaError(
                f"column '{path}' is {dtype}; Spark decimals hold at most 38 digits. "
                "Fix: cast it to decimal128 with precision <= 38."
            )
        return pa.decimal128(dtype.precision, dtype.scale)
    if pa.types.is_struct(dtype):
        if dtype.num_fields == 0:
            raise SchemaError(f"column '{path}' is an empty struct. Fix: drop it.")
        for i in range(dtype.num_fields):
            _check_name(dtype.field(i).name, f"{path}.{dtype.field(i).name}")
        return pa.struct(
            [
                pa.field(f.name, normalize_type(f.type, f"{path}.{f.name}"))
                for f in (dtype.field(i) for i in range(dtype.num_fields))
            ]
        )
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return pa.list_(pa.field("element", normalize_type(dtype.value_type, f"{path}[]")))
    if pa.types.is_map(dtype):
        if not (pa.types.is_string(dtype.key_type) or pa.types.is_large_string(dtype.key_type)):
            raise SchemaError(
                f"column '{path}' is a map with {dtype.key_type} keys; Avro maps have string "
                "keys. Fix: cast the keys to string."
            )
        return pa.map_(pa.string(), normalize_type(dtype.item_type, f"{path}{{}}"))
    if pa.types.is_null(dtype):
        raise SchemaError(
            f"column '{path}' has Arrow type null (no values to infer a type from). "
            "Fix: cast it to the type it will hold, e.g. pa.string()."
        )
    raise SchemaError(
        f"column '{path}' has type {dtype}, which zfish.hudi does not write. "
        "Fix: cast it to one of bool, int32/64, float/double, string, binary, date32, "
        "timestamp, decimal128, struct, list or map."
    )


def normalize_schema(schema: pa.Schema) -> pa.Schema:
    """Normalize every data column (all nullable, no metadata); rejects ``_hoodie_*`` columns."""
    fields = []
    seen: set[str] = set()
    for f in schema:
        if f.name.startswith(META_PREFIX):
            raise SchemaError(
                f"input column '{f.name}' uses Hudi's reserved '_hoodie_' prefix; zfish writes the "
                "meta columns itself. Fix: drop the column (select only data columns)."
            )
        if f.name in seen:
            raise SchemaError(f"input column '{f.name}' appears twice. Fix: rename one of them.")
        seen.add(f.name)
        _check_name(f.name, f.name)
        fields.append(pa.field(f.name, normalize_type(f.type, f.name)))
    return pa.schema(fields)


def _check_name(name: str, path: str) -> None:
    ok = bool(name) and (name[0].isalpha() or name[0] == "_") and name.isascii()
    ok = ok and all(c.isalnum() or c == "_" for c in name)
    if not ok:
        raise SchemaError(
            f"column '{path}' is not a valid Avro name ([A-Za-z_][A-Za-z0-9_]*), which Hudi "
            "needs for its schema. Fix: rename the column."
        )


def cast_column(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    """Cast to a normalized type: timestamps to us UTC (truncating ns), strings to utf8, ..."""
    if column.type.equals(target):
        return column
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    if pa.types.is_timestamp(target) and pa.types.is_timestamp(column.type):
        if column.type.tz is None:
            column = pc.cast(column, pa.timestamp(column.type.unit, tz="UTC"))
        return pc.cast(column, target, safe=False)
    return pc.cast(column, target)


def _has_list(dtype: pa.DataType) -> bool:
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return True
    if pa.types.is_struct(dtype):
        return any(_has_list(dtype.field(i).type) for i in range(dtype.num_fields))
    if pa.types.is_map(dtype):
        return _has_list(dtype.item_type)
    return False


def _null_elements(arr: pa.Array, path: str) -> tuple[str, int] | None:
    """The first list (by path) holding null elements in ``arr``, and how many."""
    dtype = arr.type
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        values = arr.flatten()  # only the elements of non-null lists, offsets respected
        if values.null_count:
            return f"{path}[]", values.null_count
        return _null_elements(values, f"{path}[]")
    if pa.types.is_struct(dtype):
        children = arr.flatten()  # the struct's own nulls pushed down to its fields
        for i, child in enumerate(children):
            found = _null_elements(child, f"{path}.{dtype.field(i).name}")
            if found:
                return found
    if pa.types.is_map(dtype) and _has_list(dtype.item_type):
        # MapArray.items ignores slicing; the offsets do not.
        items = pa.ListArray.from_arrays(arr.offsets, arr.items).flatten()
        return _null_elements(items, f"{path}{{}}")
    return None


def check_no_null_list_elements(column: pa.ChunkedArray, name: str, table: str) -> None:
    """Refuse list elements that are null: the JVM writer cannot rewrite such files.

    Hudi 0.15's parquet-avro writes lists in the legacy 2-level form
    (``parquet.avro.write-old-list-structure=true``), which has no place for a
    null element: a JVM upsert into a file group holding one fails with
    "Array contains a null element" (tested), and the JVM refuses such rows on
    its own writes too. Null or empty lists are fine.
    """
    if not _has_list(column.type):
        return
    for chunk in column.chunks:
        found = _null_elements(chunk, name)
        if found:
            where, count = found
            raise InputDataError(
                f"input: column '{where}' of table '{table}' holds {count} null list "
                "element(s); Hudi's JVM writer (parquet-avro 2-level lists) cannot write them, "
                "so a later Spark upsert into these files would fail with 'Array contains a "
                "null element'. Fix: drop the null elements (or use an empty or null list)."
            )


# --- Arrow -> Avro ----------------------------------------------------------------------------


def record_name(table_name: str) -> str:
    return f"{table_name}_record"


def record_namespace(table_name: str) -> str:
    return f"{AVRO_NAMESPACE_PREFIX}.{table_name}"


def _nullable(avro: AvroType) -> list[AvroType]:
    return ["null", avro]


def _avro_type(dtype: pa.DataType, name: str, namespace: str) -> AvroType:
    """Spark's ``SchemaConverters.toAvroType(type, nullable, recordName=name, nameSpace)``."""
    if pa.types.is_boolean(dtype):
        return "boolean"
    if pa.types.is_int32(dtype):
        return "int"
    if pa.types.is_int64(dtype):
        return "long"
    if pa.types.is_float32(dtype):
        return "float"
    if pa.types.is_float64(dtype):
        return "double"
    if pa.types.is_string(dtype):
        return "string"
    if pa.types.is_binary(dtype):
        return "bytes"
    if pa.types.is_date32(dtype):
        return {"type": "int", "logicalType": "date"}
    if pa.types.is_timestamp(dtype):
        return {"type": "long", "logicalType": "timestamp-micros"}
    if pa.types.is_decimal(dtype):
        return {
            "type": "fixed",
            "name": "fixed",
            "namespace": f"{namespace}.{name}",
            "size": min_bytes_for_precision(dtype.precision),
            "logicalType": "decimal",
            "precision": dtype.precision,
            "scale": dtype.scale,
        }
    if pa.types.is_struct(dtype):
        child_ns = f"{namespace}.{name}" if namespace else name
        return {
            "type": "record",
            "name": name,
            "namespace": namespace,
            "fields": [
                _avro_field(dtype.field(i).name, dtype.field(i).type, child_ns)
                for i in range(dtype.num_fields)
            ],
        }
    if pa.types.is_list(dtype):
        return {"type": "array", "items": _nullable(_avro_type(dtype.value_type, name, namespace))}
    if pa.types.is_map(dtype):
        return {"type": "map", "values": _nullable(_avro_type(dtype.item_type, name, namespace))}
    raise SchemaError(f"field '{name}' has type {dtype}, which has no Avro mapping")


def _avro_field(name: str, dtype: pa.DataType, namespace: str) -> dict[str, AvroType]:
    return {"name": name, "type": _nullable(_avro_type(dtype, name, namespace)), "default": None}


def to_avro_schema(schema: pa.Schema, table_name: str) -> dict[str, AvroType]:
    """The Avro record schema (without meta fields) of a normalized Arrow schema."""
    namespace = record_namespace(table_name)
    name = record_name(table_name)
    child_ns = f"{namespace}.{name}"
    return {
        "type": "record",
        "name": name,
        "namespace": namespace,
        "fields": [_avro_field(f.name, f.type, child_ns) for f in schema],
    }


def with_meta_fields(avro_schema: dict[str, AvroType]) -> dict[str, AvroType]:
    """The schema parquet-avro footers carry: the five meta fields first (HoodieAvroUtils)."""
    meta = [
        {"name": name, "type": ["null", "string"], "doc": "", "default": None}
        for name in META_COLUMNS
    ]
    return {**avro_schema, "fields": meta + list(avro_schema["fields"])}


def dumps(avro_schema: dict[str, AvroType]) -> str:
    """Compact JSON, as Avro's ``Schema.toString()`` writes it."""
    return json.dumps(avro_schema, separators=(",", ":"))


# --- Avro -> Arrow ----------------------------------------------------------------------------


def _strip_null(avro: AvroType) -> AvroType:
    if isinstance(avro, list):
        branches = [b for b in avro if b != "null"]
        if len(branches) != 1:
            raise SchemaError(f"unsupported Avro union {avro}")
        return branches[0]
    return avro


def _arrow_type(avro: AvroType, named: dict[str, pa.DataType]) -> pa.DataType:
    avro = _strip_null(avro)
    if isinstance(avro, str):
        primitive = {
            "boolean": pa.bool_(),
            "int": pa.int32(),
            "long": pa.int64(),
            "float": pa.float32(),
            "double": pa.float64(),
            "string": pa.string(),
            "bytes": pa.binary(),
        }
        if avro in primitive:
            return primitive[avro]
        if avro in named:
            return named[avro]
        raise SchemaError(f"unsupported Avro type {avro!r}")
    kind = avro["type"]
    logical = avro.get("logicalType")
    if kind == "int" and logical == "date":
        return pa.date32()
    if kind == "long" and logical in ("timestamp-micros", "timestamp-millis"):
        return TIMESTAMP_TYPE
    if kind in ("fixed", "bytes") and logical == "decimal":
        dtype = pa.decimal128(int(avro["precision"]), int(avro.get("scale", 0)))
        if kind == "fixed":
            _register(avro, dtype, named)
        return dtype
    if kind == "record":
        dtype = pa.struct(
            [pa.field(f["name"], _arrow_type(f["type"], named)) for f in avro["fields"]]
        )
        _register(avro, dtype, named)
        return dtype
    if kind == "array":
        return pa.list_(pa.field("element", _arrow_type(avro["items"], named)))
    if kind == "map":
        return pa.map_(pa.string(), _arrow_type(avro["values"], named))
    if kind == "enum":
        return pa.string()
    if isinstance(kind, str):
        # A wrapped primitive ({"type": "string"}) or a logical type we read as its base type.
        return _arrow_type(kind, named)
    raise SchemaError(f"unsupported Avro type {avro!r}")


def _register(avro: dict[str, Any], dtype: pa.DataType, named: dict[str, pa.DataType]) -> None:
    name = avro["name"]
    namespace = avro.get("namespace")
    named[name] = dtype
    if namespace:
        named[f"{namespace}.{name}"] = dtype


def from_avro_schema(avro_schema: str | dict[str, AvroType]) -> pa.Schema:
    """The normalized Arrow schema of an Avro record schema; meta fields are dropped."""
    parsed = json.loads(avro_schema) if isinstance(avro_schema, str) else avro_schema
    named: dict[str, pa.DataType] = {}
    fields = [
        pa.field(f["name"], _arrow_type(f["type"], named))
        for f in parsed["fields"]
        if f["name"] not in META_COLUMNS
    ]
    return pa.schema(fields)


# --- schema evolution -------------------------------------------------------------------------


def evolve(table_schema: pa.Schema | None, incoming: pa.Schema, table: str) -> pa.Schema:
    """The write schema: table columns in table order, then new incoming columns.

    Adding columns is allowed (old rows read them as null). A table column
    missing from the input, or arriving with another type, raises
    ``SchemaError`` naming the column and the fix.
    """
    if table_schema is None:
        return incoming
    for f in table_schema:
        idx = incoming.get_field_index(f.name)
        if idx < 0:
            raise SchemaError(
                f"table '{table}': input has no column '{f.name}' ({f.type}); dropping columns is "
                "not supported (Hudi refuses it too). Fix: add the column to the input, null "
                "where unknown."
            )
        got = incoming.field(idx).type
        if not got.equals(f.type):
            raise SchemaError(
                f"table '{table}': column '{f.name}' is {got} in the input but {f.type} in the "
                "table; changing a column type is not supported. Fix: cast the input column to "
                f"{f.type}, or write to a new table."
            )
    new = [f for f in incoming if table_schema.get_field_index(f.name) < 0]
    return pa.schema(list(table_schema) + new)
