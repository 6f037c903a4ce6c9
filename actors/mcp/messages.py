"""Messages of the MCP client actors (they round-trip through the runtime's codec)."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "CallMcpTool",
    "DescribeMcpServer",
    "GetMcpHttpHandler",
    "ListClientTools",
    "ListMcpTools",
    "McpServerInfo",
    "McpToolInfo",
    "Selection",
]


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


class Selection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which actors an MCP server offers, by name (``"*"``: all of that kind)."""

    tools: list[str] = msgspec.field(default_factory=lambda: ["*"])
    agents: list[str] = msgspec.field(default_factory=lambda: ["*"])
    workflows: list[str] = msgspec.field(default_factory=lambda: ["*"])


class McpServerInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What the MCP routes and ``mastra mcp`` need to know of a server."""

    id: str
    name: str
    version: str
    release_date: str
    description: str | None = None
    selection: Selection = Selection()

    def json(self) -> dict[str, Any]:
        """Mastra's ``ServerInfo``."""
        info: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.description is not None:
            info["description"] = self.description
        info["version_detail"] = {
            "version": self.version,
            "release_date": self.release_date,
            "is_latest": True,
        }
        return info


class DescribeMcpServer(msgspec.Struct, frozen=True, tag=True):
    """Ask an ``MCPServer`` for its ``McpServerInfo``."""


class GetMcpHttpHandler(msgspec.Struct, frozen=True, tag=True):
    """Ask an ``MCPServer`` for its streamable-HTTP ASGI handler (in-process only)."""
