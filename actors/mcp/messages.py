"""Messages of the MCP client actors (they round-trip through the runtime's codec)."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["CallMcpTool", "ListClientTools", "ListMcpTools", "McpToolInfo"]


class McpToolInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A tool as the MCP server listed it; the schemas are the server's, unchanged."""

    name: str
    description: str = ""
    input_schema: dict[str, Any] = {}
    output_schema: dict[str, Any] | None = None


class ListMcpTools(msgspec.Struct, frozen=True, tag=True):
    """Ask a session actor for the server's tools, once it is connected."""


class CallMcpTool(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Call the server's tool ``name``; answered with a ``ToolResult`` for ``tool_id``."""

    tool_id: str
    name: str
    args: dict[str, Any]
    call_id: str | None = None


class ListClientTools(msgspec.Struct, frozen=True, tag=True):
    """Ask an ``MCPClient`` for the ids of the tool actors it runs for its server."""
