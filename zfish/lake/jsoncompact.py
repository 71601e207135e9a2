"""JSON compaction byte-identical to ``jq -c .`` (jq 1.6, as shipped by Debian and used by the seed).

The seed's upload script runs every JSON file through ``jq -c .`` before it
reaches S3. Python's ``json.dumps`` differs from jq in number formatting
(jq 1.6 stores every number as a double and prints ``5.0`` as ``5``, ``1e16``
as ``1e+16``, ``1e-5`` as ``1e-05``) and in which characters it escapes, so
this module reimplements jq's printer:

* numbers: shortest round-trip digits (David Gay's dtoa, which Python's
  ``repr(float)`` also uses), laid out by jq's ``jvp_dtoa_fmt`` rules;
  NaN prints as ``null``, infinities as +/-DBL_MAX;
* strings: ``\\" \\\\ \\b \\f \\n \\r \\t`` short escapes, other control characters
  and DEL as ``\\u00XX``, everything else raw UTF-8;
* objects keep first-seen key order; a repeated key keeps its first position
  and its last value;
* a file holding several top-level values gives one compact line per value.

Input jq rejects is rejected here too (with the reason), plus input jq would
silently mangle (invalid UTF-8, lone surrogates) and empty files, which hold
no JSON value at all.
"""

from __future__ import annotations

import json
import math
import sys
from decimal import Decimal
from typing import Any

_DBL_MAX = sys.float_info.max

_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
_ESCAPE_TABLE = {i: f"\\u{i:04x}" for i in (*range(0x20), 0x7F)}
_ESCAPE_TABLE.update({ord(k): v for k, v in _SHORT_ESCAPES.items()})


class JsonInputError(ValueError):
    """The bytes are not JSON jq would accept; ``reason`` says where and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def format_number(value: float | int) -> str:
    """Print a number the way jq 1.6 does."""
    if isinstance(value, bool):  # pragma: no cover - guarded by the caller
        raise TypeError("booleans are not numbers")
    try:
        x = float(value)
    except OverflowError:
        x = math.copysign(math.inf, value)
    if math.isnan(x):
        return "null"
    if math.isinf(x):
        x = math.copysign(_DBL_MAX, x)
    if x == 0.0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    sign = "-" if x < 0 else ""
    digits_tuple, exponent = Decimal(repr(abs(x))).as_tuple()[1:]
    assert isinstance(exponent, int)
    digits = "".join(map(str, digits_tuple)).rstrip("0")
    stripped = len(digits_tuple) - len(digits)
    digits = digits.lstrip("0")
    # value = 0.<digits> * 10**decpt, as dtoa reports it
    decpt = len(digits) + exponent + stripped
    if decpt <= -4 or decpt > len(digits) + 15:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        exp = decpt - 1
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if decpt <= 0:
        return f"{sign}0.{'0' * -decpt}{digits}"
    if len(digits) <= decpt:
        return f"{sign}{digits}{'0' * (decpt - len(digits))}"
    return f"{sign}{digits[:decpt]}.{digits[decpt:]}"


def _dump(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append('"' + value.translate(_ESCAPE_TABLE) + '"')
    elif isinstance(value, (int, float)):
        out.append(format_number(value))
    elif isinstance(value, list):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _dump(item, out)
        out.append("]")
    elif isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append('"' + key.translate(_ESCAPE_TABLE) + '":')
            _dump(item, out)
        out.append("}")
    else:  # pragma: no cover - json.loads produces nothing else
        raise TypeError(f"unexpected JSON value {value!r}")


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # dict() keeps the first position of a repeated key and its last value, like jq.
    return dict(pairs)


def _parse_constant(name: str) -> float:
    # jq 1.6 reads NaN and +/-Infinity although JSON has no such literals.
    if name == "NaN":
        return math.nan
    return math.copysign(math.inf, -1.0 if name.startswith("-") else 1.0)


def _parse_int(text: str) -> int | float:
    # jq keeps the sign of an integer zero ("-0"); Python's int cannot.
    return -0.0 if text == "-0" else int(text)


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object_pairs, parse_constant=_parse_constant, parse_int=_parse_int
)


def parse_values(data: bytes) -> list[Any]:
    """Parse every top-level JSON value in ``data``, or raise :class:`JsonInputError`."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonInputError(
            f"not UTF-8 (byte {exc.start}: {data[exc.start : exc.start + 1]!r}); "
            "re-save the file as UTF-8"
        ) from None
    values: list[Any] = []
    pos = 0
    length = len(text)
    while True:
        while pos < length and text[pos] in " \t\n\r":
            pos += 1
        if pos >= length:
            break
        try:
            value, pos = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise JsonInputError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
        except RecursionError:
            raise JsonInputError("nesting too deep to parse") from None
        values.append(value)
    if not values:
        raise JsonInputError("empty file: no JSON value; delete it or write the record into it")
    return values


def compact_values(values: list[Any]) -> bytes:
    """Render parsed values as ``jq -c .`` prints them: one line per value."""
    out: list[str] = []
    for value in values:
        _dump(value, out)
        out.append("\n")
    text = "".join(out)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise JsonInputError(
            f"lone UTF-16 surrogate \\u{ord(text[exc.start]):04x} in a string; jq rejects it: "
            "fix the \\uXXXX escape in the source file"
        ) from None


def compact(data: bytes) -> bytes:
    """``jq -c .`` of the given file contents."""
    return compact_values(parse_values(data))
