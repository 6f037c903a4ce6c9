"""Schemas at step boundaries: validation that names the field, compatibility, JSON Schema.

A schema is a msgspec Struct type or any type msgspec can convert into (``int``,
``list[Item]``, ``dict[str, Any]``, ``Any``). Values travel between steps and into snapshots
as JSON-compatible builtins; a step sees them converted into its input schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec
from msgspec import inspect as mi

from actors.workflow._errors import SchemaViolation

__all__ = ["Join", "check", "incompatibility", "json_schema", "to_plain", "validate"]

_MISSING = re.compile(r"missing required field `([^`]+)`")
_AT = " - at `"


def _split(message: str) -> tuple[str, str]:
    """Split a msgspec error into (field path, message); the path loses its ``$.`` prefix."""
    path = "$"
    if _AT in message:
        message, _, tail = message.rpartition(_AT)
        path = tail.rstrip("`")
    missing = _MISSING.search(message)
    if missing is not None:
        path = f"{path}.{missing.group(1)}"
    field = path[2:] if path.startswith("$.") else path[1:]
    return field, message


def validate(value: Any, schema: Any, *, step: str | None, role: str) -> Any:
    """Convert builtins ``value`` into ``schema``; raise ``SchemaViolation`` naming the field."""
    if schema is Any:
        return value
    try:
        return msgspec.convert(value, schema, strict=False)
    except msgspec.ValidationError as exc:
        field, message = _split(str(exc))
        raise SchemaViolation(step, role, field, message) from None


def to_plain(value: Any, *, step: str | None, role: str) -> Any:
    """``value`` (Structs, dataclasses, builtins) as JSON-compatible builtins."""
    try:
        return msgspec.to_builtins(value)
    except TypeError as exc:
        raise SchemaViolation(step, role, "", f"not serializable: {exc}") from None


def check(value: Any, schema: Any, *, step: str | None, role: str) -> Any:
    """Validate ``value`` against ``schema`` and return it as builtins (what snapshots hold)."""
    plain = to_plain(value, step=step, role=role)
    if schema is Any:
        return plain
    return to_plain(validate(plain, schema, step=step, role=role), step=step, role=role)


def json_schema(schema: Any) -> dict[str, Any]:
    """A self-contained JSON Schema (draft-07 dialect, definitions inlined under ``$defs``)."""
    document: dict[str, Any] = dict(msgspec.json.schema(schema))
    document.setdefault("$schema", "http://json-schema.org/draft-07/schema#")
    return document


@dataclass(frozen=True)
class Join:
    """The input a step gets from several dependencies: ``{dependency id: its output}``."""

    fields: dict[str, Any]
    optional: bool = False


def incompatibility(produced: Any, expected: Any) -> str | None:
    """Why a value of schema ``produced`` cannot feed schema ``expected`` (None if it can).

    ``produced`` may be a ``Join``. The reason names the field path and both types.
    """
    return _compat(_info(produced), _info(expected), "$")


def _info(schema: Any) -> Any:
    return schema if isinstance(schema, Join | mi.Type) else mi.type_info(schema)


def _describe(t: Any) -> str:
    if isinstance(t, Join):
        return "an object of step outputs"
    if isinstance(t, mi.StructType):
        return f"object {t.cls.__name__}"
    return type(t).__name__.removesuffix("Type").lower()


def _compat(out: Any, inp: mi.Type, path: str) -> str | None:  # noqa: PLR0911, PLR0912
    if isinstance(out, mi.Metadata):
        out = out.type
    if isinstance(inp, mi.Metadata):
        inp = inp.type
    if isinstance(inp, mi.AnyType) or isinstance(out, mi.AnyType):
        return None
    if isinstance(inp, mi.UnionType):
        reasons = [_compat(out, t, path) for t in inp.types]
        return None if None in reasons else reasons[0]
    if isinstance(out, mi.UnionType):
        for t in out.types:
            if not isinstance(t, mi.NoneType) and (reason := _compat(t, inp, path)):
                return reason
        return None
    if isinstance(inp, mi.StructType | mi.TypedDictType | mi.DataclassType):
        return _compat_object(out, inp, path)
    if isinstance(inp, mi.DictType):
        ok = isinstance(out, Join | mi.DictType | mi.StructType | mi.TypedDictType)
        return None if ok else _mismatch(out, inp, path)
    if isinstance(inp, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        if isinstance(out, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
            return _compat(out.item_type, inp.item_type, f"{path}[]")
        return _mismatch(out, inp, path)
    if isinstance(inp, mi.FloatType) and isinstance(out, mi.IntType):
        return None
    if isinstance(inp, mi.LiteralType) and isinstance(out, mi.LiteralType):
        extra = set(out.values) - set(inp.values)
        return None if not extra else f"`{path}`: {sorted(map(str, extra))} not allowed"
    if isinstance(inp, mi.LiteralType) and isinstance(out, mi.StrType | mi.IntType):
        return None
    return None if type(out) is type(inp) else _mismatch(out, inp, path)


def _mismatch(out: Any, inp: mi.Type, path: str) -> str:
    return f"`{path}`: expected {_describe(inp)}, got {_describe(out)}"


def _compat_object(out: Any, inp: Any, path: str) -> str | None:
    if isinstance(out, mi.DictType):
        return None
    if isinstance(out, Join):
        available = dict(out.fields)
        loose = out.optional
    elif isinstance(out, mi.StructType | mi.TypedDictType | mi.DataclassType):
        available = {f.encode_name: f.type for f in out.fields}
        loose = False
    else:
        return _mismatch(out, inp, path)
    for field in inp.fields:
        name = field.encode_name
        if name not in available:
            if field.required and not loose:
                return f"`{path}.{name}`: required but not produced"
            continue
        if reason := _compat(_info(available[name]), field.type, f"{path}.{name}"):
            return reason
    return None
