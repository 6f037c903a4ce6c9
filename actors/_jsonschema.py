"""JSON Schemas as Mastra carries them: self-contained (references inlined), ``$schema`` first.

msgspec describes a Struct by ``{"$ref": "#/$defs/Name", "$defs": {...}}``; Mastra's server
answers with the object schema itself (``zod-to-json-schema`` output, draft-07). Every
schema the routes send goes through ``schema_string``.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["DRAFT_07", "inline_refs", "schema_string"]

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
_DEF_PREFIXES = ("#/$defs/", "#/definitions/")
_DEF_KEYS = ("$defs", "definitions")
_encoder = msgspec.json.Encoder()


def _def_name(ref: object) -> str | None:
    if isinstance(ref, str):
        for prefix in _DEF_PREFIXES:
            if ref.startswith(prefix):
                return ref.removeprefix(prefix)
    return None


class _Inliner:
    """Replaces local references by their definitions; a definition that refers to itself
    (directly or through others) cannot be inlined, so references to it stay and it is kept
    under ``definitions``."""

    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.recursive: set[str] = set()

    def resolve(self, node: Any, active: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [self.resolve(item, active) for item in node]
        if not isinstance(node, dict):
            return node
        name = _def_name(node.get("$ref"))
        siblings = {k: self.resolve(v, active) for k, v in node.items() if k != "$ref"}
        if name is None or name not in self.defs:
            return {**siblings, "$ref": node["$ref"]} if "$ref" in node else siblings
        if name in active:
            self.recursive.add(name)
            return {**siblings, "$ref": f"#/definitions/{name}"}
        return {**self.definition(name, (*active, name)), **siblings}

    def definition(self, name: str, active: tuple[str, ...]) -> dict[str, Any]:
        target: dict[str, Any] = self.resolve(self.defs[name], active)
        target.pop("title", None)  # msgspec titles a definition with the Struct's name
        return target

    def kept(self) -> dict[str, Any]:
        """The recursive definitions, themselves resolved as far as they can be."""
        done: dict[str, Any] = {}
        while pending := sorted(self.recursive - done.keys()):
            for name in pending:
                done[name] = self.definition(name, (name,))
        return done


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every local ``$ref`` replaced by the definition it names and the
    ``$defs``/``definitions`` table dropped; recursive definitions stay referenced under
    ``definitions``. Never raises: a reference to no known definition is left as it is."""
    defs: dict[str, Any] = {}
    for key in _DEF_KEYS:
        defs.update(schema.get(key) or {})
    inliner = _Inliner(defs)
    body = {k: v for k, v in schema.items() if k not in _DEF_KEYS}
    resolved: dict[str, Any] = inliner.resolve(body, ())
    kept = inliner.kept()
    if kept:
        resolved["definitions"] = kept
    return resolved


def schema_string(schema: dict[str, Any] | None, dialect: str = DRAFT_07) -> str | None:
    """The wire form of a schema: a JSON string holding ``{"json": schema}`` with the
    schema inlined and its ``$schema`` (its own, else ``dialect``) first; ``None`` stays
    ``None``."""
    if schema is None:
        return None
    inlined = inline_refs(schema)
    inlined.pop("$schema", None)
    document = {"$schema": schema.get("$schema", dialect), **inlined}
    return _encoder.encode({"json": document}).decode()
