"""zfish.hudi.keygen: record keys and partition paths like Hudi's key generators."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from zfish.exceptions import InputDataError, SchemaError
from zfish.hudi import keygen as kg
from zfish.hudi.options import COMPLEX_KEYGEN, NONPARTITIONED_KEYGEN, SIMPLE_KEYGEN


def test_default_keygen_choice() -> None:
    assert kg.default_keygen(["id"], ["day"]) == SIMPLE_KEYGEN
    assert kg.default_keygen(["id", "name"], ["day"]) == COMPLEX_KEYGEN
    assert kg.default_keygen(["id"], ["a", "b"]) == COMPLEX_KEYGEN
    assert kg.default_keygen(["id"], []) == NONPARTITIONED_KEYGEN


def test_simple_keys_are_java_string_values() -> None:
    table = pa.table(
        {
            "i": pa.array([1, -2, 30], pa.int32()),
            "s": ["a", "b c", "ü"],
            "b": [True, False, True],
            "d": pa.array([dt.date(2024, 1, 2), dt.date(1999, 12, 31), dt.date(2024, 2, 29)]),
        }
    )
    assert kg.record_keys(table, ["i"], SIMPLE_KEYGEN).to_pylist() == ["1", "-2", "30"]
    assert kg.record_keys(table, ["s"], SIMPLE_KEYGEN).to_pylist() == ["a", "b c", "ü"]
    assert kg.record_keys(table, ["b"], SIMPLE_KEYGEN).to_pylist() == ["true", "false", "true"]
    assert kg.record_keys(table, ["d"], SIMPLE_KEYGEN).to_pylist() == [
        "2024-01-02",
        "1999-12-31",
        "2024-02-29",
    ]


def test_complex_keys_match_fixture_format() -> None:
    # Spark fixture v6_complexkeygen_hivestyle stores "id:1,name:Alice".
    table = pa.table({"id": [1, None, 3], "name": ["Alice", "Bob", ""]})
    keys = kg.record_keys(table, ["id", "name"], COMPLEX_KEYGEN).to_pylist()
    assert keys == ["id:1,name:Alice", "id:__null__,name:Bob", "id:3,name:__empty__"]
    # A single-field ComplexKeyGenerator keeps the "field:value" form (Glue 0.15).
    assert kg.record_keys(table.slice(0, 1), ["id"], COMPLEX_KEYGEN).to_pylist() == ["id:1"]


@pytest.mark.parametrize("bad", [None, ""])
def test_null_or_empty_simple_key_is_an_error_naming_the_field(bad: str | None) -> None:
    table = pa.table({"image_id": ["a", bad]})
    with pytest.raises(InputDataError, match="image_id"):
        kg.record_keys(table, ["image_id"], SIMPLE_KEYGEN)


def test_all_null_complex_key_is_an_error() -> None:
    table = pa.table(
        {"a": [None], "b": [""]}, schema=pa.schema([("a", pa.int64()), ("b", pa.string())])
    )
    with pytest.raises(InputDataError, match="null or empty"):
        kg.record_keys(table, ["a", "b"], COMPLEX_KEYGEN)


def test_partition_paths_plain_hive_default_and_nested() -> None:
    table = pa.table({"day": ["2024-01-01", None, ""], "n": pa.array([10, 20, None], pa.int8())})
    assert kg.partition_paths(table, ["day"], False).to_pylist() == [
        "2024-01-01",
        "__HIVE_DEFAULT_PARTITION__",
        "__HIVE_DEFAULT_PARTITION__",
    ]
    assert kg.partition_paths(table, ["day", "n"], True).to_pylist() == [
        "day=2024-01-01/n=10",
        "day=__HIVE_DEFAULT_PARTITION__/n=20",
        "day=__HIVE_DEFAULT_PARTITION__/n=__HIVE_DEFAULT_PARTITION__",
    ]
    assert kg.partition_paths(table, [], False).to_pylist() == ["", "", ""]


@pytest.mark.parametrize("value", ["a/b", ".hidden", "x\\y"])
def test_partition_values_that_are_not_one_directory_are_refused(value: str) -> None:
    with pytest.raises(InputDataError, match="day"):
        kg.partition_paths(pa.table({"day": [value]}), ["day"], False)


@pytest.mark.parametrize(
    "dtype", [pa.float64(), pa.timestamp("us", tz="UTC"), pa.list_(pa.int32()), pa.decimal128(5, 2)]
)
def test_key_types_without_a_stable_string_form_are_refused(dtype: pa.DataType) -> None:
    with pytest.raises(SchemaError, match="Fix: derive"):
        kg.check_key_type("k", dtype, "record key")
