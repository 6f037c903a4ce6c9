from __future__ import annotations

import json
from operator import getitem
from typing import Any, Optional

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from actors._jsonschema import DRAFT_07, inline_refs, schema_string


class Point(msgspec.Struct):
    """A point."""

    x: float
    y: float


class Shape(msgspec.Struct):
    name: str
    corners: list[Point]
    centre: Point | None = None


class Tree(msgspec.Struct):
    label: str
    children: list[Tree] = []


class Forest(msgspec.Struct):
    trees: list[Tree]
    origin: Point


def _walk(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [d for item in node for d in _walk(item)]
    if isinstance(node, dict):
        return [node, *(d for value in node.values() for d in _walk(value))]
    return []


def test_nested_structs_are_inlined_without_titles() -> None:
    inlined = inline_refs(msgspec.json.schema(Shape))
    assert inlined == {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "corners": {
                "type": "array",
                "items": {
                    "description": "A point.",
                    "type": "object",
                    "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                    "required": ["x", "y"],
                },
            },
            "centre": {
                "anyOf": [
                    {
                        "description": "A point.",
                        "type": "object",
                        "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                        "required": ["x", "y"],
                    },
                    {"type": "null"},
                ],
                "default": None,
            },
        },
        "required": ["name", "corners"],
    }


def test_recursive_definitions_stay_referenced_under_definitions() -> None:
    inlined = inline_refs(msgspec.json.schema(Forest))
    assert "$defs" not in inlined
    assert set(inlined["definitions"]) == {"Tree"}
    tree = inlined["properties"]["trees"]["items"]
    assert tree["properties"]["children"]["items"] == {"$ref": "#/definitions/Tree"}
    kept = inlined["definitions"]["Tree"]
    assert kept["properties"]["children"]["items"] == {"$ref": "#/definitions/Tree"}
    refs = {d["$ref"] for d in _walk(inlined) if "$ref" in d}
    assert refs == {"#/definitions/Tree"}
    assert inlined["properties"]["origin"]["required"] == ["x", "y"]


def test_sibling_keywords_of_a_reference_are_kept_and_unknown_references_left() -> None:
    schema = {
        "$defs": {"P": {"title": "P", "type": "object"}},
        "properties": {
            "a": {"$ref": "#/$defs/P", "description": "the a"},
            "b": {"$ref": "https://example.com/other.json"},
            "c": {"$ref": "#/$defs/Missing"},
        },
    }
    assert inline_refs(schema) == {
        "properties": {
            "a": {"type": "object", "description": "the a"},
            "b": {"$ref": "https://example.com/other.json"},
            "c": {"$ref": "#/$defs/Missing"},
        }
    }


def test_schema_string_is_the_wire_form_with_schema_first() -> None:
    assert schema_string(None) is None
    wire = json.loads(schema_string(msgspec.json.schema(Point)) or "")
    assert list(wire) == ["json"]
    assert next(iter(wire["json"])) == "$schema"
    assert wire["json"]["$schema"] == DRAFT_07
    assert wire["json"]["required"] == ["x", "y"] and "title" not in wire["json"]
    own = {"type": "string", "$schema": "https://json-schema.org/draft/2020-12/schema"}
    kept = json.loads(schema_string(own) or "")["json"]
    assert next(iter(kept.items())) == ("$schema", own["$schema"])


_SCALARS = st.sampled_from([int, str, bool, float, Point, Tree])
_WRAPPERS: list[Any] = [list, Optional, dict]


@st.composite
def _types(draw: st.DrawFn) -> Any:
    tp: Any = draw(_SCALARS)
    for wrap in draw(st.lists(st.sampled_from(_WRAPPERS), max_size=3)):
        tp = getitem(wrap, (str, tp) if wrap is dict else tp)
    return tp


@given(_types())
def test_only_recursive_references_survive(tp: Any) -> None:
    inlined = inline_refs(msgspec.json.schema(tp))
    refs = {d["$ref"] for d in _walk(inlined) if "$ref" in d}
    assert refs <= {"#/definitions/Tree"}
    assert set(inlined.get("definitions", {})) == ({"Tree"} if refs else set())
    assert "$defs" not in inlined
    assert not any(d.get("title") in ("Point", "Tree") for d in _walk(inlined))
