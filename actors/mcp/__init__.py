"""MCP (Model Context Protocol), both ways, with the official ``mcp`` SDK on Trio.

As a client: each MCP server (a command run over stdio, or an HTTP URL) becomes an
``MCPClient`` actor whose tools are tool actors (``<client>_<tool>``), listed by
``/api/tools`` and usable by agents; a server process that dies is restarted by supervision.

```toml
[[actors]]
name = "weather"
factory = "actors.mcp:MCPClient"
options = { command = "python", args = ["-m", "weather_server"] }
```

```python
weather = mcp_server("weather", command="python", args=["-m", "weather_server"])
agent = Agent(name="forecaster", instructions="...", model="scripted", tools=[weather])
```

As a server: ``MCPServer`` offers the runtime's agents (``ask_<agentId>``), workflows
(``run_<workflowId>``) and tools over streamable HTTP (``/api/mcp/<id>/mcp``) and over
stdio (``mastra mcp``).

Names load on first use, so the HTTP server's routes do not import the SDK until needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from actors.mcp._client import MCPClient, McpClientRef, McpServer, mcp_server
    from actors.mcp._connect import McpConnectError
    from actors.mcp._server import MCPServer, McpServerOptions, build_protocol_server
    from actors.mcp._session import McpServerGone, McpSession
    from actors.mcp._tool import McpToolActor
    from actors.mcp.config import McpConnection
    from actors.mcp.messages import (
        CallMcpTool,
        DescribeMcpServer,
        GetMcpHttpHandler,
        ListClientTools,
        ListMcpTools,
        McpServerInfo,
        McpToolInfo,
        Selection,
    )

_HOMES = {
    "MCPClient": "_client",
    "McpClientRef": "_client",
    "McpServer": "_client",
    "mcp_server": "_client",
    "McpConnectError": "_connect",
    "MCPServer": "_server",
    "McpServerOptions": "_server",
    "build_protocol_server": "_server",
    "McpServerGone": "_session",
    "McpSession": "_session",
    "McpToolActor": "_tool",
    "McpConnection": "config",
    "CallMcpTool": "messages",
    "DescribeMcpServer": "messages",
    "GetMcpHttpHandler": "messages",
    "ListClientTools": "messages",
    "ListMcpTools": "messages",
    "McpServerInfo": "messages",
    "McpToolInfo": "messages",
    "Selection": "messages",
}

__all__ = [
    "CallMcpTool",
    "DescribeMcpServer",
    "GetMcpHttpHandler",
    "ListClientTools",
    "ListMcpTools",
    "MCPClient",
    "MCPServer",
    "McpClientRef",
    "McpConnectError",
    "McpConnection",
    "McpServer",
    "McpServerGone",
    "McpServerInfo",
    "McpServerOptions",
    "McpSession",
    "McpToolActor",
    "McpToolInfo",
    "Selection",
    "build_protocol_server",
    "mcp_server",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"actors.mcp.{home}"), name)
