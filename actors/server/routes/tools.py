"""``/api/tools``: list, describe and execute tools."""

from __future__ import annotations

from typing import Any

import msgspec
import trio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors._jsonschema import schema_string
from actors.server._context import AppContext
from actors.server._http import NotFound, allowed, decode_body, json_response
from actors.tools import ToolInfo, ToolRef, ToolResult

__all__ = ["routes", "tool_json"]


class ExecuteBody(msgspec.Struct, frozen=True, kw_only=True):
    """``POST /api/tools/:toolId/execute``."""

    data: Any = msgspec.field(default_factory=dict)
    requestContext: dict[str, Any] = {}


def tool_json(info: ToolInfo) -> dict[str, Any]:
    """A tool as Mastra lists it: schemas are strings holding ``{"json": schema}``."""
    return {
        "id": info.id,
        "description": info.description,
        "inputSchema": schema_string(info.input_schema),
        "outputSchema": schema_string(info.output_schema),
        "requireApproval": info.require_approval,
    }


def _tool(ctx: AppContext, tool_id: str) -> ToolRef:
    ref = ctx.rt.lookup(tool_id, kind="tool")
    if ref is None:
        raise NotFound("Tool not found")
    return ToolRef(ref)


async def list_tools(request: Request) -> Response:
    ctx = AppContext.of(request)
    refs = [
        ToolRef(ref)
        for name, ref in ctx.rt.actors("tool").items()
        if allowed(request, "tools", name)
    ]
    infos: dict[str, ToolInfo] = {}

    async def describe(ref: ToolRef) -> None:
        infos[ref.id] = await ref.info()

    async with trio.open_nursery() as nursery:
        for ref in refs:
            nursery.start_soon(describe, ref)
    return json_response({ref.id: tool_json(infos[ref.id]) for ref in refs if ref.id in infos})


async def get_tool(request: Request) -> Response:
    ref = _tool(AppContext.of(request), request.path_params["tool_id"])
    return json_response(tool_json(await ref.info()))


def _validation_json(result: ToolResult) -> dict[str, Any]:
    assert result.error is not None
    fields = {
        e.field or "input": {"errors": [e.message], "fields": {}}
        for e in result.error.validation_errors
    }
    return {
        "error": True,
        "message": result.error.message,
        "validationErrors": {"errors": [], "fields": fields},
    }


async def execute_tool(request: Request) -> Response:
    ref = _tool(AppContext.of(request), request.path_params["tool_id"])
    body = await decode_body(request, ExecuteBody)
    result = await ref.execute(body.data, request_context=body.requestContext)
    if result.ok:
        return json_response(result.value)
    assert result.error is not None
    if result.error.kind == "validation":
        return json_response(_validation_json(result))
    status = 504 if result.error.kind == "timeout" else 500
    return json_response({"error": result.error.message}, status=status)


def routes() -> list[Route]:
    """The tool routes."""
    return [
        Route("/api/tools", list_tools, methods=["GET"]),
        Route("/api/tools/{tool_id}", get_tool, methods=["GET"]),
        Route("/api/tools/{tool_id}/execute", execute_tool, methods=["POST"]),
    ]
