"""Query batching for the vector store: concurrent queries share one worker-thread hop.

Each query is queued; one batcher task takes everything queued so far (up to ``max_batch``),
answers it in a single ``trio.to_thread.run_sync`` call, where the unfiltered queries of an
index become one matrix product (or one multi-threaded usearch search), and wakes the askers.
Under load this turns many thread hops and matrix-vector products into few matrix-matrix
products; an idle store answers a lone query at once (no waiting for a batch to fill).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import trio

from actors.stores._errors import StoreError
from actors.stores._vindex import QuerySpec, VectorIndex
from actors.stores.vector_messages import QueryResult

__all__ = ["QueryBatcher"]


@dataclass(slots=True)
class _Pending:
    index: VectorIndex
    spec: QuerySpec
    done: trio.Event = field(default_factory=trio.Event)
    result: list[QueryResult] | None = None
    error: Exception | None = None


class QueryBatcher:
    """Runs queued queries in batches on worker threads bounded by ``limiter``.

    ``run`` is the batcher task (start it in a nursery); ``query`` queues one query and waits
    for its answer. The queue is bounded (``queue_size``): when full, ``query`` waits.
    ``batches`` and ``queries`` count what was handed to worker threads so far.
    """

    def __init__(
        self, limiter: trio.CapacityLimiter, *, max_batch: int = 128, queue_size: int = 1024
    ) -> None:
        self._limiter = limiter
        self._max_batch = max_batch
        self._send, self._receive = trio.open_memory_channel[_Pending](queue_size)
        self.batches = 0
        self.queries = 0

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Answer queued queries until cancelled.

        A batch already handed to a worker thread finishes before cancellation takes effect
        (the thread cannot be interrupted); its askers are still woken. A failure while
        answering goes to the askers of that batch, never out of this task.
        """
        task_status.started()
        try:
            async for first in self._receive:
                batch = [first]
                while len(batch) < self._max_batch:
                    try:
                        batch.append(self._receive.receive_nowait())
                    except trio.WouldBlock:
                        break
                self.batches += 1
                self.queries += len(batch)
                try:
                    await trio.to_thread.run_sync(_answer, batch, limiter=self._limiter)
                finally:
                    for pending in batch:
                        pending.done.set()
        finally:
            # wake whoever is still queued (they get StoreError), then refuse new queries
            while True:
                try:
                    self._receive.receive_nowait().done.set()
                except (trio.WouldBlock, trio.EndOfChannel):
                    break
            self._receive.close()

    async def query(self, index: VectorIndex, spec: QuerySpec) -> list[QueryResult]:
        """Queue ``spec`` against ``index`` and return its matches.

        Raises the failure of the search (for example a usearch error) if there was one, and
        ``StoreError`` when the batcher stopped before answering.
        Cancelling the caller abandons the answer; the batch still runs for the others.
        """
        pending = _Pending(index=index, spec=spec)
        try:
            await self._send.send(pending)
        except trio.BrokenResourceError:
            raise StoreError(f"vector index {index.name!r} is closing") from None
        await pending.done.wait()
        if pending.error is not None:
            raise pending.error
        if pending.result is None:
            raise StoreError(f"vector index {index.name!r} closed before answering")
        return pending.result


def _answer(batch: Sequence[_Pending]) -> None:
    """Worker thread: answer the batch index by index, storing results or the failure."""
    by_index: dict[int, list[_Pending]] = {}
    for pending in batch:
        by_index.setdefault(id(pending.index), []).append(pending)
    for group in by_index.values():
        try:
            results = group[0].index.query_many([p.spec for p in group])
        except Exception as exc:  # handed to every asker of the group
            for pending in group:
                pending.error = exc
            continue
        for pending, result in zip(group, results, strict=True):
            pending.result = result
