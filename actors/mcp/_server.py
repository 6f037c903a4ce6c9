"""``MCPServer``: offers the runtime's agents, workflows and tools over MCP.

Over streamable HTTP the server's routes (``/api/mcp/<id>/mcp``) hand each request to the
SDK's session manager, which runs in this actor's nursery; ``mastra mcp`` serves the same
protocol server over stdio.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import mcp_types as types
import msgspec
import trio
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.types import Receive, Scope, Send

from actors.mcp._catalog import Outcome, exposed_tools, find_exposed, run_exposed
from actors.mcp.messages import DescribeMcpServer, GetMcpHttpHandler, McpServerInfo, Selection
from runtime import Actor, ConfigError, Mastra, UnhandledMessage

__all__ = ["MCPServer", "McpServerOptions", "build_protocol_server"]

log = logging.getLogger(__name__)
_json = msgspec.json.Encoder()


class McpServerOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An ``MCPServer``'s ``options``: its identity and what it offers (all by default)."""

    name: str | None = None
    version: str = "1.0.0"
    description: str | None = None
    tools: list[str] = msgspec.field(default_factory=lambda: ["*"])
    agents: list[str] = msgspec.field(default_factory=lambda: ["*"])
    workflows: list[str] = msgspec.field(default_factory=lambda: ["*"])


def _result(outcome: Outcome) -> types.CallToolResult:
    if not outcome.ok:
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=outcome.error)], is_error=True
        )
    value = outcome.value
    text = value if isinstance(value, str) else _json.encode(value).decode()
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)],
        structured_content=value if isinstance(value, dict) else None,
    )


def build_protocol_server(rt: Mastra, info: McpServerInfo) -> Server[Any]:
    """The SDK's protocol server answering ``tools/list`` and ``tools/call`` from ``rt``:
    the list is read when asked, so actors started later appear. A failed call is a result
    with ``isError`` and a readable message, never a protocol error."""

    async def list_tools(
        _ctx: ServerRequestContext[Any], _params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        offered = await exposed_tools(rt, info.selection)
        return types.ListToolsResult(
            tools=[
                types.Tool(name=t.name, description=t.description, input_schema=t.input_schema)
                for t in offered.values()
            ]
        )

    async def call_tool(
        _ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        item = find_exposed(rt, info.selection, params.name)
        if item is None:
            return _result(Outcome(ok=False, error=f"Unknown tool: {params.name}"))
        return _result(await run_exposed(item, params.arguments or {}))

    return Server(
        info.name,
        version=info.version,
        description=info.description,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


class MCPServer(Actor):
    """An MCP server (kind ``mcp-server``) offering this runtime's agents, workflows and
    tools; from config: ``factory = "actors.mcp:MCPServer"``, ``options`` an
    ``McpServerOptions``. Its id is the actor's name (``/api/mcp/<id>/...``).

    The SDK's streamable-HTTP session manager runs in this actor's nursery: stopping the
    actor ends every MCP session it serves. Raises ``ConfigError`` for bad options.
    """

    uses_nursery = True

    def __init__(self, options: McpServerOptions | None = None, **raw: Any) -> None:
        if options is None:
            try:
                options = msgspec.convert(raw, McpServerOptions, strict=False)
            except msgspec.ValidationError as exc:
                raise ConfigError(f"MCP server options: {exc}") from None
        self.options = options

    async def on_start(self) -> None:
        o = self.options
        server_id = self.ctx.name
        self.info = McpServerInfo(
            id=server_id,
            name=o.name or server_id,
            version=o.version,
            description=o.description,
            release_date=datetime.now(UTC).isoformat(timespec="seconds"),
            selection=Selection(tools=o.tools, agents=o.agents, workflows=o.workflows),
        )
        protocol = build_protocol_server(self.ctx.runtime, self.info)
        self.manager = StreamableHTTPSessionManager(app=protocol)
        await self.ctx.nursery.start(self._run_manager)

    async def _run_manager(self, *, task_status: trio.TaskStatus[None]) -> None:
        async with self.manager.run():
            task_status.started()
            await trio.sleep_forever()

    async def handle_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one streamable-HTTP request (called in the HTTP server's request task)."""
        await self.manager.handle_request(scope, receive, send)

    async def receive(self, msg: DescribeMcpServer | GetMcpHttpHandler) -> Any:
        match msg:
            case DescribeMcpServer():
                return self.info
            case GetMcpHttpHandler():
                return self.handle_http
        raise UnhandledMessage(f"MCP server does not handle {type(msg).__name__}")
