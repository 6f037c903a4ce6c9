"""The observability actor: answers trace queries from a ``TraceStore``, and with
``persist_to`` keeps its traces in a store actor too."""

from __future__ import annotations

import logging

import msgspec
import trio

from actors.observability._persist import TracePersister
from actors.observability._records import Record
from actors.observability._store import TraceFilter, TraceStore, shared_store
from runtime import Actor, UnhandledMessage

log = logging.getLogger("actors.observability")

__all__ = ["GetTrace", "ListTraces", "Observability", "TracePage"]


class ListTraces(msgspec.Struct, frozen=True, tag=True):
    """The roots of the traces matching ``query``, a page of them."""

    query: TraceFilter


class GetTrace(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Every span of one trace (None when it is not kept)."""

    trace_id: str


class TracePage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of trace roots and how many match in all."""

    total: int
    roots: list[Record]


class Observability(Actor):
    """Serves queries on the spans of one ``TraceStore`` (kind ``observability``): the one
    given, else the process's ``shared_store()`` that ``processor()`` feeds, so a config
    needs only ``telemetry.span_processors = ["actors.observability:processor"]`` and an
    ``[[actors]]`` entry ``factory = "actors.observability:Observability"``.

    With ``persist_to`` (a store actor's name, ``options = { persist_to = "store" }``) the
    kept traces are also written to that store every ``flush_every`` seconds and once more
    as the actor stops, and read back when it starts, so they outlive a restart (see
    ``TracePersister``). A start whose store is missing raises ``LookupError``; one whose
    store fails raises its error, and the supervisor retries it.

    Queries run in worker threads (sorting a thousand traces is not free), a few at a time;
    a cancelled query leaves its thread to finish and drops the answer.
    """

    concurrency = 4
    uses_nursery = True
    restart_on_crash = False

    def __init__(
        self,
        store: TraceStore | None = None,
        *,
        persist_to: str | None = None,
        flush_every: float = 1.0,
    ) -> None:
        if flush_every <= 0:
            raise ValueError(f"flush_every must be a positive number of seconds, got {flush_every}")
        self.store = store if store is not None else shared_store()
        self.persist_to = persist_to
        self.flush_every = flush_every
        self._limiter = trio.CapacityLimiter(2)
        self._persister: TracePersister | None = None

    async def on_start(self) -> None:
        """With ``persist_to``: read the stored traces back, then write changes in the
        background."""
        if self.persist_to is None:
            return
        ref = self.ctx.lookup(self.persist_to, kind="store")
        if ref is None:
            raise LookupError(f"observability: no store named {self.persist_to!r}")
        self._persister = TracePersister(self.store, ref)
        restored = await self._persister.restore()
        if restored:
            log.info("observability: %d stored traces read back", restored)
        self.ctx.nursery.start_soon(self._flush_every, self._persister)

    async def on_stop(self) -> None:
        """Write what changed since the last flush (bounded by the grace period)."""
        if self._persister is not None:
            await self._persister.flush()

    async def _flush_every(self, persister: TracePersister) -> None:
        while True:
            await trio.sleep(self.flush_every)
            await persister.flush()

    async def receive(self, msg: ListTraces | GetTrace) -> TracePage | list[Record] | None:
        match msg:
            case ListTraces(query=query):
                total, roots = await trio.to_thread.run_sync(
                    self.store.roots, query, limiter=self._limiter
                )
                return TracePage(total=total, roots=roots)
            case GetTrace(trace_id=trace_id):
                return await trio.to_thread.run_sync(
                    self.store.trace, trace_id, limiter=self._limiter
                )
        raise UnhandledMessage(f"observability does not handle {type(msg).__name__}")
