"""The Athena corpus (tests/catalog/athena_corpus.py) against the session's small lake."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.catalog.athena_corpus import CASES, Case, Lake
from zfish.catalog.query import run_query

if TYPE_CHECKING:
    from zfish.ml.notebooks import SmallLake

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def lake(small_lake: SmallLake) -> Lake:
    return Lake.load(small_lake.layout)


def _normal(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_normal(v) for v in value)
    return value


def test_the_corpus_is_large_and_named_uniquely() -> None:
    names = [case.name for case in CASES]
    assert len(names) >= 60
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_corpus_query(lake: Lake, case: Case) -> None:
    expected = _normal(case.expect(lake))
    assert expected, f"{case.name}: the oracle found nothing to compare"
    table = run_query(lake.layout, case.sql).table
    rows = _normal(list(zip(*(c.to_pylist() for c in table.columns), strict=True)))
    assert rows == expected, case.sql
