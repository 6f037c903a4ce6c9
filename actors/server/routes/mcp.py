"""``/api/mcp``: the runtime's MCP servers (``actors.mcp.MCPServer``), as Mastra serves them.

``GET /api/mcp/v0/servers`` (``page``/``perPage`` or ``limit``/``offset``) and
``GET /api/mcp/v0/servers/:id`` describe them; ``GET /api/mcp/:serverId/tools`` (and
``/tools/:toolId``) list what one offers; ``POST .../tools/:toolId/execute`` ``{data}`` runs
a tool and answers ``{result}``; ``/api/mcp/:serverId/mcp`` is its streamable-HTTP endpoint.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from actors.mcp._catalog import Exposed, exposed_tools, find_exposed, run_exposed
from actors.mcp.messages import DescribeMcpServer, GetMcpHttpHandler, McpServerInfo
from actors.server._context import AppContext
from actors.server._http import BadRequest, Issue, NotFound, decode_body, json_response
from runtime import ActorError, ActorRef, Mastra

__all__ = ["routes"]

KIND = "mcp-server"


class ExecuteBody(msgspec.Struct, frozen=True, kw_only=True):
    """``POST /api/mcp/:serverId/tools/:toolId/execute``."""

    data: Any = msgspec.field(default_factory=dict)


class Page(msgspec.Struct, frozen=True, kw_only=True):
    """Pagination of the server list: ``page``/``perPage`` or the older ``limit``/``offset``."""

    page: int | None = msgspec.field(default=None)
    perPage: int | None = None
    limit: int | None = None
    offset: int | None = None


async def _info(ref: ActorRef) -> McpServerInfo | None:
    try:
        info: McpServerInfo = await ref.ask(DescribeMcpServer())
    except ActorError:
        return None
    return info


async def _server(rt: Mastra, server_id: str, missing: str) -> tuple[ActorRef, McpServerInfo]:
    ref = rt.lookup(server_id, kind=KIND)
    info = None if ref is None else await _info(ref)
    if ref is None or info is None:
        raise NotFound(missing)
    return ref, info


def _page(request: Request) -> Page:
    try:
        page = msgspec.convert(dict(request.query_params), Page, strict=False)
    except msgspec.ValidationError as exc:
        raise BadRequest([Issue(field="query", message=str(exc), path="$")], str(exc)) from None
    for name in ("page", "perPage", "limit", "offset"):
        value = getattr(page, name)
        if value is not None and value < (1 if name in ("perPage", "limit") else 0):
            issue = Issue(
                field=name, message="must not be negative (perPage, limit: >= 1)", path=f"$.{name}"
            )
            raise BadRequest([issue], f"Invalid {name}")
    return page


async def list_servers(request: Request) -> Response:
    """``{servers: [ServerInfo], total_count, next}``."""
    rt = AppContext.of(request).rt
    q = _page(request)
    infos = [info for ref in rt.actors(KIND).values() if (info := await _info(ref)) is not None]
    per_page = q.perPage if q.perPage is not None else q.limit
    legacy = (q.limit is not None or q.offset is not None) and q.page is None and q.perPage is None
    page = q.page
    if page is None and q.offset is not None and per_page:
        page = q.offset // per_page
    start = (page or 0) * per_page if per_page is not None else 0
    shown = infos if per_page is None else infos[start : start + per_page]
    following: str | None = None
    if per_page is not None and start + per_page < len(infos):
        if legacy:
            following = f"/mcp/v0/servers?limit={per_page}&offset={start + per_page}"
        else:
            following = f"/mcp/v0/servers?perPage={per_page}&page={(page or 0) + 1}"
    return json_response(
        {"servers": [i.json() for i in shown], "total_count": len(infos), "next": following}
    )


async def get_server(request: Request) -> Response:
    """Mastra's ``ServerDetail`` (404 for an unknown id or version)."""
    server_id = request.path_params["server_id"]
    _, info = await _server(
        AppContext.of(request).rt, server_id, f"MCP server with ID '{server_id}' not found"
    )
    version = request.query_params.get("version")
    if version and version != info.version:
        raise NotFound(
            f"MCP server with ID '{server_id}' found, but not version '{version}'. "
            f"Available version: {info.version}"
        )
    return json_response({**info.json(), "package_canonical": "", "packages": [], "remotes": []})


def _tool_json(item: Exposed) -> dict[str, Any]:
    return {
        "name": item.name,
        "description": item.description,
        "inputSchema": item.input_schema,
        "toolType": item.tool_type,
    }


async def list_tools(request: Request) -> Response:
    """``{tools: [{id, name, description, inputSchema, toolType}]}``."""
    rt = AppContext.of(request).rt
    server_id = request.path_params["server_id"]
    _, info = await _server(rt, server_id, f"MCP server with ID '{server_id}' not found")
    offered = await exposed_tools(rt, info.selection)
    return json_response({"tools": [{"id": n, **_tool_json(t)} for n, t in offered.items()]})


async def get_tool(request: Request) -> Response:
    """One offered tool: ``{name, description, inputSchema, toolType}``."""
    rt = AppContext.of(request).rt
    server_id, tool_id = request.path_params["server_id"], request.path_params["tool_id"]
    _, info = await _server(rt, server_id, f"MCP server with ID '{server_id}' not found")
    item = (await exposed_tools(rt, info.selection)).get(tool_id)
    if item is None:
        raise NotFound(f"Tool with ID '{tool_id}' not found on MCP server '{server_id}'")
    return json_response(_tool_json(item))


async def execute_tool(request: Request) -> Response:
    """``{result}``; arguments that do not fit: 400 naming each field."""
    rt = AppContext.of(request).rt
    server_id, tool_id = request.path_params["server_id"], request.path_params["tool_id"]
    _, info = await _server(rt, server_id, f"MCP server with ID '{server_id}' not found")
    body = await decode_body(request, ExecuteBody)
    item = find_exposed(rt, info.selection, tool_id)
    if item is None:
        raise NotFound(f"Tool with ID '{tool_id}' not found on MCP server '{server_id}'")
    outcome = await run_exposed(item, body.data)
    if outcome.ok:
        return json_response({"result": outcome.value})
    if outcome.issues:
        issues = [
            Issue(
                field=f"data.{i.field}" if i.field else "data",
                message=i.message,
                path=f"$.data.{i.field}",
            )
            for i in outcome.issues
        ]
        raise BadRequest(issues, outcome.error)
    return json_response({"error": outcome.error}, status=500)


class McpEndpoint:
    """``/api/mcp/:serverId/mcp`` for every method: the server's streamable-HTTP transport."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        server_id = request.path_params["server_id"]
        try:
            ref, _ = await _server(
                AppContext.of(request).rt, server_id, f"MCP server '{server_id}' not found"
            )
            handler = await ref.ask(GetMcpHttpHandler())
        except (NotFound, ActorError) as exc:
            response = json_response({"error": str(exc)}, status=404)
            await response(scope, receive, send)
            return
        await handler(scope, receive, send)


def routes() -> list[Route]:
    """The MCP routes."""
    return [
        Route("/api/mcp/v0/servers", list_servers, methods=["GET"]),
        Route("/api/mcp/v0/servers/{server_id}", get_server, methods=["GET"]),
        Route("/api/mcp/{server_id}/tools", list_tools, methods=["GET"]),
        Route("/api/mcp/{server_id}/tools/{tool_id}", get_tool, methods=["GET"]),
        Route("/api/mcp/{server_id}/tools/{tool_id}/execute", execute_tool, methods=["POST"]),
        Route("/api/mcp/{server_id}/mcp", McpEndpoint()),
    ]
