from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.stores import FilterError, compile_filter

DOC: dict[str, Any] = {
    "kind": "news",
    "year": 2021,
    "tags": ["a", "b"],
    "meta": {"lang": "en"},
    "flag": True,
    "flags": [True, False],
}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"kind": "news"}, True),
        ({"kind": {"$eq": "blog"}}, False),
        ({"kind": {"$ne": "blog"}}, True),
        ({"missing": {"$ne": 1}}, True),
        ({"year": {"$gt": 2020, "$lte": 2021}}, True),
        ({"year": {"$gte": 2022}}, False),
        ({"year": {"$lt": "2022"}}, False),  # a number never compares with a string
        ({"year": {"$in": [2019, 2021]}}, True),
        ({"year": {"$nin": [2019, 2021]}}, False),
        ({"tags": "a"}, True),  # equality with an array field: any element
        ({"tags": {"$in": ["z", "b"]}}, True),
        ({"meta.lang": "en"}, True),
        ({"meta.lang": {"$exists": True}, "nope": {"$exists": False}}, True),
        ({"flag": 1}, False),  # booleans are not numbers
        ({"tags": ["a", "b"]}, True),  # an array operand compares with the whole array
        ({"tags": ["b", "a"]}, False),
        ({"flags": [1, 0]}, False),  # ... and booleans inside it are not numbers either
        ({"meta": {"lang": "en"}}, True),
        ({"year": {"$not": {"$gt": 2020}}}, False),
        ({"$not": {"kind": "blog"}}, True),
        ({"$or": [{"kind": "blog"}, {"year": 2021}]}, True),
        ({"$and": [{"kind": "news"}, {"year": 2000}]}, False),
        ({"$or": [{"$and": [{"kind": "news"}, {"tags": "b"}]}, {"year": 1}]}, True),
        ({"missing": None}, True),
    ],
)
def test_operators(spec: dict[str, Any], expected: bool) -> None:
    predicate = compile_filter(spec)
    assert predicate is not None
    assert predicate(DOC) is expected


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ({"year": {"$gtx": 1}}, "$.year.$gtx"),
        ({"$xor": []}, "$.$xor"),
        ({"$or": {}}, "$.$or"),
        ({"year": {"$in": 3}}, "$.year.$in"),
        ({"year": {"$gt": [1]}}, "$.year.$gt"),
        ({"year": {"$exists": "yes"}}, "$.year.$exists"),
        ({"$and": [{"a": {"$bad": 1}}]}, "$.$and[0].a.$bad"),
    ],
)
def test_errors_name_the_path(spec: dict[str, Any], path: str) -> None:
    with pytest.raises(FilterError) as info:
        compile_filter(spec)
    assert f"`{path}`" in str(info.value)


def test_empty_filter_matches_all() -> None:
    assert compile_filter(None) is None
    assert compile_filter({}) is None


@given(
    st.integers(-5, 5),
    st.integers(-5, 5),
    st.sampled_from(["$gt", "$gte", "$lt", "$lte", "$eq", "$ne"]),
)
def test_comparisons_agree_with_python(value: int, operand: int, op: str) -> None:
    reference = {
        "$gt": value > operand,
        "$gte": value >= operand,
        "$lt": value < operand,
        "$lte": value <= operand,
        "$eq": value == operand,
        "$ne": value != operand,
    }[op]
    predicate = compile_filter({"x": {op: operand}})
    assert predicate is not None
    assert predicate({"x": value}) is reference
    negated = compile_filter({"x": {"$not": {op: operand}}})
    assert negated is not None and negated({"x": value}) is not reference
