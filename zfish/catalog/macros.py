"""DuckDB macros and functions for the Trino semantics a translation alone cannot express.

:mod:`zfish.catalog.dialect` rewrites a Trino function or operator into a call
of one of these (``ZF_...``) where DuckDB's own differs (an error Trino
raises, a NULL it returns, an order it keeps). Each query's connection gets
them before the user's SQL runs (:func:`install`).

A Trino error is raised as a failing cast of ``'<ERROR_NAME>: <message>'`` to
an integer (``zf_fail``, used where an index or a count is computed, so the
expression keeps its type), which ``zfish.catalog.query`` reports under that
name. Not ``error()``: DuckDB's ``TRY`` (Trino's ``try()``) refuses a volatile
function, and a failing cast is what it catches.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

import duckdb

_MACROS = r"""
CREATE MACRO zf_fail(name, message) AS CAST(name || ': ' || message AS INTEGER);
CREATE MACRO zf_subscript(a, i) AS a[CASE
    WHEN i = 0 THEN zf_fail('INVALID_FUNCTION_ARGUMENT', 'SQL array indices start at 1')
    WHEN i < 0 THEN zf_fail('INVALID_FUNCTION_ARGUMENT', 'Array subscript is negative: ' || i)
    WHEN i > len(a) THEN zf_fail('INVALID_FUNCTION_ARGUMENT',
        'Array subscript must be less than or equal to array length: ' || i || ' > ' || len(a))
    ELSE i END];
CREATE MACRO zf_element_at(a, i) AS a[CASE
    WHEN i = 0 THEN zf_fail('INVALID_FUNCTION_ARGUMENT', 'SQL array indices start at 1')
    ELSE i END];
CREATE MACRO zf_map_subscript(m, k) AS map_extract(m, k)[CASE
    WHEN m IS NULL OR k IS NULL OR map_contains(m, k) THEN 1
    ELSE zf_fail('INVALID_FUNCTION_ARGUMENT', 'Key not present in map: ' || CAST(k AS VARCHAR))
    END];
CREATE MACRO zf_substr(s, start) AS CASE
    WHEN start = 0 OR abs(start) > length(s) THEN ''
    WHEN start > 0 THEN substring(s, start)
    ELSE substring(s, length(s) + start + 1) END,
(s, start, n) AS CASE
    WHEN start = 0 OR abs(start) > length(s) OR n <= 0 THEN ''
    WHEN start > 0 THEN substring(s, start, n)
    ELSE substring(s, length(s) + start + 1, n) END;
CREATE MACRO zf_split_part(s, d, i) AS string_split(s, d)[CASE
    WHEN i <= 0 THEN zf_fail('INVALID_FUNCTION_ARGUMENT', 'Index must be greater than zero')
    ELSE i END];
CREATE MACRO zf_strpos(s, sub, n) AS CASE
    WHEN n = 0 THEN zf_fail('INVALID_FUNCTION_ARGUMENT', '''instance'' must be a positive or negative number.')
    WHEN n > 0 THEN CAST(coalesce(list_extract(list_filter(
        range(1, length(s) + 1), lambda p: substring(s, p, length(sub)) = sub), n), 0) AS BIGINT)
    ELSE CAST(coalesce(list_extract(list_reverse(list_filter(
        range(1, length(s) + 1), lambda p: substring(s, p, length(sub)) = sub)), -n), 0) AS BIGINT) END;
CREATE MACRO zf_slice(a, start, n) AS CASE
    WHEN start = 0 OR n < 0 THEN list_slice(a, CASE
        WHEN start = 0 THEN zf_fail('INVALID_FUNCTION_ARGUMENT', 'SQL array indices start at 1')
        ELSE zf_fail('INVALID_FUNCTION_ARGUMENT', 'length must be greater than or equal to 0')
        END, 0)
    WHEN start > 0 THEN list_slice(a, start, start + n - 1)
    WHEN len(a) + start + 1 < 1 THEN list_slice(a, 1, 0)
    ELSE list_slice(a, len(a) + start + 1, len(a) + start + n) END;
CREATE MACRO zf_array_distinct(a) AS
    list_filter(a, lambda x, i: coalesce(list_position(a, x), i) = i);
CREATE MACRO zf_array_max(a) AS CASE WHEN list_count(a) < len(a) THEN NULL ELSE list_max(a) END;
CREATE MACRO zf_array_min(a) AS CASE WHEN list_count(a) < len(a) THEN NULL ELSE list_min(a) END;
CREATE MACRO zf_array_position(a, x) AS CAST(coalesce(list_position(a, x), 0) AS BIGINT);
CREATE MACRO zf_array_union(a, b) AS zf_array_distinct(list_concat(a, b));
CREATE MACRO zf_array_intersect(a, b) AS
    zf_array_distinct(list_filter(a, lambda x: list_contains(b, x)));
CREATE MACRO zf_array_except(a, b) AS
    zf_array_distinct(list_filter(a, lambda x: NOT list_contains(b, x)));
CREATE MACRO zf_arrays_overlap(a, b) AS CASE
    WHEN len(list_filter(a, lambda x: list_contains(b, x))) > 0 THEN true
    WHEN list_count(a) < len(a) OR list_count(b) < len(b) THEN NULL
    ELSE false END;
CREATE MACRO zf_trim_array(a, n) AS list_slice(a, 1, len(a) - n);
CREATE MACRO zf_repeat(x, n) AS list_transform(range(n), lambda i: x);
CREATE MACRO zf_is_finite(x) AS isfinite(CAST(x AS DOUBLE));
CREATE MACRO zf_is_infinite(x) AS isinf(CAST(x AS DOUBLE));
CREATE MACRO zf_codepoint(s) AS CAST(unicode(s) AS INTEGER);
CREATE MACRO zf_from_base(s, radix) AS CAST(list_reduce(
    list_transform(string_split(lower(s), ''), lambda c: CASE
        WHEN strpos('0123456789abcdefghijklmnopqrstuvwxyz', c) BETWEEN 1 AND radix
        THEN strpos('0123456789abcdefghijklmnopqrstuvwxyz', c) - 1
        ELSE zf_fail('INVALID_FUNCTION_ARGUMENT', 'Not a valid base-' || radix || ' number: ' || s)
        END),
    lambda acc, d: acc * radix + d, 0) AS BIGINT);
CREATE MACRO zf_current_timezone() AS current_setting('TimeZone');
CREATE MACRO zf_millisecond(t) AS CAST(millisecond(t) % 1000 AS BIGINT);
CREATE MACRO zf_to_iso8601_date(d) AS strftime(d, '%Y-%m-%d');
CREATE MACRO zf_to_iso8601_timestamp(t) AS strftime(t, '%Y-%m-%dT%H:%M:%S.%g');
CREATE MACRO zf_to_iso8601_timestamptz(t) AS strftime(t, '%Y-%m-%dT%H:%M:%S.%gZ');
CREATE MACRO zf_map_entries(m) AS map_entries(m);
CREATE MACRO zf_hamming_distance(a, b) AS CASE
    WHEN length(a) <> length(b) THEN CAST(zf_fail('INVALID_FUNCTION_ARGUMENT',
        'The input strings to hamming_distance function must have the same length') AS BIGINT)
    ELSE CAST(hamming(a, b) AS BIGINT) END;
CREATE MACRO zf_levenshtein(a, b) AS CAST(levenshtein(a, b) AS BIGINT);
CREATE MACRO zf_width_bucket(x, lo, hi, n) AS CAST(CASE
    WHEN x < lo THEN 0 WHEN x >= hi THEN n + 1
    ELSE floor((x - lo) / (hi - lo) * n) + 1 END AS BIGINT);
CREATE MACRO zf_nan() AS CAST('NaN' AS DOUBLE);
CREATE MACRO zf_bit_count(x, bits) AS CAST(bit_count(CAST(x AS BIGINT)) AS BIGINT);
CREATE MACRO zf_map_agg(k, v) AS map(list(k), list(v));
CREATE MACRO zf_split(s, d) AS string_split(s, CASE WHEN d = '' THEN
    CAST(zf_fail('INVALID_FUNCTION_ARGUMENT', 'The delimiter may not be the empty string')
    AS VARCHAR) ELSE d END);
CREATE MACRO zf_split_limit(s, d, n) AS CASE
    WHEN n <= 0 THEN list_slice(['x'], zf_fail('INVALID_FUNCTION_ARGUMENT',
        'Limit must be positive'), 0)
    WHEN len(zf_split(s, d)) <= n THEN zf_split(s, d)
    ELSE list_append(list_slice(zf_split(s, d), 1, n - 1),
        array_to_string(list_slice(zf_split(s, d), n, len(zf_split(s, d))), d)) END;
CREATE MACRO zf_regexp_position(s, p) AS CAST(CASE
    WHEN NOT regexp_matches(s, p) THEN -1
    ELSE strpos(s, regexp_extract(s, p)) END AS INTEGER),
(s, p, start) AS CAST(CASE
    WHEN NOT regexp_matches(substring(s, start), p) THEN -1
    ELSE strpos(substring(s, start), regexp_extract(substring(s, start), p)) + start - 1
    END AS INTEGER);
CREATE MACRO zf_date_sequence(a, b) AS list_transform(
    generate_series(CAST(a AS TIMESTAMP), CAST(b AS TIMESTAMP), INTERVAL 1 DAY),
    lambda t: CAST(t AS DATE));
CREATE MACRO zf_infinity() AS CAST('Infinity' AS DOUBLE);
CREATE MACRO zf_to_base(x, r) AS CASE WHEN x = 0 THEN '0' ELSE
    (CASE WHEN x < 0 THEN '-' ELSE '' END) || array_to_string(list_reverse(list_transform(
        list_filter(range(0, 64), lambda i: i = 0 OR pow(r, i) <= abs(x)),
        lambda i: substring('0123456789abcdefghijklmnopqrstuvwxyz',
            CAST((abs(x) // CAST(pow(r, i) AS BIGINT)) % r AS BIGINT) + 1, 1))), '') END;
CREATE MACRO zf_split_to_map(s, entry, kv) AS map_from_entries(list_transform(
    string_split(s, entry), lambda e: {'k': split_part(e, kv, 1),
        'v': substring(e, strpos(e, kv) + length(kv))}));
CREATE MACRO zf_contains_sequence(a, b) AS len(b) = 0 OR len(list_filter(
    range(1, len(a) - len(b) + 2), lambda i: list_slice(a, i, i + len(b) - 1) = b)) > 0;
CREATE MACRO zf_json_size(j, p) AS CAST(CASE json_type(json_extract(j, p))
    WHEN 'ARRAY' THEN json_array_length(json_extract(j, p))
    WHEN 'OBJECT' THEN len(json_keys(json_extract(j, p)))
    ELSE 0 END AS BIGINT);
CREATE MACRO zf_json_exists(j, p) AS json_exists(j, p);
CREATE MACRO zf_json_index(i) AS CASE WHEN i >= 0 THEN '$[' || i || ']' ELSE '$[#' || i || ']' END;
CREATE MACRO zf_json_array_get(j, i) AS zf_json_text(CASE
    WHEN json_type(j) <> 'ARRAY' THEN NULL
    WHEN json_type(json_extract(j, zf_json_index(i))) = 'VARCHAR'
    THEN json_extract_string(j, zf_json_index(i))
    ELSE CAST(json_extract(j, zf_json_index(i)) AS VARCHAR) END);
CREATE MACRO zf_json_array_contains(j, x) AS CASE
    WHEN json_type(j) <> 'ARRAY' THEN NULL
    ELSE list_contains(list_transform(json_extract(j, '$[*]'), lambda e: CAST(e AS VARCHAR)),
        CAST(to_json(x) AS VARCHAR)) END;
CREATE MACRO zf_json_varchar(j) AS CASE
    WHEN json_type(j) IN ('OBJECT', 'ARRAY') THEN CAST(zf_fail('INVALID_CAST_ARGUMENT',
        'Cannot cast ''' || CAST(j AS VARCHAR) || ''' to varchar') AS VARCHAR)
    ELSE json_extract_string(j, '$') END;
CREATE MACRO zf_from_iso8601_date(s) AS CASE
    WHEN regexp_full_match(s, '\d{4}-W\d{2}(-\d)?') THEN
        make_date(CAST(s[1:4] AS INTEGER), 1, 4)
        - CAST(isodow(make_date(CAST(s[1:4] AS INTEGER), 1, 4)) - 1 AS INTEGER)
        + (CAST(s[7:8] AS INTEGER) - 1) * 7
        + coalesce(CAST(nullif(s[10:10], '') AS INTEGER), 1) - 1
    WHEN regexp_full_match(s, '\d{4}-\d{3}') THEN
        make_date(CAST(s[1:4] AS INTEGER), 1, 1) + CAST(s[6:8] AS INTEGER) - 1
    WHEN regexp_full_match(s, '\d{4}') THEN make_date(CAST(s AS INTEGER), 1, 1)
    WHEN regexp_full_match(s, '\d{4}-\d{2}') THEN CAST(s || '-01' AS DATE)
    ELSE CAST(s AS DATE) END;
CREATE MACRO zf_typeof(x) AS regexp_replace(regexp_replace(regexp_replace(
    lower(typeof(x)), '^struct\(', 'row('), '^(.*)\[\]$', 'array(\1)'),
    '^timestamp with time zone$', 'timestamp(3) with time zone');
"""


def _java_double_text(value: float | None) -> str | None:
    """``CAST(double AS varchar)`` as Trino writes it: Java's shortest digits, always as ``dE<exp>``."""
    if value is None:
        return None
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0E0" if math.copysign(1.0, value) < 0 else "0.0E0"
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(str(d) for d in digit_tuple).rstrip("0") or "0"
    power = len(digit_tuple) + exponent - 1
    mantissa = text[0] + "." + (text[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{power}"


def _real_text(value: float | None) -> str | None:
    """``CAST(real AS varchar)``: the shortest digits that identify the 32-bit float."""
    if value is None:
        return None
    import numpy as np

    return _java_double_text(float(str(np.float32(value))))


def _java_upper(value: str | None) -> str | None:
    """``upper`` as Java's per-character mapping: a letter without a one-letter capital stays (ß)."""
    if value is None:
        return None
    if value.isascii():
        return value.upper()
    return "".join(u if len(u := c.upper()) == 1 else c for c in value)


def _cbrt(value: float | None) -> float | None:
    """The cube root rounded to the nearest double, as Java's is (cbrt(27) is 3.0; libm's is not).

    libm's answer and its two neighbours are the candidates; the one whose cube
    is nearest, computed exactly, wins.
    """
    if value is None or not math.isfinite(value) or value == 0:
        return None if value is None else math.cbrt(value)
    guess = math.cbrt(value)
    candidates = (math.nextafter(guess, -math.inf), guess, math.nextafter(guess, math.inf))
    target = Fraction(value)
    return min(candidates, key=lambda c: abs(Fraction(c) ** 3 - target))


def _same_text(value: str | None) -> str | None:
    """A text as a JSON value without reparsing it (json_array_get's unquoted strings)."""
    return value


_NAME = re.compile(r"\bzf_\w+", re.IGNORECASE)
# name -> its CREATE MACRO statement, in definition order (a macro may use earlier ones).
_DEFINITIONS: dict[str, str] = {
    m.group(1).lower(): m.group(0)
    for m in re.finditer(r"CREATE MACRO (zf_\w+)\(.*?;\n", _MACROS, re.DOTALL)
}
# name -> (function, argument types, result type)
_FUNCTIONS: dict[str, tuple[Any, list[str], str]] = {
    "zf_double_text": (_java_double_text, ["DOUBLE"], "VARCHAR"),
    "zf_real_text": (_real_text, ["FLOAT"], "VARCHAR"),
    "zf_upper": (_java_upper, ["VARCHAR"], "VARCHAR"),
    "zf_cbrt": (_cbrt, ["DOUBLE"], "DOUBLE"),
    "zf_json_text": (_same_text, ["VARCHAR"], "JSON"),
}


def _needed(sql: str) -> list[str]:
    """The macros ``sql`` calls, with the ones they call, in definition order."""
    wanted: set[str] = set()
    todo = [n.lower() for n in _NAME.findall(sql)]
    while todo:
        name = todo.pop()
        if name in wanted or name not in _DEFINITIONS:
            continue
        wanted.add(name)
        todo.extend(n.lower() for n in _NAME.findall(_DEFINITIONS[name]))
    return [name for name in _DEFINITIONS if name in wanted]


def install(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Create the macros and functions that ``sql`` calls on a query's connection.

    Only those: a fresh connection per query makes each creation count.
    """
    needed = _needed(sql)
    called = {n.lower() for n in _NAME.findall(sql)}
    for name in needed:
        called.update(n.lower() for n in _NAME.findall(_DEFINITIONS[name]))
    # Functions first: a macro's body is bound when it is created.
    for name in sorted(called & set(_FUNCTIONS)):
        function, arguments, result = _FUNCTIONS[name]
        con.create_function(  # type: ignore[call-overload]
            name, function, arguments, result, null_handling="special"
        )
    for name in needed:
        con.execute(_DEFINITIONS[name])
