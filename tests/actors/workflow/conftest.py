from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from actors.stores import PostgresStore, SqliteStore
from runtime import ActorRef, Mastra, RuntimeConfig, TelemetryConfig, open_runtime


@pytest.fixture
async def rt() -> AsyncIterator[Mastra]:
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    async with open_runtime(config) as runtime:
        yield runtime


@pytest.fixture(params=["sqlite", "postgres"])
async def store(rt: Mastra, tmp_path: Path, request: pytest.FixtureRequest) -> ActorRef:
    """The store of runs: SQLite, then Postgres (where runs are leased rows)."""
    factory: Any = functools.partial(SqliteStore, str(tmp_path / "wf.db"), synchronous="normal")
    if request.param == "postgres":
        factory = functools.partial(PostgresStore, request.getfixturevalue("pg_url"))
    ref: ActorRef = await rt.spawn(factory, name="store", kind="store")
    return ref
