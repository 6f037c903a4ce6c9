"""The vector store actor: named usearch indexes whose vectors and metadata live in SQLite.

```python
ref = await rt.spawn(VectorStore, "data/vectors.db", name="vectors", kind="store")
await ref.ask(CreateIndex(index_name="docs", dimension=384, metric="cosine"))
ids = await ref.ask(Upsert(index_name="docs", vectors=[...], metadata=[{"lang": "en"}]))
hits = await ref.ask(Query(index_name="docs", query_vector=[...], top_k=5,
                           filter={"lang": {"$in": ["en", "fr"]}}))
```

Upserts and deletes are group-committed to SQLite by one writer task, applied to the
in-memory index right after the commit, and only then acknowledged. Queries are batched:
those that arrive while a batch is being answered are answered together in one worker-thread
hop (bounded by the actor's own ``CapacityLimiter``), as one matrix product per index.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import trio

from actors.stores._errors import DimensionMismatch, InvalidRequest, StoreError, UnknownIndex
from actors.stores._filter import compile_filter
from actors.stores._sql import Database, Synchronous
from actors.stores._vbatch import QueryBatcher
from actors.stores._vecsql import Created, Dropped, Removed, Upserted, apply_vector_write
from actors.stores._vindex import EXACT_THRESHOLD, HnswOptions, QuerySpec, VectorIndex
from actors.stores._vregistry import IndexRegistry
from actors.stores._writer import GroupCommitWriter
from actors.stores.vector_messages import (
    CreateIndex,
    DeleteIndex,
    DeleteVectors,
    DescribeIndex,
    IndexInfo,
    ListIndexes,
    Query,
    QueryResult,
    Upsert,
    VectorRequest,
    VectorWrite,
)
from runtime import Actor, UnhandledMessage

__all__ = ["VectorStore"]


class VectorStore(Actor):
    """A vector store actor (kind ``"store"``) handling every ``VectorRequest``.

    ``path`` is the SQLite database (``":memory:"`` for tests); ``index_dir`` is where the
    index files go (default ``<path>.usearch.d`` for a file, none for memory). Indexes with
    at most ``exact_threshold`` vectors are searched exactly, larger ones through an HNSW
    graph (``connectivity``, ``expansion_add``; ``expansion_search`` is the floor of a search
    width that grows with ``top_k``) whose candidates are re-scored exactly. Saved indexes are
    memory-mapped at start and repaired from SQLite when a crash left them behind. Errors
    (unknown index, wrong dimension, bad filter) go to the asker as ``StoreError``.

    Concurrent queries are answered in batches (see ``_vbatch``); spawn with the class's
    ``concurrency`` (a ``functools.partial`` factory needs ``concurrency=`` passed to
    ``spawn``), or queries are handled one at a time and never batch.
    """

    concurrency: ClassVar[int] = 128
    uses_nursery: ClassVar[bool] = True
    expected_errors: ClassVar[tuple[type[Exception], ...]] = (StoreError,)
    single_process: ClassVar[str] = (
        "its indexes live in this process's memory over a SQLite file; several processes"
        " share actors.stores:PgVectorStore (url = ...)"
    )

    def __init__(
        self,
        path: str = ":memory:",
        *,
        index_dir: str | None = None,
        readers: int = 2,
        synchronous: Synchronous = "full",
        save_interval: float = 60.0,
        exact_threshold: int = EXACT_THRESHOLD,
        connectivity: int = 32,
        expansion_add: int = 128,
        expansion_search: int = 128,
    ) -> None:
        self.path = path
        memory = path == ":memory:"
        self.index_dir = (
            Path(index_dir) if index_dir else (None if memory else Path(path + ".usearch.d"))
        )
        self._readers = readers
        self._synchronous: Synchronous = synchronous
        self._save_interval = save_interval
        self._options = HnswOptions(
            exact_threshold=exact_threshold,
            connectivity=connectivity,
            expansion_add=expansion_add,
            expansion_search=expansion_search,
        )
        self._limiter = trio.CapacityLimiter(readers)
        self._save_limiter = trio.CapacityLimiter(1)
        self._batcher = QueryBatcher(trio.CapacityLimiter(1))
        self._registry: IndexRegistry | None = None
        self._writer: GroupCommitWriter[VectorWrite] | None = None
        self.opened: dict[str, str] = {}

    async def on_start(self) -> None:
        """Open SQLite, load and repair every index (worker threads), start the writer."""
        db = await trio.to_thread.run_sync(
            functools.partial(
                Database, self.path, readers=self._readers, synchronous=self._synchronous
            ),
            limiter=self._limiter,
        )
        registry = IndexRegistry(db, self.index_dir, self._options)
        self._registry = registry
        self.opened = await trio.to_thread.run_sync(registry.open, limiter=self._limiter)
        self._writer = GroupCommitWriter(db, apply_vector_write, after_commit=registry.after_commit)
        await self.ctx.nursery.start(self._writer.run)
        await self.ctx.nursery.start(self._batcher.run)
        if self.index_dir is not None and math.isfinite(self._save_interval):
            self.ctx.nursery.start_soon(self._save_periodically)

    async def _save_periodically(self) -> None:
        registry = self._registry
        assert registry is not None
        while True:
            await trio.sleep(self._save_interval)
            await trio.to_thread.run_sync(registry.save_dirty, limiter=self._save_limiter)

    async def on_stop(self) -> None:
        """Save changed indexes and close SQLite (bounded by the grace period)."""
        registry, self._registry = self._registry, None
        if registry is not None:
            await trio.to_thread.run_sync(registry.save_dirty, limiter=self._save_limiter)
            await trio.to_thread.run_sync(registry.db.close)

    async def receive(self, msg: VectorRequest) -> Any:
        """Writes go through the group-commit writer; queries through the batcher.

        Cancelling a query abandons its answer (the batch it joined still runs); a failed
        search is raised to the asker.
        """
        if self._registry is None or self._writer is None:
            raise StoreError(f"vector store {self.ctx.name!r} is not open")
        match msg:
            case CreateIndex() | DeleteIndex() | Upsert() | DeleteVectors():
                return _reply(await self._writer.submit(msg), self._registry)
            case Query():
                return await self._query(msg)
            case ListIndexes():
                return sorted(self._registry.indexes)
            case DescribeIndex():
                return _info(self._index(msg.index_name))
        raise UnhandledMessage(
            f"vector store {self.ctx.name!r} does not handle {type(msg).__name__}"
        )

    def _index(self, name: str) -> VectorIndex:
        assert self._registry is not None
        index = self._registry.indexes.get(name)
        if index is None:
            raise UnknownIndex(f"vector index {name!r} does not exist")
        return index

    async def _query(self, msg: Query) -> list[QueryResult]:
        index = self._index(msg.index_name)
        if len(msg.query_vector) != index.dimension:
            raise DimensionMismatch(
                f"vector index {msg.index_name!r} expects dimension {index.dimension},"
                f" got {len(msg.query_vector)} at `query_vector`"
            )
        if msg.top_k < 0:
            raise InvalidRequest(f"`top_k` must be >= 0, got {msg.top_k}")
        vector = np.asarray(msg.query_vector, dtype=np.float32)
        if not np.isfinite(vector).all():
            raise InvalidRequest("`query_vector` must hold finite numbers only")
        spec = QuerySpec(
            vector=vector,
            top_k=msg.top_k,
            predicate=compile_filter(msg.filter),
            min_score=msg.min_score,
            include_vector=msg.include_vector,
        )
        return await self._batcher.query(index, spec)

    def save_now(self) -> list[str]:
        """Save every changed index (blocking; for tests and tools run in a worker thread)."""
        return [] if self._registry is None else self._registry.save_dirty()


def _info(index: VectorIndex) -> IndexInfo:
    return IndexInfo(
        name=index.name, dimension=index.dimension, metric=index.metric, count=len(index)
    )


def _reply(effect: object, registry: IndexRegistry) -> object:
    match effect:
        case Created():
            return _info(registry.indexes[effect.index.name])
        case Dropped():
            return effect.existed
        case Upserted():
            return effect.ids
        case Removed():
            return effect.ids
    raise StoreError(f"unexpected write result {type(effect).__name__}")
