"""A database that goes away answers every route family with a clear 503 (nothing written,
try again) and the same server recovers when it comes back."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import trio

from actors.agent import Agent
from actors.demo import add, three_step
from actors.llm import ScriptedConfig, spawn_provider
from actors.memory import Memory
from actors.server import GetAddress, Server, ServerConfig
from actors.stores import PostgresStore
from runtime.testing import open_test_runtime
from tests.pgcluster import open_cluster

ECHO = Agent(name="echo", instructions="", model="scripted", tools=[add], memory=Memory())
MEMORY = {"thread": "t1", "resource": "u1"}
START = {"inputData": {"value": 1}}


async def _requests(client: httpx.AsyncClient) -> list[httpx.Response]:
    return [
        await client.post("/api/agents/echo/generate", json={"messages": "hi", "memory": MEMORY}),
        await client.get("/api/memory/threads/t1/messages?agentId=echo"),
        await client.post(
            "/api/workflows/three-step/start-async", json={"inputData": {"value": 1}}
        ),
    ]


@asynccontextmanager
async def _serve(url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with open_test_runtime() as t:
        await spawn_provider(t.rt, "scripted", ScriptedConfig())
        store = functools.partial(PostgresStore, url, connect_timeout=1.0)
        await t.rt.spawn(store, name="store", kind="store")
        await t.rt.spawn(add)
        await t.rt.spawn(ECHO)
        await t.rt.spawn(three_step.deploy(store="store"))
        server = await t.rt.spawn(Server, ServerConfig(port=0), name="server")
        async with httpx.AsyncClient(base_url=await server.ask(GetAddress())) as client:
            yield client


async def test_every_route_family_answers_503_while_the_database_is_down() -> None:
    with open_cluster() as cluster:
        async with _serve(cluster.create_database()) as client:
            assert [r.status_code for r in await _requests(client)] == [200, 200, 200]
            await trio.to_thread.run_sync(cluster.stop)
            down = await _requests(client)
            assert [r.status_code for r in down] == [503, 503, 503], down[2].text
            assert all("unavailable" in r.json()["error"].lower() for r in down)
            await trio.to_thread.run_sync(cluster.start)
            assert [r.status_code for r in await _requests(client)] == [200, 200, 200]


async def test_a_restart_of_the_database_under_load_costs_503s_and_loses_nothing() -> None:
    acknowledged: list[tuple[str, str]] = []
    statuses: list[int] = []
    with open_cluster() as cluster:
        async with _serve(cluster.create_database()) as client:

            async def turns(worker: int, until: trio.Event) -> None:
                n = 0
                while not until.is_set():
                    text, thread = f"w{worker} turn {n}", f"load-{worker}"
                    body = {"messages": text, "memory": {"thread": thread, "resource": "u"}}
                    response = await client.post("/api/agents/echo/generate", json=body)
                    statuses.append(response.status_code)
                    if response.status_code == 200:
                        acknowledged.append((thread, text))
                    n += 1

            done = trio.Event()
            async with trio.open_nursery() as nursery:
                for worker in range(8):
                    nursery.start_soon(turns, worker, done)
                await trio.sleep(0.3)
                await trio.to_thread.run_sync(cluster.stop)
                await trio.sleep(1.5)
                await trio.to_thread.run_sync(cluster.start)
                await trio.sleep(1.0)
                done.set()
            stored: dict[str, list[str]] = {}
            for thread in {t for t, _ in acknowledged}:
                page = await client.get(f"/api/memory/threads/{thread}/messages?agentId=echo")
                stored[thread] = [
                    m["content"]["content"] for m in page.json()["messages"] if m["role"] == "user"
                ]
    assert set(statuses) <= {200, 503}, sorted(set(statuses))
    assert 503 in statuses and statuses[-1] == 200  # it was down, then it recovered
    for thread, text in acknowledged:
        assert stored[thread].count(text) == 1, (thread, text)
