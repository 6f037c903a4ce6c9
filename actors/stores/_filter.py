"""Mastra's MongoDB-like metadata filter, compiled once into a predicate over metadata dicts.

``{"kind": "news", "year": {"$gte": 2020}, "$or": [{"lang": "en"}, {"lang": {"$exists": False}}]}``

Top-level keys are fields (dotted paths into nested metadata) or the logical operators
``$and``, ``$or``, ``$not``. A field's condition is a plain value (equality) or an object of
operators: ``$eq $ne $gt $gte $lt $lte $in $nin $exists $not``. As in MongoDB, equality with
an array field matches when any element matches; ``$ne`` and ``$nin`` match a missing field;
ordering operators only compare numbers with numbers and strings with strings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from actors.stores._errors import FilterError

__all__ = ["Predicate", "compile_filter"]

Predicate = Callable[[Mapping[str, Any]], bool]
_MISSING: Any = object()


def compile_filter(spec: Mapping[str, Any] | None) -> Predicate | None:
    """Compile a filter into a predicate; None (or ``{}``) means "match everything".

    Raises ``FilterError`` naming the path (``$.year.$gte``) of an unknown operator or a
    malformed operand.
    """
    if not spec:
        return None
    return _document(spec, "$")


def _document(spec: Any, path: str) -> Predicate:
    if not isinstance(spec, Mapping):
        raise FilterError(f"filter at `{path}` must be an object, got {type(spec).__name__}")
    parts = [_entry(key, value, path) for key, value in spec.items()]
    if len(parts) == 1:
        return parts[0]
    return lambda meta: all(p(meta) for p in parts)


def _entry(key: str, value: Any, path: str) -> Predicate:
    here = f"{path}.{key}"
    if key in ("$and", "$or"):
        if not isinstance(value, list) or not value:
            raise FilterError(f"`{here}` must be a non-empty array of filters")
        parts = [_document(v, f"{here}[{i}]") for i, v in enumerate(value)]
        if key == "$and":
            return lambda meta: all(p(meta) for p in parts)
        return lambda meta: any(p(meta) for p in parts)
    if key == "$not":
        inner = _document(value, here)
        return lambda meta: not inner(meta)
    if key.startswith("$"):
        raise FilterError(f"unknown logical operator `{here}` (expected $and, $or or $not)")
    test = _condition(value, here)
    steps = key.split(".")
    return lambda meta: test(_lookup(meta, steps))


def _lookup(meta: Mapping[str, Any], steps: list[str]) -> Any:
    value: Any = meta
    for step in steps:
        if not isinstance(value, Mapping) or step not in value:
            return _MISSING
        value = value[step]
    return value


def _condition(value: Any, path: str) -> Callable[[Any], bool]:
    """A test of one field value: an operator object or a literal (equality)."""
    if isinstance(value, Mapping) and value and all(str(k).startswith("$") for k in value):
        tests = [_operator(op, operand, f"{path}.{op}") for op, operand in value.items()]
        if len(tests) == 1:
            return tests[0]
        return lambda field: all(t(field) for t in tests)
    return lambda field: _matches_eq(field, value)


def _operator(op: str, operand: Any, path: str) -> Callable[[Any], bool]:  # noqa: PLR0911
    if op == "$eq":
        return lambda field: _matches_eq(field, operand)
    if op == "$ne":
        return lambda field: not _matches_eq(field, operand)
    if op in _ORDER:
        _check_comparable(operand, path)
        compare = _ORDER[op]
        return lambda field: _matches_order(field, operand, compare)
    if op in ("$in", "$nin"):
        if not isinstance(operand, list):
            raise FilterError(f"`{path}` needs an array, got {type(operand).__name__}")
        if op == "$in":
            return lambda field: any(_matches_eq(field, v) for v in operand)
        return lambda field: not any(_matches_eq(field, v) for v in operand)
    if op == "$exists":
        if not isinstance(operand, bool):
            raise FilterError(f"`{path}` needs true or false, got {operand!r}")
        return lambda field: (field is not _MISSING) == operand
    if op == "$not":
        inner = _condition(operand, path)
        return lambda field: not inner(field)
    raise FilterError(
        f"unknown operator `{path}` (expected $eq $ne $gt $gte $lt $lte $in $nin $exists $not)"
    )


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}


def _kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def _check_comparable(operand: Any, path: str) -> None:
    if _kind(operand) is None:
        raise FilterError(f"`{path}` needs a number or a string, got {operand!r}")


def _matches_order(field: Any, operand: Any, compare: Callable[[Any, Any], bool]) -> bool:
    if isinstance(field, list):
        return any(_matches_order(v, operand, compare) for v in field)
    return _kind(field) == _kind(operand) and compare(field, operand)


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: true/false never equal numbers, at any depth of arrays and objects."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def _matches_eq(field: Any, operand: Any) -> bool:
    if field is _MISSING:
        return operand is None
    if isinstance(field, list) and not isinstance(operand, list):
        return any(_equal(v, operand) for v in field)
    return _equal(field, operand)
