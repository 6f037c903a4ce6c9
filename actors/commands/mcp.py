"""``mastra mcp --config CONFIG``: serve the config's agents, workflows and tools over MCP on stdio.

Starts the config's actors (not its HTTP servers) and speaks MCP on stdin/stdout until the
client closes stdin: agents are ``ask_<agentId>`` tools (``{message}``), workflows
``run_<workflowId>`` tools (the workflow's input), tools themselves. With ``--server ID``
(or when the config declares exactly one ``actors.mcp:MCPServer``) that server's name,
version and selection apply; otherwise everything is offered as ``mastra``. Logs go to
stderr, as stdout carries the protocol. Exit codes: 0 after stdin closed, 1 the runtime
could not start, 2 a usage or config error.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

import trio

from actors.commands._common import (
    UsageError,
    command_parser,
    load_app_config,
    quiet_logging,
    run_command,
    without_servers,
)
from actors.mcp.messages import DescribeMcpServer, McpServerInfo
from runtime import Mastra, configure_logging, open_runtime

__all__ = ["main"]

EXAMPLES = [
    "mastra mcp --config config/default.toml",
    "mastra mcp --config config.toml --server public",
]


def _parser() -> argparse.ArgumentParser:
    parser = command_parser(
        "mcp",
        "Serve the agents, workflows and tools of a config over MCP on stdin/stdout.",
        EXAMPLES,
    )
    parser.add_argument("--config", required=True, help="path of the TOML configuration file")
    parser.add_argument("--server", help="id of the configured MCP server to serve")
    parser.add_argument("--verbose", action="store_true", help="show the runtime's INFO logs")
    return parser


async def _info(rt: Mastra, server_id: str | None) -> McpServerInfo:
    """The configured server's description, or one offering everything."""
    servers = rt.actors("mcp-server")
    if server_id is not None and server_id not in servers:
        known = ", ".join(sorted(servers)) or "none"
        raise UsageError(f"--server: unknown MCP server {server_id!r} (configured: {known})")
    if server_id is None and len(servers) == 1:
        server_id = next(iter(servers))
    if server_id is not None:
        info: McpServerInfo = await servers[server_id].ask(DescribeMcpServer())
        return info
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    return McpServerInfo(id="mastra", name="mastra", version="1.0.0", release_date=stamp)


async def _serve(args: argparse.Namespace) -> int:
    from mcp.server.stdio import stdio_server

    from actors.mcp._server import build_protocol_server

    config = quiet_logging(without_servers(load_app_config(args.config)), args.verbose)
    configure_logging(config.logging, sys.stderr)
    async with open_runtime(config) as rt:
        protocol = build_protocol_server(rt, await _info(rt, args.server))
        async with stdio_server() as (read, write):
            await protocol.run(read, write, protocol.create_initialization_options())
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``mastra mcp``; returns the exit code (see the module docstring)."""
    return run_command("mcp", _parser(), argv, lambda args: trio.run(_serve, args))


if __name__ == "__main__":
    sys.exit(main())
