"""Our MCP client against a server written with the SDK, run as a real subprocess."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest
import trio
from mcp import Client, StdioServerParameters

from actors.mcp import ListMcpTools, McpClientRef, mcp_server
from actors.tools import ToolRef
from runtime import ConfigError, config_from_dict
from runtime.testing import open_test_runtime
from tests.actors.mcp.conftest import FIXTURE, ROOT


def _options() -> dict[str, Any]:
    return {"command": FIXTURE[0], "args": FIXTURE[1:], "cwd": str(ROOT)}


def _tool(rt: Any, tool_id: str) -> ToolRef:
    ref = rt.lookup(tool_id, kind="tool")
    assert ref is not None, f"no tool {tool_id}"
    return ToolRef(ref)


async def test_configured_server_becomes_tool_actors_with_its_schemas() -> None:
    config = config_from_dict(
        {"actors": [{"name": "fixture", "factory": "actors.mcp:MCPClient", "options": _options()}]}
    )
    async with open_test_runtime(config) as t:
        tools = t.rt.actors("tool")
        assert sorted(tools) == ["fixture_add", "fixture_echo", "fixture_fail", "fixture_pid"]
        params = StdioServerParameters(command=FIXTURE[0], args=FIXTURE[1:], cwd=str(ROOT))
        async with Client(params) as sdk:
            listed = {tool.name: tool for tool in (await sdk.list_tools()).tools}
        info = await _tool(t.rt, "fixture_add").info()
        assert info.input_schema == listed["add"].input_schema  # unchanged
        assert info.output_schema == listed["add"].output_schema
        assert info.description == "Add two integers."

        result = await _tool(t.rt, "fixture_add").execute({"a": 2, "b": 40})
        assert result.ok, result.error
        assert result.value["structuredContent"] == {"result": 42}
        assert result.value["content"] == [{"type": "text", "text": "42"}]


async def test_bad_arguments_and_tool_failures_are_readable_errors() -> None:
    async with open_test_runtime() as t:
        await t.rt.spawn(mcp_server("fixture", **_options()))
        add = _tool(t.rt, "fixture_add")

        missing = await add.execute({"a": 1})
        assert not missing.ok and missing.error is not None
        assert missing.error.kind == "validation"
        assert [(e.field, e.message) for e in missing.error.validation_errors] == [
            ("b", "Required")
        ]
        assert "- b: Required" in missing.error.message

        wrong = await add.execute({"a": "one", "b": 2})
        assert wrong.error is not None and wrong.error.kind == "validation"
        assert wrong.error.validation_errors[0].field == "a"
        assert "'one' is not of type 'integer'" in wrong.error.message

        failed = await _tool(t.rt, "fixture_fail").execute({"reason": "no luck"})
        assert not failed.ok and failed.error is not None
        assert failed.error.kind == "execution"
        assert "no luck" in failed.error.message
        assert failed.value["isError"] is True


async def test_a_killed_server_is_restarted_and_its_tools_work_again() -> None:
    async with open_test_runtime() as t:
        client: McpClientRef = await t.rt.spawn(mcp_server("fixture", **_options()))
        pid_tool = _tool(t.rt, "fixture_pid")
        first = await pid_tool.execute({})
        old_pid = first.value["structuredContent"]["result"]

        os.kill(old_pid, signal.SIGKILL)
        meanwhile = await pid_tool.execute({})
        assert not meanwhile.ok and meanwhile.error is not None
        assert meanwhile.error.kind == "unavailable"
        assert "MCP server 'fixture'" in meanwhile.error.message

        session = t.rt.lookup("fixture", kind="mcp-session")
        assert session is not None
        while t.rt.stats("mcp-session")["fixture"].restarts < 1:
            await trio.sleep(0.01)
        await session.ask(ListMcpTools())  # answered once the new process is connected

        again = await pid_tool.execute({})
        assert again.ok, again.error
        assert again.value["structuredContent"]["result"] != old_pid
        assert [ref.id for ref in await client.tools()] == [
            "fixture_add",
            "fixture_echo",
            "fixture_pid",
            "fixture_fail",
        ]


async def test_a_server_that_cannot_start_fails_the_spawn_naming_it() -> None:
    async with open_test_runtime() as t:
        spec = mcp_server("broken", command=FIXTURE[0], args=["-c", "raise SystemExit(3)"])
        with pytest.raises(Exception, match="broken"):
            await t.rt.spawn(spec)
        assert t.rt.actors("tool") == {}


def test_bad_options_name_the_field() -> None:
    with pytest.raises(ConfigError, match="either `command`"):
        mcp_server("nothing")
    with pytest.raises(ConfigError, match="http:// or https://"):
        mcp_server("ftp", url="ftp://example.org")


async def test_mcp_tools_appear_in_api_tools_and_in_agents() -> None:
    import httpx

    from actors.agent import Agent
    from actors.llm import ScriptedConfig, spawn_provider
    from actors.server import GetAddress, Server, ServerConfig

    async with open_test_runtime() as t:
        await spawn_provider(t.rt, "scripted", ScriptedConfig())
        fixture = mcp_server("fixture", **_options())
        agent = Agent(name="helper", instructions="Help.", model="scripted", tools=[fixture])
        await t.rt.spawn(agent)  # starts the MCP client as its child
        server = await t.rt.spawn(Server, ServerConfig(port=0), name="server")
        async with httpx.AsyncClient(base_url=await server.ask(GetAddress())) as http:
            tools = (await http.get("/api/tools")).json()
            assert {"fixture_add", "fixture_echo", "fixture_pid", "fixture_fail"} <= set(tools)
            assert tools["fixture_add"]["description"] == "Add two integers."
            assert '"required":["a","b"]' in tools["fixture_add"]["inputSchema"]
            helper = (await http.get("/api/agents/helper")).json()
            assert {"fixture_add", "fixture_echo"} <= set(helper["tools"])
            run = await http.post(
                "/api/tools/fixture_echo/execute", json={"data": {"text": "via HTTP"}}
            )
            assert run.json()["structuredContent"] == {"result": "via HTTP"}
