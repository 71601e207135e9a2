"""``zfish.lake.jsoncompact`` prints exactly what ``jq -c .`` (jq 1.6) prints."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zfish.lake.jsoncompact import JsonInputError, compact, format_number

# Recorded from jq-1.6 (Debian bookworm), the jq the seed's upload script runs.
JQ16_GOLDEN = [
    (b'{\n  "a": 1,\n  "b": [true, false, null]\n}\n', b'{"a":1,"b":[true,false,null]}\n'),
    (b"[5.0, 1e2, 0.1e1, 1E2, 5.0e0]", b"[5,100,1,100,5]\n"),
    (
        b"[1000000, 1e15, 1e16, 1e17, 1.5e16]",
        b"[1000000,1000000000000000,1e+16,1e+17,15000000000000000]\n",
    ),
    (b"[0.0001, 0.00001, 0.000123, 12.5e-5, -1e-5]", b"[0.0001,1e-05,0.000123,0.000125,-1e-05]\n"),
    (b"[123456789012345678, 9007199254740993]", b"[123456789012345680,9007199254740992]\n"),
    (b"[1.23456789012345678e20, 123e18]", b"[123456789012345680000,1.23e+20]\n"),
    (b"[1e400, -1e400, 1e-400]", b"[1.7976931348623157e+308,-1.7976931348623157e+308,0]\n"),
    (b"[-0, -0.0, 0.30000000000000004, 4.62]", b"[-0,-0,0.30000000000000004,4.62]\n"),
    (b"[123456789012345678901234567890]", b"[123456789012345680000000000000]\n"),
    (b"[NaN, Infinity, -Infinity]", b"[null,1.7976931348623157e+308,-1.7976931348623157e+308]\n"),
    (
        b'"\\u0000\\u001f\\u007f\\u0080\\ud800\\udc00 \\ud83d\\ude00 /\\/"',
        '"\\u0000\\u001f\\u007f\u0080\U00010000 \U0001f600 //"\n'.encode(),
    ),
    (b'"\\b\\f\\n\\r\\t\\"\\\\\\/"', b'"\\b\\f\\n\\r\\t\\"\\\\/"\n'),
    (b'{"k": true, "j": 1, "k": false}', b'{"k":false,"j":1}\n'),
    (b'{"a":1} {"b":2}\n[1,\n2]', b'{"a":1}\n{"b":2}\n[1,2]\n'),
    (b'\xef\xbb\xbf{"a":1}', b'{"a":1}\n'),
    ('{"s": "é 😀 ü"}'.encode(), '{"s":"é 😀 ü"}\n'.encode()),
    (
        b'[{"fish_id": "zfish_00015", "condition_developed": true}]',
        b'[{"fish_id":"zfish_00015","condition_developed":true}]\n',
    ),
]


@pytest.mark.parametrize(("source", "expected"), JQ16_GOLDEN)
def test_matches_recorded_jq16_output(source: bytes, expected: bytes) -> None:
    assert compact(source) == expected


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        (b"", "empty file"),
        (b"   \n", "empty file"),
        (b'{"a":1,}', "line 1"),
        (b'{"a": "\xff"}', "not UTF-8"),
        (b'"\\ud800x"', "surrogate"),
        (b'"a\tb"', "Invalid control character"),
        (b"[1, 2", "line 1"),
    ],
)
def test_rejects_what_jq_rejects_with_a_reason(source: bytes, fragment: str) -> None:
    with pytest.raises(JsonInputError) as info:
        compact(source)
    assert fragment in info.value.reason


def test_number_layout_rules() -> None:
    assert format_number(5) == "5"
    assert format_number(2.5) == "2.5"
    assert format_number(-2.5e-7) == "-2.5e-07"
    assert format_number(1.5e300) == "1.5e+300"
    assert format_number(0.001) == "0.001"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values)
def test_round_trips_to_the_same_value_within_double_precision(value: object) -> None:
    out = compact(json.dumps(value, indent=2).encode())
    assert out.endswith(b"\n")
    assert out.count(b"\n") == 1

    def as_double(v: object) -> object:
        if isinstance(v, bool) or v is None or isinstance(v, str):
            return v
        if isinstance(v, (int, float)):
            return float(v)
        if isinstance(v, list):
            return [as_double(x) for x in v]
        assert isinstance(v, dict)
        return {k: as_double(x) for k, x in v.items()}

    assert as_double(json.loads(out)) == as_double(value)


def _jq16() -> str | None:
    jq = shutil.which("jq")
    if jq is None:
        return None
    version = subprocess.run([jq, "--version"], capture_output=True, text=True).stdout.strip()
    return jq if version == "jq-1.6" else None


@pytest.mark.skipif(
    _jq16() is None, reason="jq-1.6 not on PATH; the recorded golden cases cover it"
)
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(json_values, min_size=1, max_size=30))
def test_byte_identical_to_the_real_jq16(values: list[object]) -> None:
    source = "\n".join(json.dumps(v, indent=2, ensure_ascii=False) for v in values).encode()
    jq = _jq16()
    assert jq is not None
    expected = subprocess.run([jq, "-c", "."], input=source, capture_output=True, check=True).stdout
    assert compact(source) == expected
