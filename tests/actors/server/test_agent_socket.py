"""Agent streams over a WebSocket: several turns on one socket, the same chunks as the
server-sent events, bad frames answered without closing, tokens checked at the handshake,
and a socket closed mid-turn cancelling the model call."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import ConnectionRejected, WebSocketConnection, open_websocket_url

from actors.agent import Agent
from actors.demo import add
from actors.llm import ScriptedConfig, spawn_provider
from actors.memory import Memory
from actors.server import GetAddress, Server, ServerConfig, TokenConfig
from actors.stores import SqliteStore
from runtime.testing import TestRuntime, open_test_runtime

ECHO = Agent(name="echo", instructions="", model="scripted", tools=[add], memory=Memory())
SLOW = Agent(name="slow", instructions="", model="slow")


@asynccontextmanager
async def _serve(**options: Any) -> AsyncIterator[tuple[TestRuntime, str]]:
    async with open_test_runtime() as t:
        await spawn_provider(t.rt, "scripted", ScriptedConfig())
        await spawn_provider(t.rt, "slow", ScriptedConfig(chunk_delay=0.05))
        await t.rt.spawn(SqliteStore, ":memory:", name="store", kind="store")
        await t.rt.spawn(add)
        await t.rt.spawn(ECHO)
        await t.rt.spawn(SLOW)
        server = await t.rt.spawn(Server, ServerConfig(port=0, **options), name="server")
        yield t, await server.ask(GetAddress())


async def _turn(ws: WebSocketConnection, body: dict[str, Any]) -> list[Any]:
    await ws.send_message(json.dumps(body))
    frames: list[Any] = []
    with trio.fail_after(10):
        while (frame := await ws.get_message()) != "[DONE]":
            frames.append(json.loads(frame))
    return frames


def _ws(base: str, path: str) -> str:
    return base.replace("http://", "ws://") + path


async def test_turns_on_one_socket_send_the_chunks_of_the_event_stream() -> None:
    async with _serve() as (_, base):
        body = {"messages": "please add 2 and 40", "maxSteps": 3}
        async with httpx.AsyncClient(base_url=base) as client:
            sse = (await client.post("/api/agents/echo/stream", json=body)).text
        expected = [
            json.loads(line.removeprefix("data: "))
            for line in sse.split("\n\n")
            if line.startswith("data: {")
        ]
        async with open_websocket_url(_ws(base, "/api/agents/echo/ws")) as ws:
            first = await _turn(ws, body)
            second = await _turn(ws, {"messages": "hello"})
    assert [f["type"] for f in first] == [e["type"] for e in expected]
    assert any(f["type"] == "tool-call" for f in first)
    text = "".join(f["payload"]["text"] for f in second if f["type"] == "text-delta")
    assert text == "Echo: hello"


async def test_a_bad_frame_is_answered_and_the_socket_stays_open() -> None:
    async with (
        _serve() as (_, base),
        open_websocket_url(_ws(base, "/api/agents/echo/ws")) as ws,
    ):
        await ws.send_message('{"messages": 5}')
        with trio.fail_after(5):
            error = json.loads(await ws.get_message())
        assert error["error"] == "Invalid request body"
        assert error["issues"][0]["field"] == "messages"
        await ws.send_message("not json")
        with trio.fail_after(5):
            assert json.loads(await ws.get_message())["issues"][0]["field"] == "body"
        frames = await _turn(ws, {"messages": "still here"})
        assert frames[-1]["type"] == "finish"


async def test_unknown_agents_and_tokens_are_refused_at_the_handshake() -> None:
    tokens = [TokenConfig(token="only-echo", agents=["echo"])]
    async with _serve(tokens=tokens) as (_, base):
        with pytest.raises(ConnectionRejected) as no_token:
            async with open_websocket_url(_ws(base, "/api/agents/echo/ws")):
                pass
        assert no_token.value.status_code == 403
        auth = [(b"Authorization", b"Bearer only-echo")]
        with pytest.raises(ConnectionRejected) as other:
            async with open_websocket_url(_ws(base, "/api/agents/slow/ws"), extra_headers=auth):
                pass
        assert other.value.status_code == 403
        async with open_websocket_url(_ws(base, "/api/agents/echo/ws"), extra_headers=auth) as ws:
            assert (await _turn(ws, {"messages": "hi"}))[-1]["type"] == "finish"
    async with _serve() as (_, base):
        with pytest.raises(ConnectionRejected):
            async with open_websocket_url(_ws(base, "/api/agents/nope/ws")):
                pass


async def test_closing_the_socket_mid_turn_cancels_the_model_call() -> None:
    async with _serve() as (t, base):
        words = " ".join(f"w{i}" for i in range(40))
        async with open_websocket_url(_ws(base, "/api/agents/slow/ws")) as ws:
            await ws.send_message(json.dumps({"messages": words}))
            with trio.fail_after(5):
                for _ in range(3):
                    await ws.get_message()
        with trio.fail_after(5):
            while not [s for s in t.spans.finished() if (s.name or "").startswith("chat ")]:
                await trio.sleep(0.02)
        (chat,) = [s for s in t.spans.finished() if (s.name or "").startswith("chat ")]
        assert chat.attributes is not None
        assert chat.attributes["error.type"] == "Cancelled"
