from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest

from actors.agent import Agent
from actors.demo import add
from actors.demo.agent import echo
from actors.llm import ScriptedConfig, spawn_provider
from actors.server import GetAddress, Server, ServerConfig
from actors.stores import SqliteStore
from actors.tools import tool
from runtime.testing import TestRuntime, open_test_runtime

OpenServer = Callable[..., AbstractAsyncContextManager[tuple[TestRuntime, httpx.AsyncClient]]]


@asynccontextmanager
async def _open_server(**options: object) -> AsyncIterator[tuple[TestRuntime, httpx.AsyncClient]]:
    async with open_test_runtime() as t:
        await t.rt.spawn(add)
        config = ServerConfig(port=0, **options)  # type: ignore[arg-type]
        server = await t.rt.spawn(Server, config, name="server")
        base = await server.ask(GetAddress())
        async with httpx.AsyncClient(base_url=base) as client:
            yield t, client


@pytest.fixture
def open_server() -> OpenServer:
    return _open_server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with _open_server() as (_, http):
        yield http


@tool(id="shout", blocking=False)
def shout(text: str) -> str:
    """Upper-cases a text (a tool no agent uses).

    Args:
        text: what to upper-case
    """
    return text.upper()


PLAIN = Agent(name="plain", instructions="", model="scripted", tools=[add])  # no memory


@asynccontextmanager
async def _open_agent_server(
    **options: object,
) -> AsyncIterator[tuple[TestRuntime, httpx.AsyncClient]]:
    async with open_test_runtime() as t:
        await spawn_provider(t.rt, "scripted", ScriptedConfig())
        await t.rt.spawn(SqliteStore, ":memory:", name="store", kind="store")
        await t.rt.spawn(add)
        await t.rt.spawn(shout)
        await t.rt.spawn(echo)
        await t.rt.spawn(PLAIN)
        config = ServerConfig(port=0, **options)  # type: ignore[arg-type]
        server = await t.rt.spawn(Server, config, name="server")
        async with httpx.AsyncClient(base_url=await server.ask(GetAddress())) as client:
            yield t, client


@pytest.fixture
def open_agent_server() -> OpenServer:
    """A server with the scripted model, a store, the tools ``add`` and ``shout``, the demo
    agent ``echo`` (``add``, memory) and ``plain`` (``add``, no memory)."""
    return _open_agent_server
