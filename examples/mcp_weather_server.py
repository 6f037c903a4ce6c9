"""A tiny MCP server written with the official ``mcp`` SDK, spoken to over stdio.

``examples/mcp_tools.py`` starts it as a subprocess; any MCP client can:
``python -m examples.mcp_weather_server`` reads MCP on stdin and answers on stdout.
"""

from __future__ import annotations

import trio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("weather", instructions="Current weather for a few cities.")

_CLIMATE = {"paris": (18, "cloudy"), "lisbon": (24, "sunny"), "oslo": (6, "rain")}


@server.tool()
def get_weather(city: str) -> dict[str, object]:
    """Current weather for a city."""
    found = _CLIMATE.get(city.lower())
    if found is None:
        raise ToolError(f"unknown city {city!r}; known: {', '.join(sorted(_CLIMATE))}")
    temperature, conditions = found
    return {"city": city, "temperature_c": temperature, "conditions": conditions}


if __name__ == "__main__":
    trio.run(server.run_stdio_async)
