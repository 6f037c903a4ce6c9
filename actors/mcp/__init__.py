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
"""

from actors.mcp._client import MCPClient, McpClientRef, McpServer, mcp_server
from actors.mcp._connect import McpConnectError
from actors.mcp._session import McpServerGone, McpSession
from actors.mcp._tool import McpToolActor
from actors.mcp.config import McpConnection
from actors.mcp.messages import CallMcpTool, ListClientTools, ListMcpTools, McpToolInfo

__all__ = [
    "CallMcpTool",
    "ListClientTools",
    "ListMcpTools",
    "MCPClient",
    "McpClientRef",
    "McpConnectError",
    "McpConnection",
    "McpServer",
    "McpServerGone",
    "McpSession",
    "McpToolActor",
    "McpToolInfo",
    "mcp_server",
]
