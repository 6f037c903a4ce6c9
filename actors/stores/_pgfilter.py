"""Mastra's metadata filter (see ``_filter``) translated to a SQL condition over a jsonb column.

``filter_sql({"year": {"$gte": 2020}, "tags": "ai"})`` gives a condition with ``%s``
placeholders and its parameters, never values spliced into the text. It selects exactly the
rows whose metadata ``compile_filter`` accepts: a dotted key is a path into nested metadata,
equality with an array field matches any element, ``$ne``/``$nin`` match a missing field,
ordering operators compare numbers with numbers and strings with strings (by code point),
and true/false never equal numbers. Every piece is NULL-free (a missing field is false,
never unknown), so ``NOT`` means what it says. The filter is validated by ``compile_filter``
first, so errors name the same ``$.path``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actors.stores._filter import compile_filter
from actors.stores._sql import dump_json

__all__ = ["filter_sql"]

Sql = tuple[str, list[Any]]
_ORDER_SQL = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


def filter_sql(spec: Mapping[str, Any] | None, column: str = "metadata") -> Sql | None:
    """A condition and its parameters for ``spec``; None when it matches everything.

    Raises ``FilterError`` (naming the path) for a malformed filter.
    """
    if compile_filter(spec) is None:
        return None
    assert spec is not None
    return _document(spec, column)


def _and(parts: list[Sql]) -> Sql:
    if len(parts) == 1:
        return parts[0]
    return "(" + " AND ".join(p[0] for p in parts) + ")", [a for p in parts for a in p[1]]


def _or(parts: list[Sql]) -> Sql:
    if not parts:
        return "false", []
    return "(" + " OR ".join(p[0] for p in parts) + ")", [a for p in parts for a in p[1]]


def _not(part: Sql) -> Sql:
    return f"(NOT {part[0]})", part[1]


def _document(spec: Mapping[str, Any], column: str) -> Sql:
    return _and([_entry(key, value, column) for key, value in spec.items()])


def _entry(key: str, value: Any, column: str) -> Sql:
    if key == "$and":
        return _and([_document(v, column) for v in value])
    if key == "$or":
        return _or([_document(v, column) for v in value])
    if key == "$not":
        return _not(_document(value, column))
    field = (f"({column} #> %s)", [key.split(".")])
    return _condition(value, field)


def _condition(value: Any, field: Sql) -> Sql:
    if isinstance(value, Mapping) and value and all(str(k).startswith("$") for k in value):
        return _and([_operator(op, operand, field) for op, operand in value.items()])
    return _equals(field, value)


def _operator(op: str, operand: Any, field: Sql) -> Sql:  # noqa: PLR0911 - one per operator
    if op == "$eq":
        return _equals(field, operand)
    if op == "$ne":
        return _not(_equals(field, operand))
    if op in _ORDER_SQL:
        return _order(field, _ORDER_SQL[op], operand)
    if op == "$in":
        return _or([_equals(field, v) for v in operand])
    if op == "$nin":
        return _not(_or([_equals(field, v) for v in operand]))
    if op == "$exists":
        sql, args = field
        return f"({sql} IS {'NOT ' if operand else ''}NULL)", args
    if op == "$not":
        return _not(_condition(operand, field))
    raise AssertionError(f"compile_filter accepted an unknown operator {op}")


def _elements(field: Sql) -> str:
    """The elements of the field when it is an array, else no rows."""
    sql = field[0]
    return (
        f"jsonb_array_elements(CASE WHEN jsonb_typeof({sql}) = 'array' THEN {sql}"
        " ELSE '[]'::jsonb END)"
    )


def _equals(field: Sql, operand: Any) -> Sql:
    sql, args = field
    if operand is None:  # a missing field equals null too
        whole = f"({sql} IS NULL OR {sql} = 'null'::jsonb)"
        whole_args = [*args, *args]
    else:
        whole = f"coalesce({sql} = %s::jsonb, false)"
        whole_args = [*args, dump_json(operand, "filter")]
    if isinstance(operand, list):  # an array operand compares with the whole array only
        return whole, whole_args
    element = f"EXISTS (SELECT 1 FROM {_elements(field)} AS e(v) WHERE v = %s::jsonb)"
    element_args = [*args, *args, dump_json(operand, "filter")]
    return f"({whole} OR {element})", whole_args + element_args


def _order(field: Sql, cmp: str, operand: Any) -> Sql:
    """Numbers with numbers, strings with strings (code point order), any array element."""
    if isinstance(operand, str):
        kind, compare = "string", f"(v #>> '{{}}') COLLATE \"C\" {cmp} %s"
    else:
        kind, compare = "number", f"(v)::numeric {cmp} %s::numeric"
    sql, args = field
    # v is the field itself, or each element of it when it is an array
    candidates = f"(SELECT {sql} UNION ALL SELECT x FROM {_elements(field)} AS a(x)) AS e(v)"
    cond = (
        f"EXISTS (SELECT 1 FROM {candidates} WHERE"
        f" CASE WHEN jsonb_typeof(v) = '{kind}' THEN {compare} ELSE false END)"
    )
    return cond, [*args, *args, *args, operand]
