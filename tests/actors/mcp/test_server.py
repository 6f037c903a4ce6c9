"""Our MCP server: the SDK's own client drives it over streamable HTTP (mounted in the served
app) and over stdio (``mastra mcp`` as a subprocess); Mastra's ``/api/mcp`` routes."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import mcp_types
import pytest
from mcp import Client, StdioServerParameters

from actors.agent import Agent
from actors.demo import add, three_step
from actors.llm import ScriptedConfig, spawn_provider
from actors.mcp import MCPServer, McpServerOptions
from actors.server import GetAddress, Server, ServerConfig
from actors.stores import SqliteStore
from runtime.testing import open_test_runtime
from tests.actors.mcp.conftest import ROOT

ECHO = Agent(
    name="echo",
    description="Echoes the last user message",
    instructions="You echo what the user says.",
    model="scripted",
    tools=[add],
)


@asynccontextmanager
async def _served(**options: Any) -> AsyncIterator[str]:
    """The runtime with a tool, an agent, a workflow and MCP server ``mastra``, served over
    HTTP; yields the base URL."""
    async with open_test_runtime() as t:
        await spawn_provider(t.rt, "scripted", ScriptedConfig())
        await t.rt.spawn(SqliteStore, ":memory:", name="store", kind="store")
        await t.rt.spawn(add)
        await t.rt.spawn(ECHO)
        await t.rt.spawn(three_step.deploy(store="store"))
        await t.rt.spawn(MCPServer, McpServerOptions(**options), name="mastra", kind="mcp-server")
        server = await t.rt.spawn(Server, ServerConfig(port=0), name="server")
        yield await server.ask(GetAddress())


def _text(result: mcp_types.CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, mcp_types.TextContent)
    return block.text


async def _drive(client: Client) -> None:
    """What both transports must do for the SDK's client."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert {"add", "ask_echo", "run_three-step"} <= set(tools)
    assert tools["ask_echo"].input_schema["required"] == ["message"]
    assert tools["add"].input_schema["properties"]["a"]["type"] == "number"

    added = await client.call_tool("add", {"a": 2, "b": 40})
    assert not added.is_error
    assert added.structured_content == {"sum": 42}

    asked = await client.call_tool("ask_echo", {"message": "hello over MCP"})
    assert not asked.is_error, _text(asked)
    assert json.loads(_text(asked))["text"] == "Echo: hello over MCP"

    ran = await client.call_tool("run_three-step", {"value": 5})
    assert not ran.is_error, _text(ran)
    assert ran.structured_content is not None
    assert ran.structured_content["status"] == "success"
    assert ran.structured_content["result"] == {"value": 12, "message": "result=12"}

    bad = await client.call_tool("add", {"a": "two"})
    assert bad.is_error
    assert "- a: Invalid input: expected number, received string" in _text(bad)
    assert "- b: Invalid input: expected number, received undefined" in _text(bad)

    bad_flow = await client.call_tool("run_three-step", {"value": "five"})
    assert bad_flow.is_error and "value" in _text(bad_flow)

    unknown = await client.call_tool("nope", {})
    assert unknown.is_error and _text(unknown) == "Unknown tool: nope"


async def test_sdk_client_over_streamable_http() -> None:
    async with _served() as base, Client(f"{base}/api/mcp/mastra/mcp") as client:
        await _drive(client)


async def test_selection_limits_what_is_offered() -> None:
    async with (
        _served(agents=[], workflows=["three-step"], tools=[]) as base,
        Client(f"{base}/api/mcp/mastra/mcp") as client,
    ):
        names = [tool.name for tool in (await client.list_tools()).tools]
        assert names == ["run_three-step"]
        hidden = await client.call_tool("add", {"a": 1, "b": 2})
        assert hidden.is_error and _text(hidden) == "Unknown tool: add"


async def test_sdk_client_over_stdio(tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "runtime", "mcp", "--config", str(ROOT / "config" / "default.toml")],
        env={"MASTRA_DATA": str(tmp_path)},
        cwd=str(ROOT),
    )
    async with Client(params) as client:
        await _drive(client)


async def test_mastra_mcp_routes() -> None:
    async with (
        _served(description="Everything here") as base,
        httpx.AsyncClient(base_url=base) as http,
    ):
        listed = (await http.get("/api/mcp/v0/servers")).json()
        assert listed["total_count"] == 1 and listed["next"] is None
        (server,) = listed["servers"]
        assert server["id"] == "mastra" and server["name"] == "mastra"
        assert server["description"] == "Everything here"
        assert server["version_detail"]["version"] == "1.0.0"
        assert server["version_detail"]["is_latest"] is True
        paged = (await http.get("/api/mcp/v0/servers", params={"perPage": 1, "page": 1})).json()
        assert paged == {"servers": [], "total_count": 1, "next": None}
        bad_page = await http.get("/api/mcp/v0/servers", params={"perPage": "x"})
        assert bad_page.status_code == 400

        detail = (await http.get("/api/mcp/v0/servers/mastra")).json()
        assert detail["packages"] == [] and detail["remotes"] == []
        missing = await http.get("/api/mcp/v0/servers/nope")
        assert missing.status_code == 404
        assert missing.json() == {"error": "MCP server with ID 'nope' not found"}

        tools = (await http.get("/api/mcp/mastra/tools")).json()["tools"]
        by_id = {tool["id"]: tool for tool in tools}
        assert by_id["ask_echo"]["toolType"] == "agent"
        assert by_id["run_three-step"]["toolType"] == "workflow"
        assert by_id["add"]["toolType"] == "tool"
        one = (await http.get("/api/mcp/mastra/tools/ask_echo")).json()
        assert one["name"] == "ask_echo" and "description" in one and "inputSchema" in one
        assert (await http.get("/api/mcp/mastra/tools/nope")).json() == {
            "error": "Tool with ID 'nope' not found on MCP server 'mastra'"
        }

        done = await http.post("/api/mcp/mastra/tools/add/execute", json={"data": {"a": 1, "b": 2}})
        assert done.status_code == 200 and done.json() == {"result": {"sum": 3}}
        bad = await http.post("/api/mcp/mastra/tools/add/execute", json={"data": {"a": 1}})
        assert bad.status_code == 400
        assert bad.json()["issues"][0]["field"] == "data.b"
        asked = await http.post(
            "/api/mcp/mastra/tools/ask_echo/execute", json={"data": {"message": "hi"}}
        )
        assert asked.json()["result"]["text"] == "Echo: hi"
        gone = await http.post("/api/mcp/nope/mcp", json={})
        assert gone.status_code == 404
        assert gone.json() == {"error": "MCP server 'nope' not found"}


@pytest.mark.parametrize("argv", [["--config", "missing.toml"], ["--config"]])
def test_mcp_command_usage_errors(argv: list[str]) -> None:
    from actors.commands.mcp import main

    assert main(argv) == 2
