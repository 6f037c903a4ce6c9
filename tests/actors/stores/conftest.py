from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from actors.stores import PgVectorStore, PostgresStore, SqliteStore, VectorStore
from runtime import ActorRef, Mastra, RuntimeConfig, TelemetryConfig, open_runtime
from tests.pgcluster import Cluster

# options that tune the usearch index and mean nothing to pgvector
_USEARCH_ONLY = ("exact_threshold", "connectivity", "expansion_add", "expansion_search")


@pytest.fixture
async def rt() -> AsyncIterator[Mastra]:
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    async with open_runtime(config) as runtime:
        yield runtime


class Backend:
    """Spawns the store and the vector store of one backend, so one suite tests both.

    ``location()`` is where a store keeps its data (a file, or a fresh database); spawning
    again at the same location reopens the same data.
    """

    def __init__(self, name: str, tmp_path: Path, cluster: Cluster | None) -> None:
        self.name = name
        self._tmp = tmp_path
        self._cluster = cluster
        self._n = 0

    def location(self) -> str:
        if self._cluster is not None:
            return self._cluster.create_database()
        self._n += 1
        return str(self._tmp / f"store{self._n}.db")

    async def store(
        self, rt: Mastra, location: str | None = None, name: str = "store", **kw: Any
    ) -> ActorRef:
        where = location or (self.location() if self._cluster else ":memory:")
        factory = PostgresStore if self._cluster else SqliteStore
        return await rt.spawn(functools.partial(factory, where, **kw), name=name, kind="store")

    async def vectors(
        self, rt: Mastra, location: str | None = None, name: str = "vectors", **kw: Any
    ) -> ActorRef:
        if self._cluster is None:
            factory: Any = functools.partial(VectorStore, location or ":memory:", **kw)
            concurrency = VectorStore.concurrency
        else:
            kw = {k: v for k, v in kw.items() if k not in _USEARCH_ONLY}
            factory = functools.partial(PgVectorStore, location or self.location(), **kw)
            concurrency = PgVectorStore.concurrency
        return await rt.spawn(factory, name=name, kind="store", concurrency=concurrency)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each test that takes it runs once on SQLite/usearch and once on Postgres/pgvector."""
    if request.param == "postgres":
        cluster: Cluster = request.getfixturevalue("pg_cluster")
        return Backend("postgres", tmp_path, cluster)
    return Backend("sqlite", tmp_path, None)
