"""Structured output: check a model's JSON answer against a JSON Schema."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["StructuredOutputError", "parse_structured", "schema_for"]

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


class StructuredOutputError(Exception):
    """The model's answer did not match the requested schema, even after a repair attempt."""


def schema_for(output: type[Any] | dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a Struct (or other msgspec-supported) type, with the top-level
    reference inlined; a dict is taken as a JSON Schema as is."""
    if isinstance(output, dict):
        return output
    schema = msgspec.json.schema(output)
    ref, defs = schema.get("$ref"), schema.get("$defs", {})
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        # Vendors want an object at the top, not a reference to one.
        return {**defs[ref.removeprefix("#/$defs/")], "$defs": defs}
    return schema


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        resolved: dict[str, Any] = defs[ref.removeprefix("#/$defs/")]
        return resolved
    return schema


def _type_ok(value: Any, expected: Any) -> bool:
    names = expected if isinstance(expected, list) else [expected]
    for name in names:
        kinds = _TYPES.get(name, (object,))
        if isinstance(value, bool) and name in ("integer", "number"):
            continue
        if isinstance(value, kinds):
            return True
    return False


def _check(value: Any, schema: dict[str, Any], defs: dict[str, Any], path: str) -> list[str]:
    schema = _resolve(schema, defs)
    if "anyOf" in schema:
        options = [_check(value, s, defs, path) for s in schema["anyOf"]]
        return [] if any(not o for o in options) else options[0]
    if "type" in schema and not _type_ok(value, schema["type"]):
        return [f"{path}: expected {schema['type']}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: expected one of {schema['enum']}"]
    problems: list[str] = []
    if isinstance(value, dict):
        problems += [f"{path}.{k}: required" for k in schema.get("required", []) if k not in value]
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                problems += _check(value[key], sub, defs, f"{path}.{key}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            problems += _check(item, schema["items"], defs, f"{path}[{index}]")
    return problems


def parse_structured(text: str, schema: dict[str, Any]) -> Any:
    """The JSON value in ``text`` when it matches ``schema`` (``type``, ``properties``,
    ``required``, ``items``, ``enum``, ``anyOf`` and local ``$ref`` are checked).

    Raises ``StructuredOutputError`` listing every problem (each names its field path).
    """
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise StructuredOutputError(f"the answer is not valid JSON: {exc}") from None
    problems = _check(value, schema, schema.get("$defs", {}), "$")
    if problems:
        raise StructuredOutputError("; ".join(problems))
    return value
