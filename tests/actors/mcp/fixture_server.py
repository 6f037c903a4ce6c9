"""A small MCP server written with the official SDK, run as a subprocess by the tests.

``python -m tests.actors.mcp.fixture_server`` serves over stdio; with ``--http`` or
``--sse`` it serves that HTTP transport with hypercorn on Trio on a free loopback port and
prints its URL as the first line of stdout.
"""

from __future__ import annotations

import os
import sys

import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("fixture", instructions="Arithmetic and process facts, for tests.")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def echo(text: str) -> str:
    """Say the text back."""
    return text


@server.tool()
def pid() -> int:
    """The server's process id."""
    return os.getpid()


@server.tool()
def fail(reason: str) -> str:
    """Always fails, with the given reason."""
    raise ToolError(reason)


async def _serve_http(sse: bool) -> None:
    app = server.sse_app() if sse else server.streamable_http_app()
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    config.errorlog = None
    async with trio.open_nursery() as nursery:
        binds: list[str] = await nursery.start(serve, app, config)
        path = "/sse" if sse else "/mcp"
        print(f"{binds[0]}{path}", flush=True)


def main() -> None:
    """Serve over stdio, or HTTP with ``--http`` / ``--sse``."""
    if "--http" in sys.argv or "--sse" in sys.argv:
        trio.run(_serve_http, "--sse" in sys.argv)
    else:
        trio.run(server.run_stdio_async)


if __name__ == "__main__":
    main()
