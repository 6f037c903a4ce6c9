"""The observability actor: answers trace queries from a ``TraceStore``."""

from __future__ import annotations

import msgspec
import trio

from actors.observability._records import Record
from actors.observability._store import TraceFilter, TraceStore, shared_store
from runtime import Actor, UnhandledMessage

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

    Queries run in worker threads (sorting a thousand traces is not free), a few at a time;
    a cancelled query leaves its thread to finish and drops the answer.
    """

    concurrency = 4
    restart_on_crash = False

    def __init__(self, store: TraceStore | None = None) -> None:
        self.store = store if store is not None else shared_store()
        self._limiter = trio.CapacityLimiter(2)

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
