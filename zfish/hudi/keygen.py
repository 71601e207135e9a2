"""Record keys and partition paths, as Hudi's key generators build them (vectorized over Arrow).

* ``SimpleKeyGenerator``: one key field, one partition field; the key is the
  value as a string (``1`` -> ``"1"``); a null or empty key is an error, as in Hudi.
* ``ComplexKeyGenerator``: ``f1:v1,f2:v2``; a null part is ``__null__``, an empty
  one ``__empty__``; all parts null/empty is an error.

  With a **single key field** the two Hudi 0.15 builds disagree. OSS Hudi
  0.15.0 writes the plain value ``v1``: ``ComplexAvroKeyGenerator.getRecordKey``
  calls the single-field ``KeyGenUtils.getRecordKey`` when there is one field,
  and the Spark-row path (``BuiltinKeyGenerator.combineCompositeRecordKeyInternal``)
  prefixes field names only ``if (recordKeyParts.length > 1)``; 0.15.0 has no
  option to change it. AWS Glue 5.0 ships 0.15.0 with HUDI-7001 reverted and
  writes ``f1:v1``, as every Hudi before 0.14.1 did. A writer with the other
  encoding does not find existing keys and inserts duplicates, so zfish follows
  the table it finds: the keys of the newest commit in the newest base file
  decide (``infer_single_field_encoding``). Only a table without rows uses
  ``WriteOptions.complex_key_encoding``, whose default is ``FIELD_PREFIXED``
  (``f1:v1``, AWS Glue 5.0, zfish's parity target); ``VALUE_ONLY`` is OSS 0.15.
  Prefer ``SimpleKeyGenerator`` for a single key field: both builds agree on it.
* ``NonpartitionedKeyGenerator``: like Simple (or Complex for several key
  fields), partition path ``""``.

Partition paths join one segment per field with ``/``; a segment is the value
(``field=value`` with hive-style partitioning) and null or empty values become
``__HIVE_DEFAULT_PARTITION__`` (KeyGenUtils). Values are not URL-encoded
(``urlencode=false``), so a value that would create a nested or hidden directory
is refused rather than silently splitting a partition.

Key and partition fields must be strings, integers, booleans or dates: those are
the types whose string form is the same in Hudi's Avro and Spark-row key paths.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from zfish.exceptions import InputDataError, SchemaError
from zfish.hudi.options import (
    COMMIT_TIME_FIELD,
    COMPLEX_KEYGEN,
    EMPTY_RECORDKEY_PLACEHOLDER,
    HIVE_DEFAULT_PARTITION,
    NONPARTITIONED_KEYGEN,
    NULL_RECORDKEY_PLACEHOLDER,
    RECORD_KEY_FIELD,
    SIMPLE_KEYGEN,
    ComplexKeyEncoding,
)


def default_keygen(record_key_fields: Sequence[str], partition_fields: Sequence[str]) -> str:
    """The key generator class Hudi picks for these fields."""
    if not partition_fields:
        return NONPARTITIONED_KEYGEN
    if len(record_key_fields) == 1 and len(partition_fields) == 1:
        return SIMPLE_KEYGEN
    return COMPLEX_KEYGEN


def check_key_type(field: str, dtype: pa.DataType, role: str) -> None:
    """Refuse key/partition field types whose Hudi string form we cannot reproduce exactly."""
    ok = (
        pa.types.is_string(dtype)
        or pa.types.is_large_string(dtype)
        or pa.types.is_integer(dtype)
        or pa.types.is_boolean(dtype)
        or pa.types.is_date32(dtype)
    )
    if not ok:
        raise SchemaError(
            f"{role} field '{field}' has type {dtype}; zfish.hudi supports string, integer, "
            f"boolean and date {role} fields. Fix: derive a string or date column for it."
        )


def _as_string(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    """Java ``String.valueOf`` of each value (dates as ``yyyy-MM-dd``, booleans lower-case)."""
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column])
    dtype = column.type
    if pa.types.is_boolean(dtype):
        return pc.if_else(column, "true", pc.if_else(pc.is_null(column), None, "false"))
    if pa.types.is_date32(dtype):
        return pc.strftime(pc.cast(column, pa.timestamp("s")), format="%Y-%m-%d")
    return pc.cast(column, pa.string())


def record_keys(
    table: pa.Table,
    fields: Sequence[str],
    keygen: str,
    *,
    context: str = "input",
    encoding: ComplexKeyEncoding = ComplexKeyEncoding.FIELD_PREFIXED,
) -> pa.ChunkedArray:
    """The ``_hoodie_record_key`` value of every row; raises ``InputDataError`` on null/empty keys.

    ``encoding`` only matters for a ComplexKeyGenerator with one key field (see above).
    """
    complex_format = len(fields) > 1 or (
        keygen == COMPLEX_KEYGEN and encoding is ComplexKeyEncoding.FIELD_PREFIXED
    )
    if not complex_format:
        name = fields[0]
        values = _as_string(table.column(name))
        bad = pc.or_kleene(pc.is_null(values), pc.equal(values, ""))
        bad_count = pc.sum(pc.fill_null(bad, True)).as_py() or 0
        if bad_count:
            raise InputDataError(
                f"{context}: record key field '{name}' is null or empty in {bad_count} row(s); "
                "Hudi refuses such records. Fix: drop or repair those rows before writing."
            )
        return values
    parts = []
    all_missing = None
    for name in fields:
        values = _as_string(table.column(name))
        missing = pc.or_kleene(pc.is_null(values), pc.equal(values, ""))
        missing = pc.fill_null(missing, True)
        all_missing = missing if all_missing is None else pc.and_(all_missing, missing)
        filled = pc.if_else(
            pc.is_null(values),
            NULL_RECORDKEY_PLACEHOLDER,
            pc.if_else(pc.equal(values, ""), EMPTY_RECORDKEY_PLACEHOLDER, values),
        )
        parts.append(pc.binary_join_element_wise(f"{name}:", filled, ""))
    assert all_missing is not None
    bad_count = pc.sum(all_missing).as_py() or 0
    if bad_count:
        raise InputDataError(
            f"{context}: all record key fields {list(fields)} are null or empty in {bad_count} "
            "row(s); Hudi refuses such records. Fix: drop or repair those rows before writing."
        )
    joined: pa.ChunkedArray = pc.binary_join_element_wise(*parts, ",")
    return joined


def partition_paths(
    table: pa.Table, fields: Sequence[str], hive_style: bool, *, context: str = "input"
) -> pa.ChunkedArray:
    """The ``_hoodie_partition_path`` of every row (``""`` for a non-partitioned table)."""
    if not fields:
        return pa.chunked_array([pa.array([""] * table.num_rows, pa.string())])
    segments = []
    for name in fields:
        values = _as_string(table.column(name))
        values = pc.if_else(
            pc.fill_null(pc.equal(values, ""), True), HIVE_DEFAULT_PARTITION, values
        )
        _check_partition_values(values, name, context)
        if hive_style:
            values = pc.binary_join_element_wise(f"{name}=", values, "")
        segments.append(values)
    if len(segments) == 1:
        return segments[0]
    joined: pa.ChunkedArray = pc.binary_join_element_wise(*segments, "/")
    return joined


def _check_partition_values(values: pa.ChunkedArray, name: str, context: str) -> None:
    bad = pc.or_(
        pc.match_substring_regex(values, r"[/\\]"),
        pc.starts_with(values, "."),
    )
    if pc.any(bad).as_py():
        example = values.filter(bad)[0].as_py()
        raise InputDataError(
            f"{context}: partition field '{name}' has value {example!r}, which would not be one "
            "directory (a '/' or '\\' nests directories, a leading '.' hides it from readers). "
            "Fix: clean the partition values before writing."
        )


def sample_record_keys(source: pa.NativeFile | str) -> list[str]:
    """The record keys a base file's newest commit wrote (its latest writer's encoding)."""
    data = pq.ParquetFile(source).read(columns=[COMMIT_TIME_FIELD, RECORD_KEY_FIELD])
    if data.num_rows == 0:
        return []
    times = data.column(COMMIT_TIME_FIELD)
    newest = pc.max(times)
    keys = data.column(RECORD_KEY_FIELD).filter(pc.equal(times, newest))
    return [k for k in keys.to_pylist() if k is not None]


def infer_single_field_encoding(field: str, keys: Sequence[str]) -> ComplexKeyEncoding | None:
    """The encoding of single-field complex keys (``field:v`` or ``v``), None without keys."""
    if not keys:
        return None
    prefixed = sum(k.startswith(f"{field}:") for k in keys)
    if prefixed * 2 > len(keys):
        return ComplexKeyEncoding.FIELD_PREFIXED
    return ComplexKeyEncoding.VALUE_ONLY
