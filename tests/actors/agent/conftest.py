from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from actors.llm import HashEmbedConfig, ScriptedConfig, spawn_provider
from actors.stores import SqliteStore, VectorStore
from runtime.testing import TestRuntime, open_test_runtime


@pytest.fixture
async def t() -> AsyncIterator[TestRuntime]:
    """A runtime with the echo scripted model, the hash embedder and both stores."""
    async with open_test_runtime() as runtime:
        rt = runtime.rt
        await spawn_provider(rt, "scripted", ScriptedConfig())
        await spawn_provider(rt, "hash", HashEmbedConfig(dimension=64))
        await rt.spawn(SqliteStore, ":memory:", name="store", kind="store")
        await rt.spawn(VectorStore, ":memory:", name="default", kind="store")
        yield runtime
