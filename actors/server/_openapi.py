"""A small OpenAPI 3.1 document generated from the route table."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Route

import runtime

__all__ = ["openapi_document"]


def _operation(route: Route, method: str) -> dict[str, Any]:
    doc = inspect.getdoc(route.endpoint) or ""
    operation: dict[str, Any] = {
        "operationId": f"{method.lower()}_{route.name}",
        "summary": doc.splitlines()[0] if doc else route.name,
        "responses": {
            "200": {"description": "Success"},
            "400": {"description": "Invalid input"},
            "404": {"description": "Not found"},
        },
    }
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in route.param_convertors
    ]
    if params:
        operation["parameters"] = params
    return operation


def openapi_document(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """Paths and operations for every HTTP route."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not isinstance(route, Route) or route.methods is None:
            continue
        for method in sorted(route.methods - {"HEAD"}):
            paths.setdefault(route.path, {})[method.lower()] = _operation(route, method)
    return {
        "openapi": "3.1.0",
        "info": {"title": "mastra-runtime", "version": runtime.__version__},
        "paths": paths,
    }
