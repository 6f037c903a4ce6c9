from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import trio

from actors.agent import Agent
from actors.demo import add
from actors.llm import HashEmbedConfig, ScriptedConfig, spawn_provider
from actors.memory import Memory
from actors.server import GetAddress, Server, ServerConfig
from actors.stores import SqliteStore, VectorStore
from runtime.testing import open_test_runtime

WIRE = Path(__file__).resolve().parents[2] / "fixtures" / "mastra-wire"
ECHO = Agent(
    name="echo",
    description="Echoes the last user message; adds numbers with the add tool",
    instructions="You echo what the user says. When asked to add two numbers, call the add tool.",
    model="scripted",
    tools=[add],
    memory=Memory(last_messages=10),
)


def _captured(name: str) -> Any:
    return json.loads((WIRE / name).read_text(encoding="utf-8").split("\n<\n", 1)[1])


@asynccontextmanager
async def _serve(chunk_delay: float = 0.0) -> AsyncIterator[httpx.AsyncClient]:
    async with open_test_runtime() as t:
        await spawn_provider(t.rt, "scripted", ScriptedConfig(chunk_delay=chunk_delay))
        await spawn_provider(t.rt, "hash", HashEmbedConfig(dimension=64))
        await t.rt.spawn(SqliteStore, ":memory:", name="store", kind="store")
        await t.rt.spawn(VectorStore, ":memory:", name="default", kind="store")
        await t.rt.spawn(ECHO)
        server = await t.rt.spawn(Server, ServerConfig(port=0), name="server")
        async with httpx.AsyncClient(base_url=await server.ask(GetAddress())) as client:
            yield client


def _events(text: str) -> list[Any]:
    lines = [
        line.removeprefix("data: ") for line in text.split("\n\n") if line.startswith("data: ")
    ]
    assert lines[-1] == "[DONE]"
    return [json.loads(line) for line in lines[:-1]]


async def test_list_and_get_agents_like_mastra() -> None:
    async with _serve() as client:
        listed = (await client.get("/api/agents")).json()
        expected = _captured("agents-list.txt")["echo"]
        got = listed["echo"]
        for key in ("description", "instructions"):
            assert got[key] == expected[key]
        assert set(got["tools"]) == {"add"}
        assert (await client.get("/api/agents/echo")).json() == got
        missing = await client.get("/api/agents/nope")
        assert (missing.status_code, missing.json()) == (404, _captured("error-404-agent.txt"))


async def test_generate_with_a_string_and_with_a_tool_call() -> None:
    async with _serve() as client:
        plain = (
            await client.post("/api/agents/echo/generate", json={"messages": "hello there world"})
        ).json()
        assert plain["text"] == _captured("agent-generate-string.txt")["text"]
        assert plain["finishReason"] == "stop" and plain["usage"]["totalTokens"] > 0
        tool = (
            await client.post(
                "/api/agents/echo/generate", json={"messages": "please add 2 and 40", "maxSteps": 3}
            )
        ).json()
        expected = _captured("agent-generate-tool.txt")
        assert tool["text"] == expected["text"] == "The sum is 42."
        assert [c["payload"]["args"] for c in tool["toolCalls"]] == [{"a": 2, "b": 40}]
        assert [r["payload"]["result"] for r in tool["toolResults"]] == [{"sum": 42.0}]
        assert len(tool["steps"]) == 2


async def test_stream_sends_mastra_chunks_in_order() -> None:
    async with _serve() as client:
        response = await client.post(
            "/api/agents/echo/stream", json={"messages": "please add 2 and 40", "maxSteps": 3}
        )
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response.text)
        kinds = [e["type"] for e in events]
        assert kinds[0] == "start" and kinds[-1] == "finish"
        assert kinds.index("tool-call") < kinds.index("tool-result") < kinds.index("text-delta")
        assert all(e["from"] == "AGENT" for e in events)
        text = "".join(e["payload"]["text"] for e in events if e["type"] == "text-delta")
        assert text == "The sum is 42."


async def test_stream_chunks_leave_before_the_answer_is_complete() -> None:
    async with _serve(chunk_delay=0.2) as client:
        body = {"messages": "one two three four five six"}
        async with client.stream("POST", "/api/agents/echo/stream", json=body) as response:
            start = trio.current_time()
            async for line in response.aiter_lines():
                if '"text-delta"' in line:
                    break
            first_delta = trio.current_time() - start
        assert first_delta < 0.6  # the whole answer takes seven chunks of 0.2 s


async def test_bad_bodies_name_the_field() -> None:
    async with _serve() as client:
        missing = await client.post("/api/agents/echo/generate", json={})
        assert missing.status_code == 400
        assert missing.json()["issues"][0]["field"] == "messages"
        wrong = await client.post(
            "/api/agents/echo/generate", json={"messages": "x", "maxSteps": 0}
        )
        assert wrong.status_code == 400 and wrong.json()["issues"][0]["field"] == "maxSteps"
        unknown = await client.post("/api/agents/nope/generate", json={"messages": "x"})
        assert unknown.status_code == 404


async def test_generate_with_memory_remembers_the_thread() -> None:
    async with _serve() as client:
        memory = {"thread": "t1", "resource": "u1"}
        await client.post(
            "/api/agents/echo/generate", json={"messages": "remember me", "memory": memory}
        )
        again = await client.post(
            "/api/agents/echo/generate", json={"messages": "and now", "memory": memory}
        )
        assert again.status_code == 200
        assert again.json()["text"] == "Echo: and now"


async def test_memory_routes_show_the_conversation_like_mastra() -> None:
    async with _serve() as client:
        memory = {"thread": "t9", "resource": "u9"}
        await client.post(
            "/api/agents/echo/generate", json={"messages": "remember me", "memory": memory}
        )
        status = (await client.get("/api/memory/status", params={"agentId": "echo"})).json()
        assert status["result"] is True
        config = (await client.get("/api/memory/config", params={"agentId": "echo"})).json()
        assert config == {
            "config": {
                "lastMessages": 10,
                "semanticRecall": False,
                "workingMemory": {"enabled": False},
                "generateTitle": False,
            }
        }
        threads = (
            await client.get("/api/memory/threads", params={"resourceId": "u9", "agentId": "echo"})
        ).json()
        assert [t["id"] for t in threads["threads"]] == ["t9"]
        assert threads.keys() == _captured("memory-threads.txt").keys()
        messages = (
            await client.get("/api/memory/threads/t9/messages", params={"agentId": "echo"})
        ).json()
        assert [(m["role"], m["content"]["content"]) for m in messages["messages"]] == [
            ("user", "remember me"),
            ("assistant", "Echo: remember me"),
        ]
        assert (
            messages["messages"][0].keys()
            == _captured("memory-thread-messages.txt")["messages"][0].keys()
        )
        missing = await client.get("/api/memory/threads/nope", params={"agentId": "echo"})
        assert (missing.status_code, missing.json()) == (404, _captured("error-404-thread.txt"))


async def test_thread_crud_and_working_memory() -> None:
    async with _serve() as client:
        created = (
            await client.post("/api/memory/threads", json={"resourceId": "u1", "title": "a"})
        ).json()
        tid = created["id"]
        patched = (await client.patch(f"/api/memory/threads/{tid}", json={"title": "b"})).json()
        assert patched["title"] == "b"
        await client.post(
            f"/api/memory/threads/{tid}/working-memory", json={"workingMemory": "# Notes"}
        )
        note = (await client.get(f"/api/memory/threads/{tid}/working-memory")).json()
        assert note["workingMemory"] == "# Notes"
        assert (await client.delete(f"/api/memory/threads/{tid}")).status_code == 200
        assert (await client.get(f"/api/memory/threads/{tid}")).status_code == 404
        bad = await client.post("/api/memory/threads", json={"title": "no resource"})
        assert bad.status_code == 400 and bad.json()["issues"][0]["field"] == "resourceId"


async def test_memory_config_of_an_agent_without_memory_is_a_400_like_mastra() -> None:
    async with open_test_runtime() as t:
        await spawn_provider(t.rt, "scripted", ScriptedConfig())
        await t.rt.spawn(SqliteStore, ":memory:", name="store", kind="store")
        await t.rt.spawn(Agent(name="plain", instructions="", model="scripted"))
        server = await t.rt.spawn(Server, ServerConfig(port=0), name="server")
        async with httpx.AsyncClient(base_url=await server.ask(GetAddress())) as client:
            plain = await client.get("/api/memory/config", params={"agentId": "plain"})
            missing = await client.get("/api/memory/config", params={"agentId": "nope"})
    assert (plain.status_code, plain.json()) == (400, {"error": "Memory is not initialized"})
    assert missing.status_code == 404
