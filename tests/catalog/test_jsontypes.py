"""The crawler's type inference and widening rules, one rule per test."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from zfish.catalog import jsontypes as jt
from zfish.catalog.glue import glue_type, type_name


def kinds(*values: object) -> object:
    """The unified type of several JSON values, as the crawler would see them in turn."""
    merged: object = jt.NULL
    for value in values:
        merged = jt.unify(merged, jt.infer(value))
    return merged


def test_integers_are_int_while_they_fit_32_bits_as_in_glue() -> None:
    assert jt.infer(1) == jt.INTEGER
    assert jt.infer(2**31 - 1) == jt.INTEGER
    assert jt.infer(-(2**31)) == jt.INTEGER
    assert jt.infer(2**31) == jt.BIGINT
    assert jt.infer(-(2**31) - 1) == jt.BIGINT
    assert jt.infer(2**63) == jt.DOUBLE  # beyond bigint: only a double holds it
    assert jt.infer(1.5) == jt.DOUBLE
    assert jt.infer(True) == jt.BOOLEAN  # not an int, although bool is one in Python


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ((1, 2**40), "bigint"),  # int -> bigint
        ((2**40, 1), "bigint"),  # order does not matter
        ((1, 2.5), "double"),  # int -> double
        ((2**40, 2.5), "double"),  # bigint -> double
        ((2.5, 1), "double"),
        ((1, "one"), "string"),  # a number vs a string: string
        ((2.5, "x"), "string"),
        ((True, 1), "string"),  # boolean vs number: no numeric type holds both
        ((True, "yes"), "string"),
        ((None, 3), "int"),  # null says nothing
        ((3, None), "int"),
        ((None, None), "string"),  # all-null: catalogued as string
    ],
)
def test_scalar_widening(values: tuple[object, ...], expected: str) -> None:
    assert type_name(kinds(*values)) == expected


def test_structs_merge_field_by_field_in_first_seen_order() -> None:
    merged = kinds({"a": 1, "b": {"x": True}}, {"b": {"y": "s", "x": False}, "c": 2.5})
    assert type_name(merged) == "struct<a:int,b:struct<x:boolean,y:string>,c:double>"


def test_fields_inside_structs_widen_too() -> None:
    assert type_name(kinds({"m": {"w": 1}}, {"m": {"w": 0.5}})) == "struct<m:struct<w:double>>"


def test_arrays_unify_their_elements() -> None:
    assert type_name(jt.infer([1, 2**40, 3])) == "array<bigint>"
    assert type_name(kinds([1], [2.5])) == "array<double>"
    assert type_name(kinds([{"a": 1}], [{"b": "x"}])) == "array<struct<a:int,b:string>>"
    assert type_name(jt.infer([])) == "array<string>"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({"a": 1}, "text"),  # struct vs scalar
        ("text", {"a": 1}),  # scalar vs struct
        ([1], 1),  # array vs scalar
        ({"a": 1}, [1]),  # struct vs array
    ],
)
def test_structure_against_anything_else_is_a_clash_and_keeps_the_first(
    old: object, new: object
) -> None:
    clashes: list[jt.Clash] = []
    kept = jt.unify(jt.infer({"f": old}), jt.infer({"f": new}), clashes)
    assert kept == jt.infer({"f": old})
    assert clashes == [jt.Clash("f", jt.infer(old), jt.infer(new))]


def test_clash_paths_name_nested_fields_and_array_elements() -> None:
    clashes: list[jt.Clash] = []
    jt.unify(jt.infer({"m": {"g": True}}), jt.infer({"m": {"g": {"x": 1}}}), clashes)
    jt.infer({"tags": [1, {"a": 1}]}, clashes)
    assert [c.path for c in clashes] == ["m.g", "tags[]"]


def test_changes_between_two_schemas() -> None:
    old = jt.infer({"a": 1, "m": {"x": True}, "gone": "s", "t": 2.5})
    new = jt.infer({"a": 2**40, "m": {"x": True, "y": 1}, "t": 1, "n": "s"})
    assert jt.changes(old, new) == [
        jt.Change("a", jt.WIDENED, jt.INTEGER, jt.BIGINT),
        jt.Change("m.y", jt.ADDED, new=jt.INTEGER),
        jt.Change("t", jt.CHANGED, jt.DOUBLE, jt.INTEGER),  # narrowed: not a widening
        jt.Change("n", jt.ADDED, new=jt.VARCHAR),
        jt.Change("gone", jt.REMOVED, old=jt.VARCHAR),
    ]
    assert jt.changes(old, old) == []


def test_render_and_parse_round_trip_and_duckdb_accepts_the_type() -> None:
    kind = jt.infer({"a b": 1, 'q"uote': {"c,d": [1, 2.5]}, "p(": True, "big": 2**40})
    text = jt.render(kind)
    assert jt.parse(text) == kind
    (described,) = duckdb.sql(f"SELECT NULL::{text} AS v").types
    assert jt.parse(str(described)) == kind
    assert (
        glue_type(text) == 'struct<a b:int,q"uote:struct<c,d:array<double>>,p(:boolean,big:bigint>'
    )


def test_infer_file_unrolls_arrays_and_reports_clashes_inside_the_file(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps([{"a": 1}, {"a": 2.5, "b": "s"}]) + "\n" + json.dumps({"a": [1]}))
    clashes: list[jt.Clash] = []
    schema = jt.infer_file(path, clashes)
    assert type_name(schema) == "struct<a:double,b:string>"
    assert clashes == [jt.Clash("a", jt.DOUBLE, jt.List(jt.INTEGER))]
