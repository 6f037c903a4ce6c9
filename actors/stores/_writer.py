"""Group commit: one writer task turns writes from many concurrent tasks into few transactions.

Tasks call ``submit``; the write waits in a bounded queue. The writer task takes everything
queued (up to ``max_batch``), applies it in one transaction on the writer's own thread,
commits, and only then wakes each submitter with its own result. While one batch commits
the next one accumulates, so the number of commits (and fsyncs) falls as the number of
writers grows. The thread lives as long as ``run``: handing a batch to a waiting thread
costs about half of what starting a ``trio.to_thread`` call does.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import apsw
import outcome
import trio

from actors.stores._errors import StoreError, StoreUnavailable
from actors.stores._sql import Database, Failure

__all__ = ["GroupCommitWriter"]

W = TypeVar("W")
Apply = Callable[[apsw.Connection, W], object]
AfterCommit = Callable[[Sequence[W], Sequence[object]], None]
OnCommit = AfterCommit[W]


class _Pending(Generic[W]):
    __slots__ = ("abandoned", "done", "error", "op", "value")

    def __init__(self, op: W) -> None:
        self.op = op
        self.done = trio.Event()
        self.value: object = None
        self.error: Exception | None = None
        self.abandoned = False


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
        self._send, self._receive = trio.open_memory_channel[_Pending[W]](queue_size)
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self.batches = 0
        self.writes = 0

    async def submit(self, op: W) -> Any:
        """Queue one write and return its result once its transaction committed.

        Waits while the queue is full. Raises the write's own ``StoreError`` (the rest of its
        batch still commits), or ``StoreUnavailable`` when the whole batch failed. If cancelled
        while queued the write is dropped; if cancelled once its batch started, it may still
        commit, but it is not acknowledged.
        """
        pending = _Pending(op)
        await self._send.send(pending)
        try:
            await pending.done.wait()
        finally:
            if not pending.done.is_set():
                pending.abandoned = True
        if pending.error is not None:
            raise pending.error
        return pending.value

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The writer loop; returns after ``aclose``. A failing ``after_commit`` propagates.

        Cancellation waits for a batch in progress to commit (its thread is not abandoned)
        and then stops; writes still queued are not committed nor acknowledged. The writer
        thread is joined before this returns, whatever happens.
        """
        thread = threading.Thread(target=self._thread_main, name="store-writer", daemon=True)
        thread.start()
        try:
            task_status.started()
            async with self._receive:
                async for first in self._receive:
                    batch = [first]
                    while len(batch) < self._max_batch:
                        try:
                            batch.append(self._receive.receive_nowait())
                        except (trio.WouldBlock, trio.EndOfChannel):
                            break
                    live = [p for p in batch if not p.abandoned]
                    if live:
                        await self._commit(live)
        finally:
            self._jobs.put(None)
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(thread.join)

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

    async def _commit(self, batch: list[_Pending[W]]) -> None:
        ops = [p.op for p in batch]
        try:
            outcomes = await self._on_thread(ops)
        except StoreError as exc:
            for p in batch:
                p.error = type(exc)(*exc.args)
                p.done.set()
            return
        except apsw.Error as exc:
            for p in batch:
                p.error = StoreUnavailable(f"the write batch failed and was rolled back: {exc}")
                p.done.set()
            return
        self.batches += 1
        self.writes += sum(not isinstance(o, Failure) for o in outcomes)
        if self._on_commit is not None:
            self._on_commit(ops, outcomes)
        for p, result in zip(batch, outcomes, strict=True):
            if isinstance(result, Failure):
                p.error = result.error
            else:
                p.value = result
            p.done.set()

    def _in_thread(self, ops: Sequence[W]) -> list[object]:
        outcomes: list[object] = list(self._db.write_batch(ops, self._apply))
        if self._after_commit is not None:
            self._after_commit(ops, outcomes)
        return outcomes

    async def aclose(self) -> None:
        """Stop accepting writes; ``run`` commits what is queued and returns."""
        await self._send.aclose()
