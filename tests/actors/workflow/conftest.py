from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from actors.stores import SqliteStore
from runtime import ActorRef, Mastra, RuntimeConfig, TelemetryConfig, open_runtime


@pytest.fixture
async def rt() -> AsyncIterator[Mastra]:
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    async with open_runtime(config) as runtime:
        yield runtime


@pytest.fixture
async def store(rt: Mastra, tmp_path: Path) -> ActorRef:
    factory = functools.partial(SqliteStore, str(tmp_path / "wf.db"), synchronous="normal")
    ref: ActorRef = await rt.spawn(factory, name="store", kind="store")
    return ref
