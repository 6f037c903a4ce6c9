"""The session actor: owns one connection to an MCP server inside its incarnation.

When the server goes away (a stdio server's process exits, an HTTP connection is lost) the
incarnation crashes, and its supervisor restarts it: a new process, a new session. While it
is not connected, calls get an ``unavailable`` tool error at once instead of waiting.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import httpx2
import mcp_types
import trio
from mcp.shared.exceptions import MCPError

from actors.mcp._connect import Connection, open_connection
from actors.mcp.config import McpConnection
from actors.mcp.messages import CallMcpTool, ListMcpTools, McpToolInfo
from actors.tools import ToolError, ToolResult
from runtime import Actor, UnhandledMessage

__all__ = ["McpServerGone", "McpSession", "tool_result"]

log = logging.getLogger(__name__)
_LOST_CODES = frozenset({mcp_types.CONNECTION_CLOSED})


class McpServerGone(Exception):
    """The MCP server closed the connection; the session actor restarts to reconnect."""


def _info(tool: mcp_types.Tool) -> McpToolInfo:
    return McpToolInfo(
        name=tool.name,
        description=tool.description or tool.title or tool.name,
        input_schema=dict(tool.input_schema),
        output_schema=None if tool.output_schema is None else dict(tool.output_schema),
    )


def _text(result: mcp_types.CallToolResult) -> str:
    texts = [block.text for block in result.content if isinstance(block, mcp_types.TextContent)]
    return "\n".join(texts) or "the tool reported an error"


def tool_result(tool_id: str, call_id: str | None, result: mcp_types.CallToolResult) -> ToolResult:
    """The ``ToolResult`` of an MCP call: its value is the server's result as JSON (content,
    structuredContent, isError, ...); a result flagged ``isError`` is also an ``execution``
    error whose message is the result's text."""
    value = result.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if not result.is_error:
        return ToolResult(tool_id=tool_id, call_id=call_id, value=value)
    error = ToolError(kind="execution", message=f"Tool {tool_id} failed: {_text(result)}")
    return ToolResult(tool_id=tool_id, call_id=call_id, ok=False, value=value, error=error)


class McpSession(Actor):
    """Connects to one MCP server when it starts and calls its tools (up to ``concurrency``
    calls at once over the one session).

    ``on_start`` returns at once; the connection is made in the incarnation's nursery.
    ``ListMcpTools`` waits for it. A connection that fails or ends crashes the incarnation
    (``ActorCrashed`` to the calls in flight); the supervisor restarts it with backoff.
    """

    uses_nursery = True
    concurrency: ClassVar[int] = 64

    def __init__(self, name: str, config: McpConnection) -> None:
        self.name = name
        self.config = config
        self.connection: Connection | None = None
        self.tools: list[McpToolInfo] = []
        self.connected = trio.Event()
        self.lost = trio.Event()

    async def on_start(self) -> None:
        self.ctx.nursery.start_soon(self._connect)

    async def _connect(self) -> None:
        async with open_connection(self.config, self.name) as connection:
            self.tools = await _list_all(connection)
            self.connection = connection
            self.connected.set()
            log.info(
                "MCP server %r connected over %s: %d tools",
                self.name,
                connection.transport,
                len(self.tools),
            )
            async with trio.open_nursery() as watch:
                watch.start_soon(_set_when, connection.ended, self.lost)
                await self.lost.wait()
                watch.cancel_scope.cancel()
            self.connection = None
        raise McpServerGone(f"MCP server {self.name!r} ({self.config.label}) went away")

    async def receive(self, msg: CallMcpTool | ListMcpTools) -> ToolResult | list[McpToolInfo]:
        match msg:
            case CallMcpTool():
                return await self._call(msg)
            case ListMcpTools():
                await self.connected.wait()
                return self.tools
        raise UnhandledMessage(f"MCP session {self.name!r} does not handle {type(msg).__name__}")

    def _unavailable(self, msg: CallMcpTool, why: str) -> ToolResult:
        message = f"Tool {msg.tool_id} is unavailable: MCP server {self.name!r} {why}"
        error = ToolError(kind="unavailable", message=message)
        return ToolResult(tool_id=msg.tool_id, call_id=msg.call_id, ok=False, error=error)

    async def _call(self, msg: CallMcpTool) -> ToolResult:
        connection = self.connection
        if connection is None or self.lost.is_set():
            return self._unavailable(msg, "is not connected (starting or restarting); try again")
        try:
            result = await connection.client.call_tool(msg.name, msg.args)
        except MCPError as exc:
            if exc.code in _LOST_CODES:
                self.lost.set()
                return self._unavailable(msg, f"closed the connection: {exc.message}")
            error = ToolError(kind="execution", message=f"Tool {msg.tool_id} failed: {exc}")
            return ToolResult(tool_id=msg.tool_id, call_id=msg.call_id, ok=False, error=error)
        except (httpx2.TransportError, OSError, trio.BrokenResourceError) as exc:
            self.lost.set()
            return self._unavailable(msg, f"could not be reached: {exc!r}")
        return tool_result(msg.tool_id, msg.call_id, result)


async def _set_when(source: trio.Event, target: trio.Event) -> None:
    await source.wait()
    target.set()


async def _list_all(connection: Connection) -> list[McpToolInfo]:
    """Every tool, following the server's pagination."""
    tools: list[McpToolInfo] = []
    cursor: str | None = None
    while True:
        page = await connection.client.list_tools(cursor=cursor)
        tools += [_info(tool) for tool in page.tools]
        if not page.next_cursor:
            return tools
        cursor = page.next_cursor
