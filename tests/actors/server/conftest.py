from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest

from actors.demo import add
from actors.server import GetAddress, Server, ServerConfig
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
