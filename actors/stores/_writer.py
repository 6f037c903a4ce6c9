"""Group commit: one writer task turns writes from many concurrent tasks into few transactions.

Tasks call ``submit`` (or hand over an asker's ``Reply`` with ``enqueue``); the write waits in
a bounded queue. The writer task takes everything queued (up to ``max_batch``), applies it in
one transaction on the writer's own thread, commits, and only then answers each write's
reply with its own result. While one batch commits
the next one accumulates, so the number of commits (and fsyncs) falls as the number of
writers grows. The thread lives as long as ``run``: handing a batch to a waiting thread
costs about half of what starting a ``trio.to_thread`` call does.
"""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import apsw
import outcome
import trio

from actors.stores._errors import StoreError, StoreUnavailable
from actors.stores._sql import Database, Failure
from runtime import Reply

__all__ = ["GroupCommitWriter"]

W = TypeVar("W")
Apply = Callable[[apsw.Connection, W], object]
AfterCommit = Callable[[Sequence[W], Sequence[object]], None]
OnCommit = AfterCommit[W]


_Queued = tuple[W, Reply | None]


class GroupCommitWriter(Generic[W]):
    """Batches writes into one transaction per batch and acknowledges each after its commit.

    ``apply(conn, op)`` runs one write inside the transaction. ``after_commit(ops, outcomes)``,
    if given, runs on the same worker thread right after each commit, in commit order (the
    vector store uses it to update its in-memory index). ``on_commit(ops, outcomes)``, if
    given, runs on the Trio thread after each commit and before any of its writes is
    acknowledged (the SQLite store updates its cache there). Start ``run`` in a nursery first.
    """

    def __init__(
        self,
        db: Database,
        apply: Apply[W],
        *,
        queue_size: int = 1024,
        max_batch: int = 512,
        after_commit: AfterCommit[W] | None = None,
        on_commit: OnCommit[W] | None = None,
    ) -> None:
        self._db = db
        self._apply = apply
        self._after_commit = after_commit
        self._on_commit = on_commit
        self._max_batch = max_batch
        self._send, self._receive = trio.open_memory_channel[_Queued[W]](queue_size)
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._finished = trio.Event()
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
        one answer: the write's result or error, or ``StoreUnavailable`` if the writer stops
        before committing it. A reply abandoned before its batch starts skips the write.
        Cancelled while waiting for room: nothing was queued. Raises ``StoreUnavailable``
        once the writer is closed.
        """
        try:
            try:
                self._send.send_nowait((op, reply))
            except trio.WouldBlock:
                await self._send.send((op, reply))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise StoreUnavailable("the store is stopping and takes no more writes") from None

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The writer loop; returns after ``aclose`` once everything queued has committed.

        Cancellation waits for a batch in progress to commit (its thread is not abandoned)
        and then stops; writes still queued are answered with ``StoreUnavailable``, not
        committed. A failing batch (other than a write's own error) fails its writes and
        propagates. The writer thread is joined before this returns, whatever happens.
        """
        thread = threading.Thread(target=self._thread_main, name="store-writer", daemon=True)
        thread.start()
        try:
            task_status.started()
            async for first in self._receive:
                batch = [first]
                while len(batch) < self._max_batch:
                    try:
                        batch.append(self._receive.receive_nowait())
                    except (trio.WouldBlock, trio.EndOfChannel):
                        break
                live = [(op, reply) for op, reply in batch if reply is None or not reply.abandoned]
                if live:
                    await self._commit(live)
        finally:
            self._fail_queued()
            self._receive.close()
            self._jobs.put(None)
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(thread.join)
            self._finished.set()

    def _fail_queued(self) -> None:
        error = StoreUnavailable("the store stopped before this write was committed")
        while True:
            try:
                _, reply = self._receive.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel):
                return
            if reply is not None:
                reply.set_error(error)

    def _thread_main(self) -> None:
        while (job := self._jobs.get()) is not None:
            job()

    async def _on_thread(self, ops: Sequence[W]) -> list[object]:
        """``_in_thread(ops)`` on the writer thread; not cancellable (the commit finishes)."""
        task = trio.lowlevel.current_task()
        token = trio.lowlevel.current_trio_token()

        def job() -> None:
            result = outcome.capture(self._in_thread, ops)
            token.run_sync_soon(trio.lowlevel.reschedule, task, result)

        self._jobs.put(job)
        done: list[object] = await trio.lowlevel.wait_task_rescheduled(
            lambda _: trio.lowlevel.Abort.FAILED
        )
        return done

    async def _commit(self, batch: list[_Queued[W]]) -> None:
        ops = [op for op, _ in batch]
        try:
            outcomes = await self._on_thread(ops)
        except StoreError as exc:
            _fail_all(batch, functools.partial(type(exc), *exc.args))
            return
        except apsw.Error as exc:
            message = f"the write batch failed and was rolled back: {exc}"
            _fail_all(batch, functools.partial(StoreUnavailable, message))
            return
        except BaseException as exc:
            message = f"the write batch failed: {exc!r}"
            _fail_all(batch, functools.partial(StoreUnavailable, message))
            raise
        self.batches += 1
        self.writes += sum(not isinstance(o, Failure) for o in outcomes)
        if self._on_commit is not None:
            self._on_commit(ops, outcomes)
        for (_, reply), result in zip(batch, outcomes, strict=True):
            if reply is None:
                continue
            if isinstance(result, Failure):
                reply.set_error(result.error)
            else:
                reply.set_value(result)

    def _in_thread(self, ops: Sequence[W]) -> list[object]:
        outcomes: list[object] = list(self._db.write_batch(ops, self._apply))
        if self._after_commit is not None:
            self._after_commit(ops, outcomes)
        return outcomes

    async def aclose(self) -> None:
        """Stop taking writes and wait until ``run`` committed what was queued and returned."""
        self._send.close()
        await self._finished.wait()


def _fail_all(batch: Sequence[_Queued[W]], error: Callable[[], Exception]) -> None:
    """Answer every write of a batch that did not commit with its own copy of an error."""
    for _, reply in batch:
        if reply is not None:
            reply.set_error(error())
