"""What a hostile or careless client meets: bytes that are not UTF-8, HTTP/1.0 streams,
half-sent requests, scoped tokens reaching for other resources, image parts in every form,
and a health check that tells the truth."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import trio

from actors.agent import Agent
from actors.demo import add, three_step
from actors.llm import ScriptedConfig, spawn_provider
from actors.memory import Memory
from actors.server import GetAddress, Server, ServerConfig, TokenConfig
from actors.stores import SqliteStore, VectorStore
from runtime import Actor, SupervisionConfig
from runtime.testing import TestRuntime, open_test_runtime
from tests.actors.llm.conftest import KEY_ENV, openai_config
from tests.actors.server.raw_http import raw_exchange
from tests.fakes.openai_server import FakeOpenAI, open_fake_openai

ECHO = Agent(name="echo", instructions="", model="scripted", tools=[add], memory=Memory())
OTHER = Agent(name="other", instructions="", model="scripted", memory=Memory())


@asynccontextmanager
async def _serve(**options: Any) -> AsyncIterator[tuple[TestRuntime, httpx.AsyncClient]]:
    async with open_test_runtime() as t:
        await spawn_provider(t.rt, "scripted", ScriptedConfig())
        await t.rt.spawn(SqliteStore, ":memory:", name="store", kind="store")
        await t.rt.spawn(VectorStore, ":memory:", name="default", kind="store")
        await t.rt.spawn(VectorStore, ":memory:", name="private", kind="store")
        await t.rt.spawn(add)
        await t.rt.spawn(ECHO)
        await t.rt.spawn(OTHER)
        await t.rt.spawn(three_step)
        server = await t.rt.spawn(Server, ServerConfig(port=0, **options), name="server")
        async with httpx.AsyncClient(base_url=await server.ask(GetAddress())) as client:
            yield t, client


# -- bytes that are not UTF-8 --------------------------------------------------------------
NOT_UTF8 = [
    ("/api/agents/echo/generate", b'{"messages": "\xff"}', "messages"),
    ("/api/agents/echo/stream", b'{"messages": [{"role": "user", "content": "a\xfe"}]}', ""),
    ("/api/vector/default/create-index", b'{"indexName": "\xc3", "dimension": 3}', "indexName"),
    ("/api/vector/default/upsert", b'{"indexName": "i", "vectors": [[1]], "ids": ["\xff"]}', ""),
    ("/api/vector/default/query", b'{"indexName": "\xff\xfe", "queryVector": [1]}', "indexName"),
    ("/api/tools/add/execute", b'{"data": {"a": "\x80"}}', "data.a"),
]


async def test_invalid_utf8_inside_json_strings_is_a_400_naming_the_field() -> None:
    async with _serve() as (_, client):
        for path, body, field in NOT_UTF8:
            response = await client.post(path, content=body)
            assert response.status_code == 400, (path, response.text)
            issue = response.json()["issues"][0]
            assert "UTF-8" in issue["message"]
            if field:
                assert issue["field"] == field, path
            else:
                assert issue["field"] != "body", path


# -- streams end for every client --------------------------------------------------------
async def _raw_exchange(address: str, request: bytes) -> bytes:
    host, port = address.removeprefix("http://").split(":")
    return await raw_exchange(host, int(port), request)


def _post(path: str, body: dict[str, Any], version: str, extra: str = "") -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/{version}\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n{extra}\r\n"
    )
    return head.encode() + data


@pytest.mark.parametrize(
    ("version", "extra"), [("1.0", ""), ("1.1", "Connection: close\r\n")], ids=["http10", "close"]
)
async def test_streamed_routes_end_their_response_and_close(version: str, extra: str) -> None:
    async with _serve() as (_, client):
        address = str(client.base_url).rstrip("/")
        agent = await _raw_exchange(
            address, _post("/api/agents/echo/stream", {"messages": "hi there"}, version, extra)
        )
        assert agent.startswith(b"HTTP/1.1 200") and b"data: [DONE]\n\n" in agent
        assert b"Echo: hi there" in agent
        workflow = await _raw_exchange(
            address,
            _post("/api/workflows/three-step/stream", {"inputData": {"value": 1}}, version, extra),
        )
        assert workflow.startswith(b"HTTP/1.1 200") and b'"workflow-finish"' in workflow


async def test_a_client_sending_half_a_request_line_is_closed() -> None:
    async with _serve(idle_timeout=0.3) as (_, client):
        host, port = str(client.base_url).removeprefix("http://").rstrip("/").split(":")
        stream = await trio.open_tcp_stream(host, int(port))
        async with stream:
            await stream.send_all(b"GET /hea")
            with trio.fail_after(5):
                assert await stream.receive_some(100) == b""  # closed, nothing answered
        assert (await client.get("/health")).status_code == 200


# -- scoped tokens -------------------------------------------------------------------------
SCOPED = TokenConfig(
    token="scoped", agents=["echo"], tools=["add"], workflows=[], vectors=["default"]
)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_scoped_token_reaches_only_its_resources_in_every_route_family() -> None:
    tokens = [TokenConfig(token="admin"), SCOPED]
    async with _serve(tokens=tokens) as (_, client):
        h = _auth("scoped")
        allowed: list[tuple[str, str, Any]] = [
            ("GET", "/api/agents/echo", None),
            ("GET", "/api/tools/add", None),
            ("GET", "/api/memory/threads?agentId=echo&resourceId=u", None),
            ("POST", "/api/vector/default/create-index", {"indexName": "i", "dimension": 3}),
        ]
        for method, path, body in allowed:
            response = await client.request(method, path, json=body, headers=h)
            assert response.status_code == 200, (path, response.text)
        refused: list[tuple[str, str, Any]] = [
            ("POST", "/api/agents/other/generate", {"messages": "x"}),
            ("GET", "/api/memory/threads?agentId=other&resourceId=u", None),
            ("GET", "/api/memory/threads?resourceId=u", None),
            ("GET", "/api/memory/threads/t1/messages", None),
            ("POST", "/api/tools/echo-tool/execute", {"data": {}}),
            ("POST", "/api/workflows/three-step/start-async", {"inputData": {"value": 1}}),
            ("GET", "/api/workflows/three-step/runs", None),
            ("POST", "/api/vector/private/query", {"indexName": "i", "queryVector": [1, 0, 0]}),
            ("GET", "/api/mcp/v0/servers", None),
        ]
        for method, path, body in refused:
            response = await client.request(method, path, json=body, headers=h)
            assert response.status_code == 403, (path, response.text)
            assert response.json()["error"].startswith("Forbidden")
        admin = await client.get("/api/memory/threads/t1/messages", headers=_auth("admin"))
        assert admin.status_code != 403


async def test_listings_show_a_scoped_token_only_its_own_names() -> None:
    async with _serve(tokens=[TokenConfig(token="admin"), SCOPED]) as (_, client):
        h = _auth("scoped")
        assert list((await client.get("/api/agents", headers=h)).json()) == ["echo"]
        assert list((await client.get("/api/tools", headers=h)).json()) == ["add"]
        assert (await client.get("/api/workflows", headers=h)).json() == {}
        vectors = (await client.get("/api/vectors", headers=h)).json()["vectors"]
        assert [v["name"] for v in vectors] == ["default"]
        everything = (await client.get("/api/agents", headers=_auth("admin"))).json()
        assert sorted(everything) == ["echo", "other"]


async def test_a_token_that_differs_late_is_refused() -> None:
    async with _serve(tokens=[TokenConfig(token="s3cret-token")]) as (_, client):
        for guess in ("s3cret-tokeX", "s3cret-token-", "s3cret", "x"):
            response = await client.get("/api/tools", headers=_auth(guess))
            assert response.status_code == 401, guess


# -- image parts ---------------------------------------------------------------------------
PNG = "iVBORw0KGgo="


@pytest.fixture
async def fake_openai(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeOpenAI]:
    monkeypatch.setenv(KEY_ENV, "sk-test-key")
    async with open_fake_openai() as fake:
        yield fake


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        ({"image": f"data:image/jpeg;base64,{PNG}"}, f"data:image/jpeg;base64,{PNG}"),
        ({"image": PNG, "mimeType": "image/webp"}, f"data:image/webp;base64,{PNG}"),
        ({"image": PNG, "mediaType": "image/gif"}, f"data:image/gif;base64,{PNG}"),
        ({"image": "https://example.com/cat.png"}, "https://example.com/cat.png"),
        ({"url": "https://example.com/dog.jpg"}, "https://example.com/dog.jpg"),
    ],
    ids=["data-url", "mime-type", "media-type", "image-url", "url"],
)
async def test_image_parts_reach_the_model_as_sent(
    fake_openai: FakeOpenAI, part: dict[str, str], expected: str
) -> None:
    async with open_test_runtime() as t:
        await spawn_provider(t.rt, "gpt", openai_config(fake_openai))
        await t.rt.spawn(Agent(name="vision", instructions="", model="gpt"))
        server = await t.rt.spawn(Server, ServerConfig(port=0), name="server")
        async with httpx.AsyncClient(base_url=await server.ask(GetAddress())) as client:
            content = [{"type": "text", "text": "what is it?"}, {"type": "image", **part}]
            body = {"messages": [{"role": "user", "content": content}]}
            response = await client.post("/api/agents/vision/generate", json=body)
    assert response.status_code == 200, response.text
    sent = fake_openai.requests[-1].json()["messages"][-1]["content"]
    assert sent[1] == {"type": "image_url", "image_url": {"url": expected}}


@pytest.mark.parametrize(
    "image", ["data:image/png,rawbytes", "data:image/png;base64,@@@", "not base64 at all!"]
)
async def test_a_malformed_image_is_a_400_naming_the_part(image: str) -> None:
    async with _serve() as (_, client):
        content = [{"type": "image", "image": image}]
        body = {"messages": [{"role": "user", "content": content}]}
        response = await client.post("/api/agents/echo/generate", json=body)
    assert response.status_code == 400
    assert response.json()["issues"][0]["field"] == "messages[0].content[0]"


# -- health --------------------------------------------------------------------------------
class Fragile(Actor):
    """Crashes on every message; its start can be made to fail."""

    def __init__(self, state: dict[str, bool]) -> None:
        self.state = state

    async def on_start(self) -> None:
        if self.state["broken"]:
            raise RuntimeError("cannot start")

    async def receive(self, msg: str) -> None:
        raise RuntimeError(f"fragile: {msg}")


async def test_health_names_actors_that_keep_failing_and_recovers() -> None:
    async with _serve(health_max_restarts=2) as (t, client):
        assert (await client.get("/health")).json() == {"success": True}
        ref = await t.rt.spawn(Fragile, {"broken": False}, name="fragile")
        for i in range(3):
            await ref.send(f"crash {i}")
        with trio.fail_after(5):
            while t.rt.stats()["fragile"].restarts < 3:
                await trio.sleep(0.01)
        response = await client.get("/health")
        assert response.status_code == 503
        failing = response.json()["failing"]
        assert [f["name"] for f in failing] == ["fragile"]
        assert failing[0]["recentRestarts"] == 3
        await t.rt.stop(ref)
        assert (await client.get("/health")).json() == {"success": True}


class Keeper(Actor):
    """Supervises one ``Fragile`` child with a long restart backoff."""

    async def on_start(self) -> None:
        policy = SupervisionConfig(backoff_base=30.0, backoff_max=30.0, max_restarts=10)
        await self.ctx.spawn(Fragile, {"broken": False}, name="child", supervision=policy)

    async def receive(self, msg: str) -> None:
        return None


async def test_health_names_an_actor_waiting_to_restart() -> None:
    async with _serve() as (t, client):
        policy = SupervisionConfig(backoff_base=30.0, backoff_max=30.0, max_restarts=10)
        await t.rt.spawn(Keeper, name="keeper", supervision=policy)
        child = t.rt.lookup("child")
        assert child is not None
        await child.send("first")  # restarted at once
        with trio.fail_after(5):
            while t.rt.stats()["child"].restarts < 1:
                await trio.sleep(0.01)
        await child.send("second")  # now it waits out a backoff
        with trio.fail_after(5):
            while t.rt.stats()["child"].status != "restarting":
                await trio.sleep(0.01)
        response = await client.get("/health")
        assert response.status_code == 503
        assert response.json()["failing"] == [
            {"name": "child", "kind": "actor", "status": "restarting", "recentRestarts": 1}
        ]
