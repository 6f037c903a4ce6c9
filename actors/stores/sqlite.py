"""The SQLite store actor: durable records, threads, messages, working memory, workflow runs.

```python
ref = await rt.spawn(SqliteStore, "data/mastra.db", name="store", kind="store")
await ref.ask(SaveThread(id="t1", resource_id="u1"))      # acknowledged after commit
msgs = await ref.ask(GetMessages(thread_id="t1", last=20))
```

Writes from every sender go through one writer task (group commit, see ``_writer``); reads run
on worker threads bounded by the actor's own ``CapacityLimiter`` and, for a file, on their own
WAL connections so they never wait for the writer.
"""

from __future__ import annotations

import functools
import typing
from typing import Any, ClassVar, TypeGuard

import trio

from actors.stores._errors import StoreError
from actors.stores._reads import BatchedPointReads, run_read
from actors.stores._recent import RecentCache
from actors.stores._sql import Database, Synchronous
from actors.stores._writer import GroupCommitWriter, whole_batch_only
from actors.stores._writes import apply_write
from actors.stores.messages import (
    EnsureThread,
    GetMessages,
    GetWorkflowRun,
    LoadThread,
    StoreRead,
    StoreRequest,
    StoreWrite,
)
from runtime import Actor, UnhandledMessage

__all__ = ["SqliteStore"]

_WRITE_TYPES: tuple[type, ...] = typing.get_args(StoreWrite)
_READ_TYPES: tuple[type, ...] = typing.get_args(StoreRead)


def _is_write(msg: object) -> TypeGuard[StoreWrite]:
    return isinstance(msg, _WRITE_TYPES)


def _is_read(msg: object) -> TypeGuard[StoreRead]:
    return isinstance(msg, _READ_TYPES)


class SqliteStore(Actor):
    """A store actor (kind ``"store"``) over one SQLite database file or ``":memory:"``.

    Handles every ``StoreRequest``: writes are acknowledged only after the transaction that
    holds them committed; reads see committed data only. Bad requests raise ``StoreError``
    subclasses to the asker without crashing the actor. Schema migrations run in ``on_start``.
    An asker that gives up (timeout) on a write may still find it committed later.

    With ``cache`` on (the default) the store answers ``GetMessages`` of recently used
    threads and ``EnsureThread`` of known threads from memory, kept current by every commit;
    it assumes this actor is the only writer of its database file.
    """

    concurrency: ClassVar[int] = 256
    uses_nursery: ClassVar[bool] = True
    expected_errors: ClassVar[tuple[type[Exception], ...]] = (StoreError,)
    single_process: ClassVar[str] = (
        "a SQLite database file belongs to one process; several processes share"
        " actors.stores:PostgresStore (url = ...)"
    )

    def __init__(
        self,
        path: str = ":memory:",
        *,
        readers: int = 4,
        synchronous: Synchronous = "full",
        max_batch: int = 512,
        queue_size: int = 1024,
        cache: bool = True,
    ) -> None:
        self.path = path
        self._readers = readers
        self._synchronous: Synchronous = synchronous
        self._max_batch = max_batch
        self._queue_size = queue_size
        self._db: Database | None = None
        self._writer: GroupCommitWriter[StoreWrite | LoadThread] | None = None
        self._point_reads: GroupCommitWriter[StoreRead] | None = None
        self._read_limiter = trio.CapacityLimiter(readers)
        self._cache = RecentCache() if cache else None

    async def on_start(self) -> None:
        """Open the database (migrating it) on a worker thread and start the writer task."""
        db = await trio.to_thread.run_sync(
            functools.partial(
                Database, self.path, readers=self._readers, synchronous=self._synchronous
            ),
            limiter=self._read_limiter,
        )
        self._db = db
        cache = self._cache
        self._writer = GroupCommitWriter(
            db,
            apply_write,
            max_batch=self._max_batch,
            queue_size=self._queue_size,
            on_commit=None if cache is None else cache.committed,
        )
        await self.ctx.nursery.start(self._writer.run)
        self._point_reads = GroupCommitWriter(
            BatchedPointReads(db),
            whole_batch_only,
            max_batch=self._max_batch,
            thread_name="store-reads",
        )
        await self.ctx.nursery.start(self._point_reads.run)

    async def on_stop(self) -> None:
        """Commit and acknowledge the writes already accepted, then close the connections.

        If the grace period runs out first, the connections are closed anyway (after the
        batch in progress) so the file is free for the next incarnation; writes still
        queued then fail with ``StoreUnavailable``.
        """
        try:
            if self._point_reads is not None:
                await self._point_reads.aclose()
            if self._writer is not None:
                await self._writer.aclose()
        finally:
            db, self._db = self._db, None
            if db is not None:
                with trio.CancelScope(shield=True):  # bounded by one batch
                    await trio.to_thread.run_sync(db.close)

    async def receive(self, msg: StoreRequest) -> Any:
        """Dispatch a write to the group-commit writer and a read to a reader thread."""
        if self._db is None or self._writer is None:
            raise StoreError(f"store {self.ctx.name!r} is not open")
        cache = self._cache
        if isinstance(msg, LoadThread):
            ensure = EnsureThread(id=msg.thread_id, resource_id=msg.resource_id)
            if self._known_thread(ensure):
                return await self.receive(GetMessages(thread_id=msg.thread_id, last=msg.last))
            # created if need be and read in one transaction; the writer answers the asker
            await self._writer.enqueue(msg, self.ctx.defer_reply())
            return None
        if _is_write(msg):
            if not self._known_thread(msg):
                # The writer answers the asker after the commit; this handler is free at once.
                await self._writer.enqueue(msg, self.ctx.defer_reply())
            return None
        if isinstance(msg, GetWorkflowRun) and self._point_reads is not None:
            # read with other runs' reads; the reader thread answers the asker
            await self._point_reads.enqueue(msg, self.ctx.defer_reply())
            return None
        if _is_read(msg):
            if cache is not None and isinstance(msg, GetMessages):
                return await self._cached_messages(cache, msg)
            return await self._read(msg)
        raise UnhandledMessage(f"store {self.ctx.name!r} does not handle {type(msg).__name__}")

    def _known_thread(self, msg: StoreWrite) -> bool:
        """True for an ``EnsureThread`` of a thread the cache knows exists (nothing to do)."""
        cache = self._cache
        return cache is not None and isinstance(msg, EnsureThread) and cache.knows_thread(msg.id)

    async def _read(self, msg: StoreRead) -> Any:
        assert self._db is not None
        read = functools.partial(run_read, op=msg)
        return await trio.to_thread.run_sync(self._db.read, read, limiter=self._read_limiter)

    async def _cached_messages(self, cache: RecentCache, msg: GetMessages) -> Any:
        found = cache.messages(msg)
        if found is not None:
            return found
        cache.reading(msg.thread_id)
        records = None
        try:
            records = await self._read(msg)
        finally:
            cache.read(msg, records)
        return records

    @property
    def commit_stats(self) -> tuple[int, int]:
        """(transactions committed, writes committed) by this incarnation's writer."""
        writer = self._writer
        return (0, 0) if writer is None else (writer.batches, writer.writes)
