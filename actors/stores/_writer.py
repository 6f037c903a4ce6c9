"""Group commit: one writer thread turns writes from many concurrent tasks into few transactions.

Tasks call ``submit`` (or hand over an asker's ``Reply`` with ``enqueue``); the write joins a
bounded queue that the writer's own thread drains. The thread takes everything queued (up to
``max_batch``), applies it in one transaction, commits, and hands the outcomes back to the
Trio thread, which answers each write's reply with its own result. While one batch commits
the next one accumulates, so the number of commits (and fsyncs) falls as the number of
writers grows. No Trio task sits between the handler and the thread: a lone write costs one
hand-off each way and no extra scheduler pass.
"""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

import apsw
import outcome
import trio

from actors.stores._errors import StoreError, StoreUnavailable
from actors.stores._sql import Failure
from runtime import Reply

__all__ = ["BatchDatabase", "GroupCommitWriter", "whole_batch_only"]

W = TypeVar("W")
Apply = Callable[[Any, W], object]
AfterCommit = Callable[[Sequence[W], Sequence[object]], None]
OnCommit = AfterCommit[W]

_Queued = tuple[W, Reply | None]


def whole_batch_only(conn: Any, op: object) -> object:
    """The ``apply`` of a writer whose ``BatchDatabase`` answers each batch as a whole (the
    batched reads): it is never called one op at a time."""
    raise AssertionError("this batch database answers whole batches only")


class _Room:
    """Free places in the writer's queue: a counter plus the tasks waiting for a place (a
    ``trio.Semaphore`` without its per-call overhead, and released a batch at a time)."""

    __slots__ = ("_free", "_waiting")

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiting = trio.lowlevel.ParkingLot()

    def take_nowait(self) -> bool:
        """Take a place if one is free."""
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return True
        return False

    async def take(self) -> None:
        """Wait for a place, first come first served. Cancelled: took nothing."""
        await self._waiting.park()  # ``give`` hands the place over with the wake-up

    def give(self, count: int) -> None:
        """Free ``count`` places, handing them to waiting tasks first."""
        woken = len(self._waiting.unpark(count=count))
        self._free += count - woken


class BatchDatabase(Protocol):
    """What the writer needs of a database: apply ops in ONE transaction and commit it.

    ``write_batch`` returns one outcome per op (a ``Failure`` for an op that failed alone);
    it raises ``StoreError`` (typically ``StoreUnavailable``) when nothing was committed.
    SQLite's ``Database`` and Postgres's ``PgDatabase`` both are one.
    """

    def write_batch(self, ops: Sequence[Any], apply: Callable[[Any, Any], Any]) -> list[Any]:
        """Apply ``ops`` in one transaction; one outcome per op."""
        ...


class GroupCommitWriter(Generic[W]):
    """Batches writes into one transaction per batch and acknowledges each after its commit.

    ``apply(conn, op)`` runs one write inside the transaction. ``after_commit(ops, outcomes)``,
    if given, runs on the writer thread right after each commit, in commit order (the vector
    store uses it to update its in-memory index). ``on_commit(ops, outcomes)``, if given, runs
    on the Trio thread after each commit and before any of its writes is acknowledged (the
    SQLite store updates its cache there). Start ``run`` in a nursery first. The same
    batching serves reads that merge well (the Postgres store loads threads with it): their
    ``BatchDatabase`` answers a batch without a transaction.
    """

    def __init__(
        self,
        db: BatchDatabase,
        apply: Apply[W],
        *,
        queue_size: int = 1024,
        max_batch: int = 512,
        after_commit: AfterCommit[W] | None = None,
        on_commit: OnCommit[W] | None = None,
        thread_name: str = "store-writer",
    ) -> None:
        self._db = db
        self._thread_name = thread_name
        self._apply = apply
        self._after_commit = after_commit
        self._on_commit = on_commit
        self._max_batch = max_batch
        self._room = _Room(queue_size)
        self._jobs: queue.SimpleQueue[_Queued[W] | None] = queue.SimpleQueue()
        self._token: trio.lowlevel.TrioToken | None = None
        self._closed = False
        self._stop = trio.Event()
        self._finished = trio.Event()
        self._fatal: BaseException | None = None
        self.batches = 0
        self.writes = 0

    async def submit(self, op: W) -> Any:
        """Queue one write and return its result once its transaction committed.

        Waits while the queue is full. Raises the write's own ``StoreError`` (the rest of its
        batch still commits), or ``StoreUnavailable`` when the whole batch failed or the
        writer stopped first. If cancelled while queued the write is dropped; if cancelled
        once its batch started, it may still commit, but it is not acknowledged.
        """
        reply = Reply()
        await self.enqueue(op, reply)
        return await reply.wait()

    async def enqueue(self, op: W, reply: Reply | None) -> None:
        """Queue one write whose outcome goes to ``reply`` (None: nobody waits) after commit.

        Returns without a schedule point when the queue has room (the caller is a handler
        about to take its next message), else waits for room. ``reply`` always gets exactly
        one answer: the write's result, its own error, or ``StoreUnavailable`` when its batch
        failed. A reply abandoned before its batch starts skips the write. Cancelled while
        waiting for room: nothing was queued. Raises ``StoreUnavailable`` once the writer
        is closed or stopped.
        """
        self._check_open()
        if not self._room.take_nowait():
            await self._room.take()
            try:
                self._check_open()
            except StoreUnavailable:
                self._room.give(1)
                raise
        self._jobs.put((op, reply))

    def _check_open(self) -> None:
        if self._closed or self._token is None:
            raise StoreUnavailable("the store is stopping and takes no more writes")

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the writer thread until ``aclose`` (returns) or a batch breaks it (raises).

        A batch that fails with something other than a write's own error or a database
        error answers its writes with ``StoreUnavailable`` and then propagates here. When
        this ends, for any reason including cancellation, intake stops and the thread
        commits and answers what was already queued before it is joined.
        """
        self._token = trio.lowlevel.current_trio_token()
        thread = threading.Thread(target=self._thread_main, name=self._thread_name, daemon=True)
        thread.start()
        try:
            task_status.started()
            await self._stop.wait()
            if self._fatal is not None:
                raise self._fatal
        finally:
            self._closed = True
            self._jobs.put(None)
            with trio.CancelScope(shield=True):
                # Outcomes are handed back with run_sync_soon, in order, so every batch the
                # thread finished has been answered once the join's own result arrives.
                await trio.to_thread.run_sync(thread.join)
            self._finished.set()

    async def aclose(self) -> None:
        """Stop taking writes and wait until what was queued committed and ``run`` returned.

        Cancellation stops the wait only; the thread still finishes the queue.
        """
        self._closed = True
        self._stop.set()
        await self._finished.wait()

    # -- the writer thread -----------------------------------------------------------------
    def _thread_main(self) -> None:
        token = self._token
        assert token is not None
        more = True
        while more:
            first = self._jobs.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    more = False
                    break
                batch.append(item)
            live = [job for job in batch if job[1] is None or not job[1].abandoned]
            result = outcome.capture(self._in_thread, [op for op, _ in live]) if live else None
            token.run_sync_soon(self._deliver, len(batch), live, result)

    def _in_thread(self, ops: Sequence[W]) -> list[object]:
        outcomes: list[object] = list(self._db.write_batch(ops, self._apply))
        if self._after_commit is not None:
            self._after_commit(ops, outcomes)
        return outcomes

    # -- back on the Trio thread -----------------------------------------------------------
    def _deliver(
        self, taken: int, batch: list[_Queued[W]], result: outcome.Outcome[list[object]] | None
    ) -> None:
        """Answer one batch's writes. A ``run_sync_soon`` callback must not raise (it would
        break the Trio loop), so any failure here fails the batch instead."""
        self._room.give(taken)
        if result is None:
            return
        try:
            self._answer(batch, result.unwrap())
        except Exception as exc:
            self._fail_batch(batch, exc)

    def _answer(self, batch: list[_Queued[W]], outcomes: list[object]) -> None:
        self.batches += 1
        self.writes += sum(not isinstance(o, Failure) for o in outcomes)
        if self._on_commit is not None:  # if it raises, the batch committed but fails
            self._on_commit([op for op, _ in batch], outcomes)
        for (_, reply), answer in zip(batch, outcomes, strict=True):
            if reply is None:
                continue
            if isinstance(answer, Failure):
                reply.set_error(answer.error)
            else:
                reply.set_value(answer)

    def _fail_batch(self, batch: list[_Queued[W]], error: BaseException) -> None:
        if isinstance(error, StoreError):
            make: Callable[[], Exception] = functools.partial(type(error), *error.args)
        elif isinstance(error, apsw.Error):
            message = f"the write batch failed and was rolled back: {error}"
            make = functools.partial(StoreUnavailable, message)
        else:
            make = functools.partial(StoreUnavailable, f"the write batch failed: {error!r}")
            if self._fatal is None:
                self._fatal = error
            self._stop.set()
        for _, reply in batch:
            if reply is not None:
                reply.set_error(make())
