"""``GET /api/agents/:agentId/tools/:toolId`` and ``POST .../execute`` on a real server."""

from __future__ import annotations

import json

from actors.server import TokenConfig
from tests.actors.server.conftest import OpenServer


async def test_an_agents_tool_is_described_like_the_tools_route(
    open_agent_server: OpenServer,
) -> None:
    async with open_agent_server() as (_, client):
        got = await client.get("/api/agents/echo/tools/add")
        assert got.status_code == 200
        assert got.json() == (await client.get("/api/tools/add")).json()
        assert json.loads(got.json()["inputSchema"])["json"]["required"] == ["a", "b"]


async def test_an_agents_tool_executes_with_data_and_either_context_name(
    open_agent_server: OpenServer,
) -> None:
    async with open_agent_server() as (_, client):
        url = "/api/agents/echo/tools/add/execute"
        done = await client.post(url, json={"data": {"a": 2, "b": 40}})
        assert (done.status_code, done.json()) == (200, {"sum": 42})
        older = await client.post(url, json={"data": {"a": 1, "b": 1}, "runtimeContext": {"u": 1}})
        assert older.json() == {"sum": 2}
        invalid = await client.post(url, json={"data": {"a": "x"}})
        assert invalid.status_code == 200  # Mastra answers validation failures with 200
        assert invalid.json()["error"] is True
        assert set(invalid.json()["validationErrors"]["fields"]) == {"a", "b"}


async def test_unknown_agents_and_tools_are_404(open_agent_server: OpenServer) -> None:
    async with open_agent_server() as (_, client):
        for method, url in [
            ("GET", "/api/agents/nope/tools/add"),
            ("POST", "/api/agents/nope/tools/add/execute"),
        ]:
            response = await client.request(method, url, json={"data": {}})
            assert response.status_code == 404
            assert response.json() == {"error": "Agent with id nope not found"}
        for method, url in [
            ("GET", "/api/agents/echo/tools/nope"),
            ("GET", "/api/agents/echo/tools/shout"),  # a tool, but not the agent's
            ("POST", "/api/agents/echo/tools/shout/execute"),
        ]:
            response = await client.request(method, url, json={"data": {"text": "hi"}})
            assert (response.status_code, response.json()) == (404, {"error": "Tool not found"})


async def test_a_bad_execute_body_is_400_naming_the_field(open_agent_server: OpenServer) -> None:
    async with open_agent_server() as (_, client):
        url = "/api/agents/echo/tools/add/execute"
        broken = await client.post(url, content=b"{nope")
        assert broken.status_code == 400 and broken.json()["issues"][0]["field"] == "body"
        context = await client.post(url, json={"data": {}, "requestContext": [1]})
        assert context.status_code == 400
        assert context.json()["issues"][0]["field"] == "requestContext"


async def test_a_token_limited_in_tools_may_not_use_the_agents_other_tools(
    open_agent_server: OpenServer,
) -> None:
    tokens = [TokenConfig(token="t", agents=["echo"], tools=["shout"])]
    async with open_agent_server(tokens=tokens) as (_, client):
        headers = {"authorization": "Bearer t"}
        got = await client.get("/api/agents/echo/tools/add", headers=headers)
        assert got.status_code == 403
        assert got.json() == {"error": "Forbidden: this token may not use tool add"}
        run = await client.post(
            "/api/agents/echo/tools/add/execute", json={"data": {}}, headers=headers
        )
        assert run.status_code == 403
        other = await client.get("/api/agents/plain/tools/add", headers=headers)
        assert other.status_code == 403  # the agent itself is refused by the middleware
