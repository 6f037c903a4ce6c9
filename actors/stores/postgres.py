"""The Postgres store actor: the SQLite store's requests and replies, on a shared database.

```toml
[[actors]]
name = "store"
kind = "store"
factory = "actors.stores:PostgresStore"
options = { url = "${DATABASE_URL}" }
```

Several processes (``serve --workers N``, or several machines) may run a ``PostgresStore``
against one database. Writes of each process go through one writer thread that commits the
writes of many senders in one transaction (group commit) and acknowledges each only after
its commit; reads run on worker threads bounded by the actor's ``CapacityLimiter``. Nothing
is cached in memory, since other processes write too. A connection of its own listens for
the wake-ups other nodes send (``AwaitNotice``, see ``lease_messages``).
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeGuard

import trio

from actors.stores._errors import StoreError, StoreUnavailable
from actors.stores._pg import PgDatabase
from actors.stores._pglease import apply_lease_write, save_leased_runs_together
from actors.stores._pgnotify import Notices
from actors.stores._pgreads import BatchedRead, BatchedReads, run_pg_read
from actors.stores._pgwrites import apply_pg_write, save_messages_together
from actors.stores._writer import GroupCommitWriter, whole_batch_only
from actors.stores.lease_messages import (
    AwaitNotice,
    LeaseRequest,
    LeaseSupport,
    LeaseWrite,
    SaveLeasedRun,
)
from actors.stores.messages import (
    EnsureThread,
    GetMessages,
    GetWorkflowRun,
    LoadThread,
    SaveMessages,
    StoreRead,
    StoreRequest,
    StoreWrite,
)
from runtime import Actor, Reply, UnhandledMessage

__all__ = ["PostgresStore"]

_WRITE_TYPES: tuple[type, ...] = (*typing.get_args(StoreWrite), *typing.get_args(LeaseWrite))
_READ_TYPES: tuple[type, ...] = typing.get_args(StoreRead)
_LEASE_TYPES: tuple[type, ...] = typing.get_args(LeaseWrite)


def _is_write(msg: object) -> TypeGuard[StoreWrite | LeaseWrite]:
    return isinstance(msg, _WRITE_TYPES)


_TOGETHER: dict[type, Callable[[Any, Sequence[Any]], list[object]]] = {
    SaveMessages: save_messages_together,
    SaveLeasedRun: save_leased_runs_together,
}


class _Apply:
    """Applies the writes of a batch: one at a time (``__call__``), or all together with
    consecutive writes of one kind that merge (message saves, run saves) as one statement
    (``many``: a batch of turns or of steps costs one round trip instead of one each)."""

    def __call__(self, conn: Any, op: StoreWrite | LeaseWrite) -> object:
        if isinstance(op, _LEASE_TYPES):
            return apply_lease_write(conn, op)  # type: ignore[arg-type]
        return apply_pg_write(conn, op)  # type: ignore[arg-type]

    def many(self, conn: Any, ops: Sequence[StoreWrite | LeaseWrite]) -> list[object]:
        outcomes: list[object] = []
        start = 0
        while start < len(ops):
            kind = type(ops[start])
            end = start + 1
            while end < len(ops) and type(ops[end]) is kind:
                end += 1
            together = _TOGETHER.get(kind)
            if together is not None and end - start > 1:
                outcomes += together(conn, ops[start:end])
            else:
                end = start + 1
                outcomes.append(self(conn, ops[start]))
            start = end
        return outcomes


def _is_read(msg: object) -> TypeGuard[StoreRead]:
    return isinstance(msg, _READ_TYPES)


class PostgresStore(Actor):
    """A store actor (kind ``"store"``) over the Postgres database at ``url``.

    Handles every ``StoreRequest`` as ``SqliteStore`` does: a write is acknowledged only
    after the transaction that holds it committed; reads see committed data only; bad
    requests raise ``StoreError`` subclasses to the asker without crashing the actor.
    Migrations run in ``on_start`` (which raises ``StoreUnavailable`` when the database
    cannot be reached within ``connect_timeout`` seconds). While the database is down each
    request fails with ``StoreUnavailable`` after at most ``connect_timeout`` seconds; once
    it is back, requests succeed again without a restart. An asker that gives up on a
    write may still find it committed later; so may one that got ``StoreUnavailable``
    because the connection broke during the commit (every write is idempotent by id).
    """

    concurrency: ClassVar[int] = 256
    uses_nursery: ClassVar[bool] = True
    expected_errors: ClassVar[tuple[type[Exception], ...]] = (StoreError,)

    def __init__(
        self,
        url: str,
        *,
        max_connections: int = 8,
        connect_timeout: float = 5.0,
        max_batch: int = 512,
        queue_size: int = 1024,
    ) -> None:
        self.url = url
        self._max_connections = max_connections
        self._connect_timeout = connect_timeout
        self._max_batch = max_batch
        self._queue_size = queue_size
        self._db: PgDatabase | None = None
        self._writer: GroupCommitWriter[StoreWrite | LeaseWrite] | None = None
        self._batched: GroupCommitWriter[BatchedRead] | None = None
        # the writer and the batched reads hold one pooled connection each
        self._read_limiter = trio.CapacityLimiter(max(1, max_connections - 2))
        self._notices = Notices(url, connect_timeout=connect_timeout)

    async def on_start(self) -> None:
        """Connect and migrate on a worker thread, then start the writer and the listener."""
        db = PgDatabase(
            self.url,
            components=("store",),
            max_size=self._max_connections,
            timeout=self._connect_timeout,
        )
        await trio.to_thread.run_sync(db.open, limiter=self._read_limiter)
        self._db = db
        self._writer = GroupCommitWriter(
            db, _Apply(), max_batch=self._max_batch, queue_size=self._queue_size
        )
        await self.ctx.nursery.start(self._writer.run)
        self._batched = GroupCommitWriter(
            BatchedReads(db), whole_batch_only, max_batch=self._max_batch, thread_name="store-reads"
        )
        await self.ctx.nursery.start(self._batched.run)
        await self.ctx.nursery.start(self._notices.run)

    async def on_stop(self) -> None:
        """Commit and acknowledge the writes already accepted, then close the pool."""
        try:
            if self._batched is not None:
                await self._batched.aclose()
            if self._writer is not None:
                await self._writer.aclose()
        finally:
            db, self._db = self._db, None
            if db is not None:
                with trio.CancelScope(shield=True):  # bounded by the pool's close timeout
                    await trio.to_thread.run_sync(db.close)

    async def receive(self, msg: StoreRequest | LeaseRequest) -> Any:
        """Dispatch a write (lease writes included, see ``lease_messages``) to the
        group-commit writer and a read to a reader thread."""
        if self._db is None or self._writer is None:
            raise StoreError(f"store {self.ctx.name!r} is not open")
        if isinstance(msg, LeaseSupport):
            return True
        if isinstance(msg, AwaitNotice):
            reply = self.ctx.defer_reply()  # answered by a task: no handler held meanwhile
            if reply is not None:
                self.ctx.nursery.start_soon(self._answer_notice, msg, reply)
            return None
        if isinstance(msg, LoadThread):
            return await self._load_thread(msg)
        if _is_write(msg):
            # The writer answers the asker after the commit; this handler is free at once.
            await self._writer.enqueue(msg, self.ctx.defer_reply())
            return None
        if isinstance(msg, GetWorkflowRun) and self._batched is not None:
            # read with other runs' reads; the reader thread answers the asker
            await self._batched.enqueue(msg, self.ctx.defer_reply())
            return None
        if _is_read(msg):
            return await self._read(msg)
        raise UnhandledMessage(f"store {self.ctx.name!r} does not handle {type(msg).__name__}")

    async def _load_thread(self, msg: LoadThread) -> Any:
        """A known thread's messages, read together with the loads of other turns (one
        statement and one thread hand-off for all of them); a new thread is created first
        (a write acknowledged after its commit), so most turns commit nothing before they
        run."""
        assert self._batched is not None and self._writer is not None
        found = await self._batched.submit(msg)
        if found is not None:
            return found
        await self._writer.submit(EnsureThread(id=msg.thread_id, resource_id=msg.resource_id))
        return await self._read(GetMessages(thread_id=msg.thread_id, last=msg.last))

    async def _answer_notice(self, msg: AwaitNotice, reply: Reply) -> None:
        """Answer ``msg`` when its wake-up comes or it times out; a store stopping first
        answers ``StoreUnavailable``."""
        try:
            reply.set_value(await self._notices.wait(msg.key, msg.after, msg.timeout))
        except trio.Cancelled:
            reply.set_error(StoreUnavailable(f"store {self.ctx.name!r} stopped"))
            raise

    async def _read(self, msg: StoreRead) -> Any:
        assert self._db is not None
        read = functools.partial(run_pg_read, op=msg)
        return await trio.to_thread.run_sync(self._db.read, read, limiter=self._read_limiter)

    @property
    def commit_stats(self) -> tuple[int, int]:
        """(transactions committed, writes committed) by this incarnation's writer."""
        writer = self._writer
        return (0, 0) if writer is None else (writer.batches, writer.writes)
