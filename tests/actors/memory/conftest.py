from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest

from actors.llm import HashEmbedConfig, ProviderError, ScriptedConfig, ScriptedModel, spawn_provider
from actors.llm.messages import ChatRequest, ChatResult
from actors.stores import PgVectorStore, PostgresStore, SqliteStore, VectorStore
from runtime import Actor
from runtime.testing import TestRuntime, open_test_runtime


class RecordingModel(Actor):
    """A provider actor answering like the scripted model and keeping every request."""

    concurrency: ClassVar[int] = 16
    expected_errors: ClassVar[tuple[type[Exception], ...]] = (ProviderError,)

    def __init__(self, config: ScriptedConfig, requests: list[ChatRequest]) -> None:
        self.model = ScriptedModel(config)
        self.requests = requests

    async def receive(self, msg: Any) -> ChatResult:
        assert isinstance(msg, ChatRequest)
        self.requests.append(msg)
        return self.model.answer(msg)


@pytest.fixture(params=["sqlite", "postgres"])
async def t(request: pytest.FixtureRequest) -> AsyncIterator[TestRuntime]:
    """A runtime with the hash embedder and both stores (models are added by each test),
    once with SQLite and usearch, once with Postgres and pgvector."""
    async with open_test_runtime() as runtime:
        rt = runtime.rt
        await spawn_provider(rt, "hash", HashEmbedConfig(dimension=256))
        if request.param == "postgres":
            url = request.getfixturevalue("pg_url")
            await rt.spawn(PostgresStore, url, name="store", kind="store")
            await rt.spawn(PgVectorStore, url, name="default", kind="store")
        else:
            await rt.spawn(SqliteStore, ":memory:", name="store", kind="store")
            await rt.spawn(VectorStore, ":memory:", name="default", kind="store")
        yield runtime


async def spawn_recorder(t: TestRuntime, config: ScriptedConfig | None = None) -> list[ChatRequest]:
    """Spawn a recording scripted provider called ``rec``; returns its request log."""
    requests: list[ChatRequest] = []
    await t.rt.spawn(
        RecordingModel, config or ScriptedConfig(), requests, name="rec", kind="provider"
    )
    return requests
