"""JSON Schema and validation for tool inputs, derived from a function's type hints.

The input schema is built by turning the signature into a msgspec Struct, so the schema
shown to models and the validator applied to their arguments come from one definition.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Annotated, Any, get_type_hints

import msgspec

from actors._jsonschema import inline_refs

__all__ = [
    "FieldError",
    "describe_function",
    "field_errors",
    "input_struct",
    "json_schema",
]

JSON_SCHEMA_2020 = "https://json-schema.org/draft/2020-12/schema"
_ARG_LINE = re.compile(r"^\s*(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.+)$")


def describe_function(fn: Callable[..., Any]) -> tuple[str, dict[str, str]]:
    """The docstring's summary and its ``Args:`` descriptions by parameter name."""
    doc = inspect.getdoc(fn) or ""
    summary_lines: list[str] = []
    params: dict[str, str] = {}
    section = "summary"
    current: str | None = None
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped.lower() in {"args:", "arguments:", "parameters:"}:
            section, current = "args", None
            continue
        if stripped.endswith(":") and stripped[:-1].lower() in {"returns", "raises", "yields"}:
            section = "other"
            continue
        if section == "summary":
            if not stripped and summary_lines:
                section = "other"
            elif stripped:
                summary_lines.append(stripped)
        elif section == "args":
            match = _ARG_LINE.match(line)
            if match and line.startswith((" ", "\t")) and len(line) - len(line.lstrip()) <= 8:
                current = match.group(1).lstrip("*")
                params[current] = match.group(2).strip()
            elif current and stripped:
                params[current] += " " + stripped
    return " ".join(summary_lines), params


def input_struct(
    name: str, fn: Callable[..., Any], skip: Callable[[Any], bool]
) -> type[msgspec.Struct]:
    """A Struct with one field per parameter of ``fn`` (minus those ``skip`` accepts).

    Parameter descriptions from the docstring become schema descriptions; defaults are kept.
    Raises ``TypeError`` for ``*args``/``**kwargs`` or a parameter without a type hint.
    """
    hints = get_type_hints(fn, include_extras=True)
    _, docs = describe_function(fn)
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"tool {name!r}: *args and **kwargs cannot be described to a model")
        if param.name not in hints:
            raise TypeError(f"tool {name!r}: parameter {param.name!r} needs a type hint")
        hint = hints[param.name]
        if skip(hint):
            continue
        if param.name in docs:
            hint = Annotated[hint, msgspec.Meta(description=docs[param.name])]
        if param.default is inspect.Parameter.empty:
            fields.append((param.name, hint))
        else:
            fields.append((param.name, hint, param.default))
    return msgspec.defstruct(
        f"{name}_input", fields, kw_only=True, forbid_unknown_fields=True, module=fn.__module__
    )


def _any_schema(tp: Any) -> dict[str, Any]:
    """msgspec's ``schema_hook``: a schema for ``object``; for any other type msgspec's hook
    protocol wants ``NotImplementedError``, which msgspec turns into its own TypeError."""
    if tp is object:  # an empty schema means "anything", but msgspec needs a non-empty one
        return {"description": "any JSON value"}
    raise NotImplementedError(f"no JSON Schema for {tp!r}")


def json_schema(tp: Any) -> dict[str, Any]:
    """A self-contained JSON Schema (2020-12, refs inlined; a recursive type keeps its
    references under ``definitions``) for ``tp``.

    Object schemas get ``additionalProperties: false`` when their Struct forbids unknown
    fields, as models follow that hint.
    """
    inlined = inline_refs(msgspec.json.schema(tp, schema_hook=_any_schema))
    if inlined.get("type") == "object":
        inlined.setdefault("additionalProperties", False)
        inlined.setdefault("properties", {})
        inlined.pop("title", None)
    return {"$schema": JSON_SCHEMA_2020, **inlined}


class FieldError(msgspec.Struct, frozen=True, kw_only=True):
    """One invalid argument: its name and what was wrong, readable by a model."""

    field: str
    message: str


_JSON_NAMES = {
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
    type(None): "null",
}


def _received(value: Any) -> str:
    return _JSON_NAMES.get(type(value), type(value).__name__)


def _expected(field_schema: dict[str, Any]) -> str | None:
    kind = field_schema.get("type")
    if isinstance(kind, str):
        return "number" if kind == "integer" else kind
    return None


def _field_error(
    name: str, value: Any, hint: Any, field_schema: dict[str, Any]
) -> FieldError | None:
    try:
        msgspec.convert(value, hint, strict=True)
    except msgspec.ValidationError as exc:
        expected = _expected(field_schema)
        if expected and _received(value) != expected:
            return FieldError(
                field=name,
                message=f"Invalid input: expected {expected}, received {_received(value)}",
            )
        return FieldError(field=name, message=f"Invalid input: {exc}")
    return None


def field_errors(
    struct: type[msgspec.Struct], args: Any, schema: dict[str, Any]
) -> list[FieldError]:
    """Every invalid, missing or unknown field of ``args`` (msgspec stops at the first)."""
    if not isinstance(args, dict):
        message = f"Invalid input: expected object, received {_received(args)}"
        return [FieldError(field="", message=message)]
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    hints = get_type_hints(struct, include_extras=True)
    errors: list[FieldError] = []
    for name in struct.__struct_fields__:
        field_schema = properties.get(name, {})
        if name in args:
            error = _field_error(name, args[name], hints[name], field_schema)
            if error is not None:
                errors.append(error)
        elif name in required:
            expected = _expected(field_schema) or "value"
            message = f"Invalid input: expected {expected}, received undefined"
            errors.append(FieldError(field=name, message=message))
    errors += [
        FieldError(field=name, message="Unrecognized key")
        for name in args
        if name not in struct.__struct_fields__
    ]
    return errors
