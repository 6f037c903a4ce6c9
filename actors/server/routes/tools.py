"""``/api/tools`` and ``/api/agents/:agentId/tools``: list, describe and execute tools."""

from __future__ import annotations

from typing import Any

import msgspec
import trio
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors._jsonschema import schema_string
from actors.server import _turns as turns
from actors.server._context import AppContext
from actors.server._http import NotFound, allowed, decode_body, json_response
from actors.tools import ToolInfo, ToolRef, ToolResult

__all__ = ["routes", "tool_json"]


class ExecuteBody(msgspec.Struct, frozen=True, kw_only=True):
    """``POST /api/tools/:toolId/execute`` and ``/api/agents/:agentId/tools/:toolId/execute``;
    ``runtimeContext`` is the older name of ``requestContext``."""

    data: Any = msgspec.field(default_factory=dict)
    requestContext: dict[str, Any] = {}
    runtimeContext: dict[str, Any] = {}

    def context(self) -> dict[str, Any]:
        """The request context handed to the tool."""
        return self.requestContext or self.runtimeContext


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


async def _execute(request: Request, ref: ToolRef) -> Response:
    """Run the tool with the body's ``data``: its value, or Mastra's validation answer (200),
    or the error with 504 for a timeout and 500 for a failed tool."""
    body = await decode_body(request, ExecuteBody)
    result = await ref.execute(body.data, request_context=body.context())
    if result.ok:
        return json_response(result.value)
    assert result.error is not None
    if result.error.kind == "validation":
        return json_response(_validation_json(result))
    status = 504 if result.error.kind == "timeout" else 500
    return json_response({"error": result.error.message}, status=status)


async def execute_tool(request: Request) -> Response:
    """Execute a tool."""
    return await _execute(request, _tool(AppContext.of(request), request.path_params["tool_id"]))


async def _agent_tool(request: Request) -> ToolRef:
    """The tool ``tool_id`` of the agent ``agent_id`` (404 for an unknown agent, and for a tool
    the agent does not use: another agent it delegates to is no tool here)."""
    ctx = AppContext.of(request)
    agent_id = request.path_params["agent_id"]
    agent = turns.find_agent(ctx, agent_id)
    if agent is None:
        raise NotFound(f"Agent with id {agent_id} not found")
    tool_id = request.path_params["tool_id"]
    if tool_id not in (await agent.info()).tools:
        raise NotFound("Tool not found")
    if not allowed(request, "tools", tool_id):
        raise HTTPException(403, f"Forbidden: this token may not use tool {tool_id}")
    return _tool(ctx, tool_id)


async def get_agent_tool(request: Request) -> Response:
    """One tool of an agent."""
    ref = await _agent_tool(request)
    return json_response(tool_json(await ref.info()))


async def execute_agent_tool(request: Request) -> Response:
    """Execute one tool of an agent."""
    return await _execute(request, await _agent_tool(request))


def routes() -> list[Route]:
    """The tool routes."""
    return [
        Route("/api/tools", list_tools, methods=["GET"]),
        Route("/api/tools/{tool_id}", get_tool, methods=["GET"]),
        Route("/api/tools/{tool_id}/execute", execute_tool, methods=["POST"]),
        Route("/api/agents/{agent_id}/tools/{tool_id}", get_agent_tool, methods=["GET"]),
        Route(
            "/api/agents/{agent_id}/tools/{tool_id}/execute", execute_agent_tool, methods=["POST"]
        ),
    ]
