"""A client that drops ``POST /api/agents/{id}/stream`` mid-answer cancels the model call;
the turn's completed part is stored as a consistent conversation."""

from __future__ import annotations

import json
from typing import Any

import httpx
import trio

from actors.agent import Agent
from actors.llm import ScriptedConfig, spawn_provider
from actors.memory import Memory
from actors.server import GetAddress, Server, ServerConfig
from actors.stores import SqliteStore
from runtime.testing import open_test_runtime

WORDS = " ".join(f"w{i}" for i in range(40))
CHUNK_DELAY = 0.05  # the whole answer takes 41 chunks, about 2 s


async def _read_some_then_drop(base: str, seen: list[str]) -> None:
    body = {"messages": WORDS, "memory": {"thread": "t1", "resource": "u1"}}
    async with (
        httpx.AsyncClient(base_url=base) as client,
        client.stream("POST", "/api/agents/slow/stream", json=body) as response,
    ):
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data: {"):
                chunk = json.loads(line.removeprefix("data: "))
                if chunk["type"] == "text-delta":
                    seen.append(chunk["payload"]["text"])
                    if len(seen) == 3:
                        return  # leaving both blocks closes the connection mid-stream


async def _messages(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    with trio.fail_after(3):
        while True:
            response = await client.get("/api/memory/threads/t1/messages?agentId=slow")
            if response.status_code == 200 and response.json()["total"] == 2:
                messages: list[dict[str, Any]] = response.json()["messages"]
                return messages
            await trio.sleep(0.02)


async def test_dropping_the_stream_cancels_the_model_call_and_keeps_the_partial_turn() -> None:
    async with open_test_runtime() as t:
        await spawn_provider(t.rt, "slow", ScriptedConfig(chunk_delay=CHUNK_DELAY))
        await t.rt.spawn(SqliteStore, ":memory:", name="store", kind="store")
        await t.rt.spawn(Agent(name="slow", instructions="", model="slow", memory=Memory()))
        server = await t.rt.spawn(Server, ServerConfig(port=0), name="server")
        base = await server.ask(GetAddress())
        seen: list[str] = []
        started = trio.current_time()
        await _read_some_then_drop(base, seen)
        async with httpx.AsyncClient(base_url=base) as client:
            messages = await _messages(client)
        elapsed = trio.current_time() - started
        assert elapsed < 40 * CHUNK_DELAY / 2
        chat = [s for s in t.spans.finished() if (s.name or "").startswith("chat ")]
        assert len(chat) == 1
        assert chat[0].attributes is not None
        assert chat[0].attributes["error.type"] == "Cancelled"
        texts = [(m["role"], m["content"]["content"]) for m in messages]
        assert texts[0] == ("user", WORDS)
        assert texts[1][0] == "assistant"
        assert texts[1][1].startswith("".join(seen))
        assert len("".join(seen)) <= len(texts[1][1]) < len(f"Echo: {WORDS}")
        await trio.sleep(40 * CHUNK_DELAY)  # long enough for the whole answer
        async with httpx.AsyncClient(base_url=base) as client:
            later = (await client.get("/api/memory/threads/t1/messages?agentId=slow")).json()
        assert later["messages"] == messages
