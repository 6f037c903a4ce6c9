"""The pgvector store actor: the vector store's requests and replies, on a shared Postgres.

```toml
[[actors]]
name = "default"
kind = "store"
factory = "actors.stores:PgVectorStore"
options = { url = "${DATABASE_URL}" }
```

Every index is a Postgres table with an HNSW index (cosine, dot or euclidean); metadata is
jsonb and Mastra's filters become SQL conditions with bound parameters (``_pgfilter``).
Upserts and deletes of many senders are group-committed (one transaction per batch, each
acknowledged after its commit); queries run on worker threads bounded by the actor's own
``CapacityLimiter``. Several processes may share the database.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import trio

from actors.stores._errors import StoreError
from actors.stores._pg import PgDatabase
from actors.stores._pgvec import apply_pgvector_write, run_pgvector_read
from actors.stores._writer import GroupCommitWriter
from actors.stores.vector_messages import (
    CreateIndex,
    DeleteIndex,
    DeleteVectors,
    DescribeIndex,
    ListIndexes,
    Query,
    Upsert,
    VectorRead,
    VectorRequest,
    VectorWrite,
)
from runtime import Actor, UnhandledMessage

__all__ = ["PgVectorStore"]


class PgVectorStore(Actor):
    """A vector store actor (kind ``"store"``) over the Postgres database at ``url``.

    Needs the ``vector`` extension (created by the first migration when the role may).
    ``ef_search`` is the floor of the HNSW search width (it grows with ``top_k``); a
    filtered query scans exactly, so it finds ``top_k`` matches however rare they are.
    Errors (unknown index, wrong dimension, bad filter) go to the asker as ``StoreError``;
    a database that is down gives ``StoreUnavailable`` until it is back.
    """

    concurrency: ClassVar[int] = 128
    uses_nursery: ClassVar[bool] = True
    expected_errors: ClassVar[tuple[type[Exception], ...]] = (StoreError,)

    def __init__(
        self,
        url: str,
        *,
        max_connections: int = 4,
        connect_timeout: float = 5.0,
        ef_search: int = 100,
    ) -> None:
        self.url = url
        self._max_connections = max_connections
        self._connect_timeout = connect_timeout
        self._ef_search = ef_search
        self._limiter = trio.CapacityLimiter(max(1, max_connections - 1))
        self._db: PgDatabase | None = None
        self._writer: GroupCommitWriter[VectorWrite] | None = None

    async def on_start(self) -> None:
        """Connect and migrate (worker thread), then start the writer."""
        db = PgDatabase(
            self.url,
            components=("vectors",),
            max_size=self._max_connections,
            timeout=self._connect_timeout,
        )
        await trio.to_thread.run_sync(db.open, limiter=self._limiter)
        self._db = db
        self._writer = GroupCommitWriter(db, apply_pgvector_write)
        await self.ctx.nursery.start(self._writer.run)

    async def on_stop(self) -> None:
        """Commit what was accepted, then close the pool."""
        try:
            if self._writer is not None:
                await self._writer.aclose()
        finally:
            db, self._db = self._db, None
            if db is not None:
                with trio.CancelScope(shield=True):
                    await trio.to_thread.run_sync(db.close)

    async def receive(self, msg: VectorRequest) -> Any:
        """Writes go through the group-commit writer; reads to a worker thread."""
        if self._db is None or self._writer is None:
            raise StoreError(f"vector store {self.ctx.name!r} is not open")
        match msg:
            case CreateIndex() | DeleteIndex() | Upsert() | DeleteVectors():
                await self._writer.enqueue(msg, self.ctx.defer_reply())
                return None
            case Query() | ListIndexes() | DescribeIndex():
                return await self._read(msg)
        raise UnhandledMessage(
            f"vector store {self.ctx.name!r} does not handle {type(msg).__name__}"
        )

    async def _read(self, msg: VectorRead) -> Any:
        assert self._db is not None
        read = functools.partial(run_pgvector_read, op=msg, ef_search=self._ef_search)
        return await trio.to_thread.run_sync(self._db.read, read, limiter=self._limiter)
